package dev.zeebeambient.enforcer.health;

import dev.zeebeambient.enforcer.bootstrap.BootstrapStatus;
import dev.zeebeambient.enforcer.bootstrap.Bootstrapper;
import dev.zeebeambient.enforcer.kube.Watches;
import dev.zeebeambient.enforcer.leader.Leadership;
import io.smallrye.health.api.HealthGroup;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;

/**
 * {@code /q/health/group/bootstrap}: DOWN, with what is missing and how to fix it, until the L7
 * setup has converged, while a watch fails (e.g. a missing permission), and when no replica has
 * held the leader Lease for several lease durations. Deliberately not a readiness check: the
 * webhook serves regardless.
 */
@HealthGroup("bootstrap")
@ApplicationScoped
public class BootstrapHealth implements HealthCheck {

    private final Bootstrapper bootstrapper;
    private final Watches watches;
    private final Leadership leadership;

    public BootstrapHealth(Bootstrapper bootstrapper, Watches watches, Leadership leadership) {
        this.bootstrapper = bootstrapper;
        this.watches = watches;
        this.leadership = leadership;
    }

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder b = HealthCheckResponse.named("bootstrap");
        boolean up = true;
        if (!bootstrapper.enabled()) {
            b.withData("phase", "disabled");
        } else {
            BootstrapStatus s = bootstrapper.status();
            up = s.ready();
            b.withData("phase", s.phase().tag());
            if (s.error() != null) {
                b.withData("message", s.error());
            }
            // what istiod reports on each waypoint: informational, not a readiness condition (no istiod, no waypoint)
            s.gateways().forEach(g -> b.withData(g.ref(), g.programmed() ? "programmed by istiod: " + String.join(", ", g.addresses())
                    : g.message()));
        }
        var problems = watches.problems();
        if (!problems.isEmpty()) {
            up = false;
            problems.forEach((what, p) -> b.withData("watch " + what,
                    (p.httpCode() == 403 ? "forbidden: needs " + p.needs() : "failing") + ": " + p.message()));
        }
        String leaderless = leadership.leaderlessProblem();
        if (leaderless != null) {
            up = false;
            b.withData("leader", leaderless);
        }
        return b.status(up).build();
    }
}
