package dev.zeebeambient.enforcer.bootstrap;

import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.leader.Leadership;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@link Convergence} at start-up and then periodically (drift repair), with backoff while
 * preconditions are missing. Only the leader writes; the others observe. Never fails start-up:
 * whatever happens here, the webhook keeps serving.
 */
@ApplicationScoped
public class Bootstrapper {

    private static final Logger LOG = Logger.getLogger(Bootstrapper.class);
    private static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);

    private final KubernetesClient client;
    private final EnforcerConfig config;
    private final Leadership leadership;
    private ScheduledExecutorService scheduler;
    private volatile BootstrapStatus status = BootstrapStatus.starting();
    private final java.util.concurrent.atomic.AtomicBoolean repairPending = new java.util.concurrent.atomic.AtomicBoolean();
    private final java.util.Set<String> watched = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final List<io.fabric8.kubernetes.client.informers.SharedIndexInformer<?>> informers =
            new java.util.concurrent.CopyOnWriteArrayList<>();
    private Duration backoff = FIRST_BACKOFF;

    public Bootstrapper(KubernetesClient client, EnforcerConfig config, Leadership leadership) {
        this.client = client;
        this.config = config;
        this.leadership = leadership;
    }

    void start(@Observes StartupEvent ev) {
        if (!config.bootstrap().enabled()) {
            return;
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bootstrapper");
            t.setDaemon(true);
            return t;
        });
        if ("cleanup".equals(config.bootstrap().mode())) {
            scheduler.execute(this::cleanupAndExit);
            return;
        }
        leadership.onLeading(() -> scheduler.execute(this::passOnce));
        scheduler.execute(this::loop);
    }

    void stop(@Observes ShutdownEvent ev) {
        informers.forEach(io.fabric8.kubernetes.client.informers.SharedIndexInformer::stop);
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
    }

    /**
     * Drift repair without waiting for the resync: watch our objects (by the managed-by label) and
     * run a pass soon after one is edited or deleted. Our own no-op applies write nothing, so they
     * cause no event and no loop. Started once the kinds exist (after a converged pass).
     */
    private void watchManagedObjects(BootstrapStatus converged) {
        // every object we write, the gRPC Service included (the selector does not matter for watching)
        Map<dev.zeebeambient.enforcer.detection.Target, Map<String, String>> any = new java.util.HashMap<>();
        config.targets().forEach(t -> any.put(t, Map.of("any", "any")));
        for (var desired : DesiredState.build(config, any)) {
            String key = desired.getApiVersion() + "/" + desired.getKind() + "/" + desired.getMetadata().getNamespace();
            if (watched.contains(key)) {
                continue;
            }
            var informer = client.genericKubernetesResources(desired.getApiVersion(), desired.getKind())
                    .inNamespace(desired.getMetadata().getNamespace())
                    .withLabel(DesiredState.MANAGED_BY, config.bootstrap().fieldManager())
                    .runnableInformer(0);
            informer.exceptionHandler((started, t) -> {
                LOG.debugf("watch of managed %s failed (%s); retrying", key, t.toString());
                return true;
            });
            informer.addEventHandler(new io.fabric8.kubernetes.client.informers.ResourceEventHandler<>() {
                @Override
                public void onAdd(io.fabric8.kubernetes.api.model.GenericKubernetesResource r) {
                }

                @Override
                public void onUpdate(io.fabric8.kubernetes.api.model.GenericKubernetesResource before,
                        io.fabric8.kubernetes.api.model.GenericKubernetesResource after) {
                    if (!java.util.Objects.equals(before.getMetadata().getResourceVersion(), after.getMetadata().getResourceVersion())) {
                        repairSoon(DesiredState.ref(after) + " changed");
                    }
                }

                @Override
                public void onDelete(io.fabric8.kubernetes.api.model.GenericKubernetesResource r, boolean unknownFinalState) {
                    repairSoon(DesiredState.ref(r) + " deleted or no longer labelled ours");
                }
            });
            informer.start();
            informers.add(informer);
            watched.add(key);
        }
    }

    private void repairSoon(String why) {
        if (leadership.isLeader() && repairPending.compareAndSet(false, true)) {
            LOG.debugf("bootstrap: %s; re-checking", why);
            scheduler.schedule(() -> {
                repairPending.set(false);
                passOnce();
            }, 1, TimeUnit.SECONDS);
        }
    }

    public BootstrapStatus status() {
        return status;
    }

    public boolean enabled() {
        return config.bootstrap().enabled();
    }

    private void loop() {
        Duration next = config.bootstrap().resyncPeriod();
        try {
            passOnce();
            if (status.phase().equals("waiting-for-preconditions") || status.phase().equals("error")) {
                next = backoff;
                backoff = min(backoff.multipliedBy(2), config.bootstrap().resyncPeriod());
            } else {
                backoff = FIRST_BACKOFF;
            }
        } finally {
            try {
                scheduler.schedule(this::loop, next.toMillis(), TimeUnit.MILLISECONDS); // whatever happened above
            } catch (java.util.concurrent.RejectedExecutionException stopping) {
                // shutting down
            }
        }
    }

    /** One pass now (also used by tests). */
    public synchronized BootstrapStatus passOnce() {
        BootstrapStatus previous = status;
        try {
            status = new Convergence(client, config).pass(leadership.isLeader());
        } catch (RuntimeException e) {
            status = new BootstrapStatus("error", java.time.Instant.now().toString(), false, null, List.of(), List.of(),
                    List.of(), List.of(), e.toString());
        }
        report(previous, status);
        if (status.phase().equals("converged")) {
            try {
                watchManagedObjects(status);
            } catch (RuntimeException e) {
                LOG.warnf("bootstrap: could not watch managed objects (%s); the periodic pass still repairs drift", e.toString());
            }
        }
        return status;
    }

    private void report(BootstrapStatus before, BootstrapStatus now) {
        boolean changed = !now.phase().equals(before.phase()) || !java.util.Objects.equals(now.error(), before.error());
        if (now.wrote()) {
            now.resources().stream().filter(r -> r.result().equals("created") || r.result().equals("updated"))
                    .forEach(r -> LOG.infof("bootstrap: %s %s", r.result(), r.ref()));
        }
        if (changed) {
            switch (now.phase()) {
                case "converged" -> LOG.infof("bootstrap converged: %d objects in sync", now.resources().size());
                case "observing" -> LOG.infof("bootstrap: not the leader (Lease held by %s); observing only",
                        leadership.holder() == null || leadership.holder().equals(leadership.identity())
                                ? "nobody yet" : leadership.holder());
                default -> LOG.warnf("bootstrap %s: %s", now.phase(), now.error());
            }
        }
        for (BootstrapStatus.GatewayStatus g : now.gateways()) {
            boolean was = before.gateways().stream().anyMatch(x -> x.ref().equals(g.ref()) && x.programmed());
            if (g.programmed() && !was) {
                LOG.infof("%s is programmed, addresses %s", g.ref(), g.addresses());
            }
        }
    }

    private void cleanupAndExit() {
        List<Cleanup.Outcome> outcomes = new Cleanup(client, config).run();
        outcomes.forEach(o -> LOG.infof("cleanup: %s %s%s", o.result(), o.ref(), o.detail() == null ? "" : " (" + o.detail() + ")"));
        Quarkus.asyncExit(outcomes.stream().anyMatch(o -> o.result().equals("error")) ? 1 : 0);
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
