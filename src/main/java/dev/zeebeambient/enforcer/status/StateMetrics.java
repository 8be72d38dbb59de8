package dev.zeebeambient.enforcer.status;

import dev.zeebeambient.enforcer.backstop.Backstop;
import dev.zeebeambient.enforcer.bootstrap.Bootstrapper;
import dev.zeebeambient.enforcer.kube.Watches;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;

/**
 * What {@code /status} and the {@code bootstrap} health group say, as gauges the shipped alerts
 * read (README "Alerts"): failing watches, bootstrap converged, waypoints not programmed, clients
 * bypassing the waypoint, and the seconds left on the served certificate. Each is computed at
 * scrape time from the same state the status endpoint shows, so the two cannot disagree.
 */
@ApplicationScoped
public class StateMetrics {

    private final MeterRegistry registry;
    private final Watches watches;
    private final Bootstrapper bootstrapper;
    private final Backstop backstop;
    private final Path certificate;
    private final dev.zeebeambient.enforcer.install.InstalledConfiguration installed;
    private volatile CertificateExpiry expiry = new CertificateExpiry(null, -1, Double.NaN);

    public StateMetrics(MeterRegistry registry, Watches watches, Bootstrapper bootstrapper, Backstop backstop,
            @ConfigProperty(name = "quarkus.tls.admission.key-store.pem.0.cert") String certificate,
            dev.zeebeambient.enforcer.install.InstalledConfiguration installed) {
        this.installed = installed;
        this.registry = registry;
        this.watches = watches;
        this.bootstrapper = bootstrapper;
        this.backstop = backstop;
        this.certificate = Path.of(certificate);
    }

    void register(@Observes StartupEvent start) {
        Gauge.builder("zeebe.ambient.watches.failing", watches, w -> w.problems().size())
                .description("watches that fail (a missing permission or CRD): /status and the bootstrap health group name them")
                .register(registry);
        Gauge.builder("zeebe.ambient.bootstrap.converged", bootstrapper, b -> converged(b.enabled(), b.status().phase()))
                .description("1 when the waypoint, gRPC Service, DestinationRule and defaults are in their desired state (or bootstrap is off), "
                        + "0 when not; NaN on a follower, which does not know")
                .register(registry);
        Gauge.builder("zeebe.ambient.bootstrap.gateways.not.programmed", bootstrapper,
                b -> b.enabled() ? b.status().gateways().stream().filter(g -> !g.programmed()).count() : 0)
                .description("waypoint Gateways istiod has not reported Programmed")
                .register(registry);
        // both kinds: a pod enrolled while it ran keeps the connections it opened before, outside the waypoint, until replaced
        Gauge.builder("zeebe.ambient.bypassing.clients", backstop,
                b -> b.bypassing().values().stream().mapToInt(java.util.Map::size).sum()
                        + b.enrolledWhileRunning().values().stream().mapToInt(java.util.Map::size).sum())
                .description("client pods whose connections bypass the waypoint: clients of a Service not behind it, and pods "
                        + "enrolled while running until they are replaced (both listed in /status)")
                .register(registry);
        Gauge.builder("zeebe.ambient.configuration.differences", installed, i -> i.report() == null ? 0 : i.report().differences().size())
                .description("settings the webhook or admission policies were rendered with that this replica does not run with (/status names them)")
                .register(registry);
        Gauge.builder("zeebe.ambient.tls.certificate.expiry.seconds", this, StateMetrics::secondsLeft)
                .description("seconds until the served certificate expires (NaN when it cannot be read)")
                .register(registry);
        // NaN above hides an unreadable certificate from every threshold: this says so, for its own alert
        Gauge.builder("zeebe.ambient.tls.certificate.readable", this, m -> Double.isNaN(m.secondsLeft()) ? 0 : 1)
                .description("1 when the served certificate file can be read and parsed, 0 when not (its expiry is then NaN)")
                .register(registry);
    }

    /**
     * A follower only observes: it cannot vouch for the leader's pass. It reports NaN, which {@code max()} skips, so the
     * alert ({@code max(...) < 1}) sees the leader's 0 instead of a follower's 1.
     */
    static double converged(boolean enabled, dev.zeebeambient.enforcer.bootstrap.Phase phase) {
        if (!enabled) {
            return 1;
        }
        if (phase == dev.zeebeambient.enforcer.bootstrap.Phase.OBSERVING) {
            return Double.NaN;
        }
        return phase.ready() ? 1 : 0;
    }

    /** Re-read only when the file changes (cert-manager and self-managed TLS replace it in place). */
    double secondsLeft() {
        try {
            FileTime modified = Files.getLastModifiedTime(certificate);
            long size = Files.size(certificate);
            CertificateExpiry e = expiry;
            if (!modified.equals(e.modified()) || size != e.size()) {
                X509Certificate first = (X509Certificate) CertificateFactory.getInstance("X.509")
                        .generateCertificate(new ByteArrayInputStream(Files.readAllBytes(certificate)));
                e = new CertificateExpiry(modified, size, first.getNotAfter().getTime() / 1000.0);
                expiry = e;
            }
            return e.notAfterEpochSeconds() - System.currentTimeMillis() / 1000.0;
        } catch (Exception unreadable) {
            return Double.NaN; // no alert from a missing file: readiness already reports the certificate
        }
    }

    record CertificateExpiry(FileTime modified, long size, double notAfterEpochSeconds) {
    }
}
