package dev.zeebeambient.enforcer.lifecycle;

import dev.zeebeambient.enforcer.backstop.Backstop;
import dev.zeebeambient.enforcer.bootstrap.Bootstrapper;
import dev.zeebeambient.enforcer.bootstrap.Cleanup;
import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.kube.GatewayServices;
import dev.zeebeambient.enforcer.kube.NamespaceCache;
import dev.zeebeambient.enforcer.kube.SourceResolver;
import dev.zeebeambient.enforcer.kube.TargetServices;
import dev.zeebeambient.enforcer.leader.Leadership;
import dev.zeebeambient.enforcer.tls.SelfManagedTls;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.ShutdownDelayInitiatedEvent;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.util.List;

/**
 * The one place that starts and stops the long-running parts, in an order a reader can see:
 * <ol>
 * <li>caches every decision reads: namespace labels, the target Services, the other gateway Services;</li>
 * <li>the leader-only parts (bootstrapper, backstop, self-managed TLS), which register what they
 * do on becoming leader, and the comparison with the installed admission objects;</li>
 * <li>leadership last, so no "became leader" callback can be missed.</li>
 * </ol>
 * Shutdown: on SIGTERM the Lease is released at once (another replica takes over the writes
 * within a retry period) while the HTTPS endpoint keeps answering for {@code quarkus.shutdown.delay},
 * so admission calls routed here during a rollout are still answered; then the parts stop in
 * reverse order, before Quarkus closes the Kubernetes client.
 * <p>
 * {@code enforcer.bootstrap.mode=cleanup} is its own path: no informer, no Lease, no backstop;
 * it removes what the enforcer manages and exits (see {@code CleanupModeConfig} for the listener).
 */
@ApplicationScoped
public class Lifecycle {

    private static final Logger LOG = Logger.getLogger(Lifecycle.class);

    private final EnforcerConfig config;
    private final KubernetesClient client;
    private final NamespaceCache namespaces;
    private final TargetServices targetServices;
    private final GatewayServices gatewayServices;
    private final SourceResolver sources;
    private final Bootstrapper bootstrapper;
    private final Backstop backstop;
    private final SelfManagedTls tls;
    private final Leadership leadership;
    private final dev.zeebeambient.enforcer.install.InstalledConfiguration installed;
    private volatile Thread starting;

    public Lifecycle(EnforcerConfig config, KubernetesClient client, NamespaceCache namespaces, TargetServices targetServices,
            GatewayServices gatewayServices, SourceResolver sources, Bootstrapper bootstrapper, Backstop backstop, SelfManagedTls tls, Leadership leadership,
            dev.zeebeambient.enforcer.install.InstalledConfiguration installed) {
        this.installed = installed;
        this.config = config;
        this.client = client;
        this.namespaces = namespaces;
        this.targetServices = targetServices;
        this.gatewayServices = gatewayServices;
        this.sources = sources;
        this.bootstrapper = bootstrapper;
        this.backstop = backstop;
        this.tls = tls;
        this.leadership = leadership;
    }

    void onStart(@Observes StartupEvent ev) {
        if (config.bootstrap().cleanup()) {
            Thread t = new Thread(this::cleanupAndExit, "cleanup");
            t.setDaemon(true);
            t.start();
            return;
        }
        // Off the main thread: the first use of the Kubernetes client (its classes, HTTP client, TLS
        // set-up) costs ~0.5-0.9 s, which would otherwise delay Quarkus opening its listeners; now
        // both happen at once. Readiness still waits for the namespace cache (HealthChecks).
        starting = new Thread(this::startParts, "lifecycle-start");
        starting.start();
    }

    private void startParts() {
        try {
            startEachPart();
        } catch (RuntimeException e) {
            // as a failing StartupEvent observer would: do not run half-started and never ready
            LOG.errorf(e, "lifecycle: a part failed to start (%s); exiting", e.getMessage());
            Quarkus.asyncExit(1);
        }
    }

    private void startEachPart() {
        // each part starts without blocking (informers list in the background); the line says what each start cost
        StringBuilder took = new StringBuilder();
        timed("namespace cache", namespaces::start, took);
        timed("target services", targetServices::start, took);
        timed("gateway services", gatewayServices::start, took);
        timed("bootstrapper", bootstrapper::start, took);
        timed("backstop", backstop::start, took);
        timed("self-managed tls", tls::start, took);
        timed("installed configuration", installed::start, took);
        timed("leader election", leadership::begin, took);
        LOG.infof("lifecycle: parts started (%s)", took);
    }

    /** A SIGTERM during start: let the parts finish starting so that stopping them stops everything. */
    private void awaitStart() {
        Thread t = starting;
        if (t != null) {
            try {
                t.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void timed(String part, Runnable start, StringBuilder took) {
        long t = System.nanoTime();
        start.run();
        took.append(took.length() == 0 ? "" : ", ").append(part).append(' ').append((System.nanoTime() - t) / 1_000_000).append(" ms");
    }

    /** SIGTERM with a shutdown delay: give up the Lease now, keep answering admission calls. */
    void onShutdownDelay(@Observes ShutdownDelayInitiatedEvent ev) {
        awaitStart();
        leadership.end();
    }

    void onStop(@Observes ShutdownEvent ev) {
        awaitStart();
        leadership.end(); // a no-op when the delay already released it
        installed.stop();
        tls.stop();
        backstop.stop();
        bootstrapper.stop();
        gatewayServices.stop();
        targetServices.stop();
        namespaces.stop();
        sources.stop();
    }

    private void cleanupAndExit() {
        var scaleDown = config.bootstrap().cleanupScaleDown();
        if (scaleDown.isPresent()) {
            try {
                LOG.infof("cleanup: scaling Deployment %s/%s to 0 and waiting for the leader Lease %s to be free", config.ownNamespace(),
                        scaleDown.get(), config.leaderElection().leaseName());
                var blocked = new dev.zeebeambient.enforcer.bootstrap.ScaleDown(client, java.time.Clock.systemUTC())
                        .run(config.ownNamespace(), scaleDown.get(), config.leaderElection().leaseName(),
                                config.bootstrap().cleanupScaleDownTimeout());
                if (blocked.isPresent()) {
                    LOG.errorf("cleanup: %s", blocked.get());
                    Quarkus.asyncExit(1);
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                Quarkus.asyncExit(1);
                return;
            }
        }
        Cleanup cleanup = new Cleanup(client, config);
        List<Cleanup.Outcome> outcomes = new java.util.ArrayList<>(cleanup.run());
        if (config.selfManagedTls().enabled()) {
            outcomes.add(cleanup.deleteSelfManagedSecret(config.ownNamespace()));
        }
        outcomes.addAll(cleanup.deleteLeftovers(config.ownNamespace()));
        // nothing runs any more (ScaleDown waited for that, or the caller scaled down): a Lease still held is kept
        outcomes.add(cleanup.deleteLease(config.ownNamespace(), config.leaderElection().leaseName(), java.time.Instant.now()));
        outcomes.forEach(o -> LOG.infof("cleanup: %s %s%s", o.result().tag(), o.ref(), o.detail() == null ? "" : " (" + o.detail() + ")"));
        Quarkus.asyncExit(outcomes.stream().anyMatch(o -> o.result() == Cleanup.Result.ERROR) ? 1 : 0);
    }
}
