package dev.zeebeambient.enforcer.leader;

import dev.zeebeambient.enforcer.config.EnforcerConfig;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Leader election on a {@code Lease} in the enforcer's namespace: with several replicas only the
 * leader writes (bootstrapper, backstop). Every replica keeps serving admission requests.
 */
@ApplicationScoped
public class Leadership {

    private static final Logger LOG = Logger.getLogger(Leadership.class);

    private final KubernetesClient client;
    private final EnforcerConfig config;
    private final String identity;
    private final List<Runnable> onLeading = new CopyOnWriteArrayList<>();
    private volatile boolean leader;
    private volatile String holder;
    private volatile boolean stopped;
    private volatile CompletableFuture<?> running;

    public Leadership(KubernetesClient client, EnforcerConfig config) {
        this.client = client;
        this.config = config;
        this.identity = config.bootstrap().leaderElection().identity()
                .orElseGet(() -> System.getenv().getOrDefault("HOSTNAME", "enforcer") + "-" + UUID.randomUUID().toString().substring(0, 8));
    }

    void start(@Observes StartupEvent ev) {
        if (!"cleanup".equals(config.bootstrap().mode())) {
            begin(); // a cleanup run does not compete for the Lease
        }
    }

    /** Starts competing for the Lease (at start-up; tests start extra contenders). */
    public void begin() {
        stopped = false;
        if (!config.bootstrap().leaderElection().enabled()) {
            leader = true;
            holder = identity;
            return;
        }
        elect();
    }

    void stop(@Observes ShutdownEvent ev) {
        end();
    }

    /** Stops competing and releases the Lease if held. */
    public void end() {
        stopped = true;
        CompletableFuture<?> r = running;
        if (r != null) {
            r.cancel(true); // releases the lease (releaseOnCancel)
        }
    }

    private void elect() {
        EnforcerConfig.LeaderElection le = config.bootstrap().leaderElection();
        String lease = config.ownNamespace() + "/" + le.leaseName();
        running = client.leaderElector().withConfig(new LeaderElectionConfigBuilder()
                .withName(le.leaseName())
                .withLock(new LeaseLock(config.ownNamespace(), le.leaseName(), identity))
                .withLeaseDuration(le.leaseDuration())
                .withRenewDeadline(le.renewDeadline())
                .withRetryPeriod(le.retryPeriod())
                .withReleaseOnCancel(true)
                .withLeaderCallbacks(new LeaderCallbacks(
                        () -> {
                            leader = true;
                            LOG.infof("%s leads (Lease %s): this replica writes", identity, lease);
                            onLeading.forEach(Runnable::run);
                        },
                        () -> {
                            leader = false;
                            LOG.infof("%s stopped leading (Lease %s)", identity, lease);
                        },
                        id -> holder = id))
                .build()).build().start();
        if (stopped) {
            running.cancel(true); // end() ran while this elector was being created
        }
        running.whenComplete((v, t) -> {
            leader = false;
            if (!stopped) {
                if (t != null && !(t instanceof java.util.concurrent.CancellationException)) {
                    LOG.warnf("leader election on Lease %s ended (%s); retrying", lease, t.toString());
                }
                elect(); // lost or failed: compete again
            }
        });
    }

    public boolean isLeader() {
        return leader;
    }

    public String identity() {
        return identity;
    }

    /** The identity holding the Lease, as last observed. */
    public String holder() {
        return holder;
    }

    /** Runs whenever this replica becomes leader (e.g. an immediate bootstrap pass). */
    public void onLeading(Runnable r) {
        onLeading.add(r);
    }
}
