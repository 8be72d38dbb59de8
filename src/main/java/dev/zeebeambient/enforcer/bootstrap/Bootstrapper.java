package dev.zeebeambient.enforcer.bootstrap;

import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.leader.Leadership;
import io.fabric8.kubernetes.client.KubernetesClient;
import dev.zeebeambient.enforcer.kube.Watches;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import jakarta.enterprise.context.ApplicationScoped;
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
    private final Watches watches;
    private volatile ScheduledExecutorService scheduler;
    /** Started by the lifecycle (and not stopped since): only then are drift watches started. */
    private volatile boolean running;
    private volatile BootstrapStatus status = BootstrapStatus.starting();
    private final java.util.concurrent.atomic.AtomicBoolean repairPending = new java.util.concurrent.atomic.AtomicBoolean();
    /** ref -> the informer watching that object of ours */
    private final Map<String, SharedIndexInformer<GenericKubernetesResource>> watched = new java.util.concurrent.ConcurrentHashMap<>();
    private Duration backoff = FIRST_BACKOFF;
    private boolean leaderCallback;

    public Bootstrapper(KubernetesClient client, EnforcerConfig config, Leadership leadership, Watches watches) {
        this.client = client;
        this.config = config;
        this.leadership = leadership;
        this.watches = watches;
    }

    /** Periodic passes; an immediate one whenever this replica becomes leader. */
    public synchronized void start() {
        if (!config.bootstrap().enabled() || (scheduler != null && !scheduler.isShutdown())) {
            return;
        }
        running = true;
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bootstrapper");
            t.setDaemon(true);
            return t;
        });
        if (!leaderCallback) {
            leaderCallback = true;
            leadership.onLeading(() -> schedule(this::passOnce, Duration.ZERO));
        }
        scheduler.execute(this::loop);
    }

    /** Runs on this bootstrapper's thread unless it is stopped (or was never started); false if not scheduled. */
    private boolean schedule(Runnable r, Duration delay) {
        ScheduledExecutorService s = scheduler;
        if (s == null) {
            return false;
        }
        try {
            s.schedule(r, delay.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (java.util.concurrent.RejectedExecutionException stopped) {
            return false;
        }
    }

    public void stop() {
        running = false;
        ScheduledExecutorService s = scheduler;
        if (s != null) {
            s.shutdownNow(); // before taking the monitor: interrupts a pass in progress instead of waiting for it
        }
        stopWatches();
    }

    private synchronized void stopWatches() {
        watched.forEach((ref, informer) -> {
            informer.stop();
            watches.untrack(ref);
        });
        watched.clear();
        repairPending.set(false); // shutdownNow dropped a scheduled repair: it must not stay "pending" forever
    }

    /**
     * Drift repair without waiting for the resync: watch each of our objects (by name: RBAC
     * restricts list/watch to our names, which a metadata.name field selector satisfies) and run a
     * pass soon after one is edited or deleted. Our own no-op applies write nothing, so they cause
     * no event and no loop. Started once the kinds exist (after a converged pass).
     */
    private void watchManagedObjects() {
        // every object we write, the gRPC Service included (the selector does not matter for watching)
        Map<dev.zeebeambient.enforcer.detection.Target, Map<String, String>> any = new java.util.HashMap<>();
        config.targets().forEach(t -> any.put(t, Map.of("any", "any")));
        for (var desired : DesiredState.build(config, any)) {
            String key = DesiredState.ref(desired);
            SharedIndexInformer<GenericKubernetesResource> current = watched.get(key);
            if (current != null && !watches.problems().containsKey(key)) {
                continue; // watching, or (re)connecting normally
            }
            if (current != null) {
                // failing, e.g. its CRD was deleted and installed again: fabric8 may back off for long; start afresh
                current.stop();
                LOG.infof("bootstrap: restarting the watch of %s", key);
            }
            String ns = desired.getMetadata().getNamespace();
            var informer = watches.track(key, "list, watch " + plural(desired) + " named " + desired.getMetadata().getName()
                    + " in " + ns, client.genericKubernetesResources(desired.getApiVersion(), desired.getKind())
                            .inNamespace(ns).withName(desired.getMetadata().getName()).runnableInformer(0));
            informer.addEventHandler(new io.fabric8.kubernetes.client.informers.ResourceEventHandler<>() {
                @Override
                public void onAdd(GenericKubernetesResource r) {
                }

                @Override
                public void onUpdate(GenericKubernetesResource before,
                        GenericKubernetesResource after) {
                    if (!java.util.Objects.equals(before.getMetadata().getResourceVersion(), after.getMetadata().getResourceVersion())) {
                        repairSoon(DesiredState.ref(after) + " changed");
                    }
                }

                @Override
                public void onDelete(GenericKubernetesResource r, boolean unknownFinalState) {
                    repairSoon(DesiredState.ref(r) + " deleted");
                }
            });
            watched.put(key, informer);
            // drift between the pass and the watch's first list (the object deleted meanwhile) sends no event: look
            // once the list is in
            informer.start().thenRun(() -> {
                if (informer.getStore().list().isEmpty()) {
                    repairSoon(key + " missing when its watch started");
                }
            });
        }
    }

    private void repairSoon(String why) {
        if (leadership.isLeader() && repairPending.compareAndSet(false, true)) {
            LOG.debugf("bootstrap: %s; re-checking", why);
            boolean scheduled = schedule(() -> {
                repairPending.set(false);
                passOnce();
            }, Duration.ofSeconds(1));
            if (!scheduled) {
                repairPending.set(false); // stopped: the next start's pass converges anyway
            }
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
            if (status.phase().retrySoon()) {
                next = backoff;
                backoff = min(backoff.multipliedBy(2), config.bootstrap().resyncPeriod());
            } else {
                backoff = FIRST_BACKOFF;
            }
        } finally {
            schedule(this::loop, next); // whatever happened above
        }
    }

    /** One pass now (also used by tests). */
    public synchronized BootstrapStatus passOnce() {
        BootstrapStatus previous = status;
        try {
            status = new Convergence(client, config).pass(leadership::isLeader);
        } catch (RuntimeException e) {
            status = new BootstrapStatus(Phase.ERROR, java.time.Instant.now().toString(), false, null, List.of(), List.of(),
                    List.of(), List.of(), e.toString());
        }
        report(previous, status);
        if (status.phase() == Phase.CONVERGED && leadership.isLeader() && config.bootstrap().retired().isPresent()) {
            // the new names are in place (the gRPC Service points at the new waypoint): now the old ones can go
            for (Cleanup.Outcome o : new Cleanup(client, config).retire()) {
                if (o.result() == Cleanup.Result.ERROR) {
                    LOG.warnf("bootstrap: could not remove %s, which the configuration no longer names: %s", o.ref(), o.detail());
                } else if (o.result() != Cleanup.Result.ABSENT) {
                    LOG.infof("bootstrap: %s %s, which the configuration no longer names%s", o.result().tag(), o.ref(),
                            o.detail() == null ? "" : " (" + o.detail() + ")");
                }
            }
        }
        if (status.phase() == Phase.CONVERGED && running) {
            try {
                watchManagedObjects();
            } catch (RuntimeException e) {
                LOG.warnf("bootstrap: could not watch managed objects (%s); the periodic pass still repairs drift", e.toString());
            }
        }
        return status;
    }

    private void report(BootstrapStatus before, BootstrapStatus now) {
        boolean changed = now.phase() != before.phase() || !java.util.Objects.equals(now.error(), before.error());
        if (now.wrote()) {
            now.resources().stream().filter(r -> r.result().wrote())
                    .forEach(r -> LOG.infof("bootstrap: %s %s", r.result().tag(), r.ref()));
        }
        if (changed) {
            switch (now.phase()) {
                case CONVERGED -> LOG.infof("bootstrap converged: %d objects in sync", now.resources().size());
                case OBSERVING -> LOG.infof("bootstrap: not the leader (Lease held by %s); observing only",
                        leadership.holder() == null || leadership.holder().equals(leadership.identity())
                                ? "nobody yet" : leadership.holder());
                default -> LOG.warnf("bootstrap %s: %s", now.phase().tag(), now.error());
            }
        }
        for (BootstrapStatus.GatewayStatus g : now.gateways()) {
            boolean was = before.gateways().stream().anyMatch(x -> x.ref().equals(g.ref()) && x.programmed());
            if (g.programmed() && !was) {
                LOG.infof("%s is programmed, addresses %s", g.ref(), g.addresses());
            }
        }
    }

    private static String plural(io.fabric8.kubernetes.api.model.HasMetadata r) {
        String group = r.getApiVersion().contains("/") ? "." + r.getApiVersion().substring(0, r.getApiVersion().indexOf('/')) : "";
        return io.fabric8.kubernetes.api.Pluralize.toPlural(r.getKind().toLowerCase(java.util.Locale.ROOT)) + group;
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
