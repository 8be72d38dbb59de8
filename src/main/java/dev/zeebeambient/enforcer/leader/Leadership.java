package dev.zeebeambient.enforcer.leader;

import dev.zeebeambient.enforcer.config.EnforcerConfig;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Leader election on a {@code Lease} in the enforcer's namespace: with several replicas only the
 * leader writes (bootstrapper, backstop, self-managed TLS). Every replica keeps serving admission
 * requests. Started and stopped by {@code Lifecycle}; {@link #end()} releases the Lease before it
 * returns, so a rollout hands over within a retry period instead of a lease duration.
 *
 * <p>Every replica also reads the Lease once per lease duration: when no replica has held it
 * validly for {@link #LEADERLESS_AFTER} lease durations (RBAC broken, API server unreachable,
 * every replica stuck), the {@code bootstrap} health group goes DOWN and
 * {@code zeebe_ambient_leader_missing_seconds} grows.
 */
@ApplicationScoped
public class Leadership {

    private static final Logger LOG = Logger.getLogger(Leadership.class);
    static final int LEADERLESS_AFTER = 3;

    private final KubernetesClient client;
    private final EnforcerConfig config;
    private final EnforcerConfig.LeaderElection settings;
    private final String identity;
    private final String lease;
    private final List<Runnable> onLeading = new CopyOnWriteArrayList<>();
    private final List<Runnable> onStoppedLeading = new CopyOnWriteArrayList<>();
    private final Clock clock = Clock.systemUTC();
    private volatile boolean leader;
    private volatile String holder;
    private volatile boolean stopped = true;
    private volatile CompletableFuture<?> running;
    /**
     * The elector whose callbacks count: one elector replaces another (a watchdog step-down cancels it and a new one
     * competes), and fabric8 may deliver the cancelled one's "stopped leading" after the new one already leads. Counted,
     * that late callback left this replica holding and renewing the Lease without acting as leader, and nobody led
     * (seen in FaultIT.apiServerRestart: the replica renewed the Lease for good and the backstop never resumed).
     */
    private volatile Object elector;
    /** Bumped by end(): callbacks and retries of an elector from before it are ignored. */
    private final java.util.concurrent.atomic.AtomicInteger generation = new java.util.concurrent.atomic.AtomicInteger();
    private volatile Instant validHolderSeen;
    private volatile String leaseProblem;
    private ScheduledExecutorService observer;
    private ScheduledExecutorService watchdog;
    /** When this replica last wrote the Lease successfully (acquired or renewed): the renewal its leadership rests on. */
    private final java.util.concurrent.atomic.AtomicReference<Instant> lastWritten = new java.util.concurrent.atomic.AtomicReference<>();

    public Leadership(KubernetesClient client, EnforcerConfig config, MeterRegistry registry) {
        this.client = client;
        this.config = config;
        this.settings = config.leaderElection();
        // the pod name (HOSTNAME) plus a random suffix: a restarted container never reuses the Lease of its predecessor
        this.identity = settings.identity()
                .orElseGet(() -> System.getenv().getOrDefault("HOSTNAME", "enforcer") + "-" + UUID.randomUUID().toString().substring(0, 8));
        this.lease = config.ownNamespace() + "/" + settings.leaseName();
        if (registry != null) {
            registry.gauge("zeebe.ambient.leader", this, l -> l.isLeader() ? 1 : 0);
            registry.gauge("zeebe.ambient.leader.missing.seconds", this, l -> l.leaderMissingFor().toMillis() / 1000.0);
        }
    }

    /** Starts competing for the Lease (by the lifecycle; tests start extra contenders). */
    public synchronized void begin() {
        if (!stopped) {
            return;
        }
        stopped = false;
        validHolderSeen = clock.instant();
        if (!settings.enabled()) {
            becomeLeader(generation.get());
            holder = identity;
            return;
        }
        observer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "lease-observer");
            t.setDaemon(true);
            return t;
        });
        observer.scheduleWithFixedDelay(this::observeLease, settings.leaseDuration().toMillis(),
                settings.leaseDuration().toMillis(), TimeUnit.MILLISECONDS);
        // Its own thread, never blocked by an API call: a renewal that hangs (a partition answers nothing) is exactly
        // what it must notice, while fabric8's elector still waits for its request timeout.
        watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "lease-watchdog");
            t.setDaemon(true);
            return t;
        });
        long tick = Math.max(100, settings.retryPeriod().toMillis() / 2);
        watchdog.scheduleWithFixedDelay(this::checkRenewal, tick, tick, TimeUnit.MILLISECONDS);
        elect(generation.get());
    }

    /** Stops competing and, if this replica leads, releases the Lease before returning. */
    public void end() {
        CompletableFuture<?> r;
        synchronized (this) {
            if (stopped) {
                return;
            }
            stopped = true;
            generation.incrementAndGet();
            r = running;
            if (observer != null) {
                observer.shutdownNow();
            }
            if (watchdog != null) {
                watchdog.shutdownNow();
            }
        }
        boolean wasLeader = leader;
        if (r != null) {
            r.cancel(true); // stops renewing; release() below frees the Lease (fabric8's releaseOnCancel is off)
        }
        stopLeading();
        if (wasLeader && settings.enabled()) {
            release();
        }
    }

    /**
     * Clears the holder so another replica takes over at its next retry. fabric8's release sends
     * the holder as {@code null} in a JSON merge patch, which its serializer drops: the Lease then
     * keeps this holder for one more second. Conditional on the resourceVersion read, so a
     * replica that took over meanwhile is never cleared.
     */
    private void release() {
        try {
            Lease l = client.leases().inNamespace(config.ownNamespace()).withName(settings.leaseName()).get();
            if (l == null || l.getSpec() == null || !identity.equals(l.getSpec().getHolderIdentity())) {
                LOG.infof("%s stopped leading; Lease %s already held by %s", identity, lease,
                        l == null || l.getSpec() == null ? "nobody" : l.getSpec().getHolderIdentity());
                return;
            }
            client.leases().inNamespace(config.ownNamespace()).resource(l).patch(PatchContext.of(PatchType.JSON_MERGE),
                    "{\"metadata\":{\"resourceVersion\":\"" + l.getMetadata().getResourceVersion()
                            + "\"},\"spec\":{\"holderIdentity\":null}}");
            LOG.infof("%s released Lease %s", identity, lease);
        } catch (KubernetesClientException e) {
            LOG.warnf("%s could not release Lease %s (HTTP %d: %s); it expires after %d s", identity, lease, e.getCode(),
                    e.getMessage(), settings.leaseDuration().toSeconds());
        }
    }

    private boolean current(int gen) {
        return !stopped && gen == generation.get();
    }

    private void elect(int gen) {
        if (!current(gen)) {
            return;
        }
        Object token = new Object();
        elector = token;
        // fabric8 calls onStartLeading as soon as it reads a record naming this replica, before its own write: after a
        // step-down the Lease still names it, and a renewal that then fails (the partition that caused the step-down)
        // would have this replica act as leader beside the one that took over. It leads only once both have happened:
        // fabric8 said so, and this elector wrote the Lease itself.
        java.util.concurrent.atomic.AtomicBoolean told = new java.util.concurrent.atomic.AtomicBoolean();
        TrackingLeaseLock lock = new TrackingLeaseLock(config.ownNamespace(), settings.leaseName(), identity, lastWritten, () -> {
            if (!current(gen)) {
                // an acquire that completed while end() ran: nobody will renew it, so give it back now instead of
                // leaving the others a lease duration to wait (releaseOnCancel is off, see below)
                release();
            } else if (told.get() && token == elector) {
                becomeLeader(gen);
            }
        });
        CompletableFuture<?> started = client.leaderElector().withConfig(new LeaderElectionConfigBuilder()
                .withName(settings.leaseName())
                .withLock(lock)
                .withLeaseDuration(settings.leaseDuration())
                .withRenewDeadline(settings.renewDeadline())
                .withRetryPeriod(settings.retryPeriod())
                // Off: a cancel also comes from checkRenewal when the API server does not answer, and fabric8's release
                // would then block the watchdog thread on a request into the partition and log its failure as an ERROR
                // with a stack trace. end() releases with release(), conditional on the holder.
                .withReleaseOnCancel(false)
                .withLeaderCallbacks(new LeaderCallbacks(() -> {
                            told.set(true);
                            if (token == elector && lock.wrote()) {
                                becomeLeader(gen);
                            }
                        },
                        () -> {
                            if (leader && gen == generation.get() && token == elector) {
                                stopLeading();
                                LOG.infof("%s stopped leading (Lease %s)", identity, lease);
                            }
                        },
                        id -> {
                            if (gen != generation.get()) {
                                return;
                            }
                            holder = id;
                            if (id != null && !id.isEmpty()) {
                                validHolderSeen = clock.instant();
                            }
                        }))
                .build()).build().start();
        synchronized (this) {
            if (!current(gen)) {
                started.cancel(true); // end() ran while this elector was being created
                return;
            }
            running = started;
        }
        started.whenComplete((v, t) -> {
            if (!current(gen) || token != elector) {
                return;
            }
            stopLeading();
            if (t != null && !(t instanceof CancellationException)) {
                LOG.warnf("leader election on Lease %s ended (%s); retrying", lease, t.toString());
            }
            elect(gen); // lost or failed: compete again
        });
    }

    /**
     * A leader that has not renewed its Lease within the renew deadline stops acting as leader now, before the Lease can
     * expire and another replica take it over (client-go's rule): no two replicas write at once. fabric8's elector
     * alone notices only when its hanging request times out, which can be after the Lease expired.
     */
    void checkRenewal() {
        Instant last = lastWritten.get();
        if (!leader || !settings.enabled() || last == null) {
            return;
        }
        Duration since = Duration.between(last, clock.instant());
        if (mustStepDown(since, settings.renewDeadline())) {
            CompletableFuture<?> r;
            synchronized (this) {
                if (!leader) {
                    return;
                }
                r = running;
            }
            LOG.warnf("%s has not renewed Lease %s for %d ms (renew deadline %d s; the API server does not answer): stops acting as "
                    + "leader before the Lease can expire, and competes again", identity, lease, since.toMillis(),
                    settings.renewDeadline().toSeconds());
            stopLeading();
            if (r != null) {
                r.cancel(true); // the elector's completion competes again (elect)
            }
        }
    }

    /** Pure: a leader whose last renewal is older than the renew deadline must stop leading. */
    static boolean mustStepDown(Duration sinceLastRenewal, Duration renewDeadline) {
        return sinceLastRenewal.compareTo(renewDeadline) > 0;
    }

    /**
     * fabric8's Lease lock, remembering when a write of this replica (create or renew) succeeded, and telling its elector
     * after each one (one lock per elector: {@link #wrote()} is this elector's own write, not an earlier one's).
     */
    static final class TrackingLeaseLock extends LeaseLock {
        private final java.util.concurrent.atomic.AtomicReference<Instant> written;
        private final Runnable afterWrite;
        private volatile boolean wrote;

        TrackingLeaseLock(String namespace, String name, String identity, java.util.concurrent.atomic.AtomicReference<Instant> written,
                Runnable afterWrite) {
            super(namespace, name, identity);
            this.written = written;
            this.afterWrite = afterWrite;
        }

        @Override
        public synchronized void create(KubernetesClient client,
                io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaderElectionRecord record) {
            super.create(client, record);
            written(record);
        }

        @Override
        public synchronized void update(KubernetesClient client,
                io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaderElectionRecord record) {
            super.update(client, record);
            written(record);
        }

        /** Whether this elector has written the Lease naming this replica. */
        boolean wrote() {
            return wrote;
        }

        private void written(io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaderElectionRecord record) {
            if (!identity().equals(record.getHolderIdentity())) {
                return; // fabric8's own release (holder null): not a write this replica's leadership rests on
            }
            written.set(renewed(record));
            wrote = true;
            afterWrite.run();
        }

        /** The renew time the write set (when the Lease's validity starts), else now. */
        private static Instant renewed(io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaderElectionRecord record) {
            return record.getRenewTime() != null ? record.getRenewTime().toInstant() : Instant.now();
        }
    }

    private void stopLeading() {
        boolean was;
        synchronized (this) {
            was = leader;
            leader = false;
        }
        if (was) {
            onStoppedLeading.forEach(this::runSafely);
        }
    }

    /**
     * Checks the generation and sets {@code leader} under the lock {@link #end()} takes: an elector
     * whose {@code end()} has begun can no longer make this replica leader after it.
     */
    private void becomeLeader(int gen) {
        synchronized (this) {
            if (!current(gen) || leader) {
                return;
            }
            leader = true;
            validHolderSeen = clock.instant();
        }
        LOG.infof("%s leads (Lease %s): this replica writes", identity, lease);
        onLeading.forEach(this::runSafely);
    }

    /** Reads the Lease: is anybody (this replica or another) holding it validly? */
    void observeLease() {
        try {
            Lease l = client.leases().inNamespace(config.ownNamespace()).withName(settings.leaseName()).get();
            leaseProblem = null;
            Instant now = clock.instant();
            if (leader || (l != null && validHolder(l, now))) {
                validHolderSeen = now;
            }
        } catch (KubernetesClientException e) {
            leaseProblem = "cannot read Lease " + lease + ": HTTP " + e.getCode() + " " + e.getMessage();
        } catch (RuntimeException e) {
            leaseProblem = "cannot read Lease " + lease + ": " + e;
        }
        Duration missing = leaderMissingFor();
        if (missing.compareTo(settings.leaseDuration().multipliedBy(LEADERLESS_AFTER)) >= 0) {
            LOG.warnf("no replica has held Lease %s for %d s (%s): no bootstrap, backstop or certificate renewal runs",
                    lease, missing.toSeconds(), leaseProblem == null ? "nobody takes it over" : leaseProblem);
        }
    }

    static boolean validHolder(Lease l, Instant now) {
        if (l.getSpec() == null || l.getSpec().getHolderIdentity() == null || l.getSpec().getHolderIdentity().isEmpty()
                || l.getSpec().getRenewTime() == null || l.getSpec().getLeaseDurationSeconds() == null) {
            return false;
        }
        return l.getSpec().getRenewTime().toInstant().plusSeconds(l.getSpec().getLeaseDurationSeconds()).isAfter(now);
    }

    /** How long no valid holder has been seen (zero while one is). */
    public Duration leaderMissingFor() {
        if (stopped || leader || validHolderSeen == null) {
            return Duration.ZERO;
        }
        Duration d = Duration.between(validHolderSeen, clock.instant());
        return d.compareTo(settings.leaseDuration()) < 0 ? Duration.ZERO : d;
    }

    /** Null while some replica leads (or it has been missing for less than {@link #LEADERLESS_AFTER} lease durations). */
    public String leaderlessProblem() {
        Duration missing = leaderMissingFor();
        if (missing.compareTo(settings.leaseDuration().multipliedBy(LEADERLESS_AFTER)) < 0) {
            return null;
        }
        return "no replica has held Lease " + lease + " for " + missing.toSeconds() + " s"
                + (leaseProblem == null ? "" : " (" + leaseProblem + ")");
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

    /** Runs whenever this replica becomes leader, and at once if it already leads. */
    /** Called when this replica stops leading (lost the Lease, or {@link #end()}): leader-only work stops. */
    public void onStoppedLeading(Runnable r) {
        onStoppedLeading.add(r);
    }

    public void onLeading(Runnable r) {
        onLeading.add(r);
        if (leader) {
            runSafely(r);
        }
    }

    private void runSafely(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            LOG.errorf(e, "a leader callback failed");
        }
    }
}
