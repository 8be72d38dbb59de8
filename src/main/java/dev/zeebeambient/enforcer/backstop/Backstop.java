package dev.zeebeambient.enforcer.backstop;

import dev.zeebeambient.enforcer.kube.PodProjection;
import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.decision.Rules;
import dev.zeebeambient.enforcer.enrollment.Enrollment;
import dev.zeebeambient.enforcer.enrollment.EnrollmentMetrics;
import dev.zeebeambient.enforcer.enrollment.Origin;
import dev.zeebeambient.enforcer.kube.DecisionService;
import dev.zeebeambient.enforcer.kube.NamespaceCache;
import dev.zeebeambient.enforcer.kube.Watches;
import dev.zeebeambient.enforcer.leader.Leadership;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Closes the fail-open gap: enrolls Zeebe clients that were admitted without the label (webhook
 * down, not yet installed, namespace opted in later), with the same decision as the webhook.
 * <p>
 * Only the leader runs it, and only where it can matter: {@link PodInformers} watch the opted-in
 * namespaces ({@link WatchedNamespaces}) and keep {@link PodProjection trimmed} pods; a
 * {@link WorkQueue} feeds one worker that decides ({@link Reconcile}), patches at a bounded rate
 * ({@link RateLimit}, without sleeping), retries ({@link RetryPolicy}) and records aggregated
 * Events ({@link EnrollmentEvents}). Each patch is conditional on the resourceVersion it decided
 * on, so a pod is never patched twice for nothing. Followers keep nothing and point to the leader.
 */
@ApplicationScoped
public class Backstop {

    private static final Logger LOG = Logger.getLogger(Backstop.class);
    public static final String EVENT_REASON = "EnrolledInAmbient";

    private final KubernetesClient client;
    private final EnforcerConfig config;
    private final DecisionService decisions;
    private final Leadership leadership;
    private final EnrollmentMetrics metrics;
    private final NamespaceCache namespaces;
    private final Enrollment enrollment;
    private final Watches watches;
    private final Rules rules;
    /** When this replica last started leading: pods created before were the previous leader's to report. */
    private volatile Instant leadingSince = Instant.MAX;

    private final WorkQueue queue = new WorkQueue();
    private final AtomicBoolean draining = new AtomicBoolean();
    /** Patches in flight at most (each is one API call; the rate limit still bounds how many start per second). */
    static final int IN_FLIGHT = 8;
    private final java.util.concurrent.Semaphore inFlight = new java.util.concurrent.Semaphore(IN_FLIGHT);
    private java.util.concurrent.ExecutorService patches;
    private final Reports reports = new Reports();
    /** Per pod key: how often it was decided without a source it references (see {@link Reconcile.Recheck}). */
    private final Map<String, Integer> rechecks = new java.util.concurrent.ConcurrentHashMap<>();
    private RateLimit rateLimit;
    private PodInformers pods;
    private EnrollmentEvents events;
    private PodEnroller enroller;
    private WorkloadRestarter restarter;
    private ScheduledExecutorService executor;
    private volatile boolean running;
    private volatile boolean leading;

    public Backstop(KubernetesClient client, EnforcerConfig config, DecisionService decisions, Leadership leadership,
            EnrollmentMetrics metrics, NamespaceCache namespaces, MeterRegistry registry, Watches watches) {
        this.client = client;
        this.watches = watches;
        this.config = config;
        this.decisions = decisions;
        this.leadership = leadership;
        this.metrics = metrics;
        this.namespaces = namespaces;
        this.enrollment = new Enrollment(config);
        this.rules = Rules.from(config);
        registry.gauge("zeebe.ambient.backstop.not.enrolled", reports.notEnrolled, PodReport::size);
        registry.gauge("zeebe.ambient.backstop.watched.pods", this, b -> b.pods == null ? 0 : b.pods.size());
        registry.gauge("zeebe.ambient.backstop.queue", queue, WorkQueue::size);
    }

    public void start() {
        if (!config.backstop().enabled()) {
            return;
        }
        running = true;
        executor = Executors.newScheduledThreadPool(2, r -> {
            Thread t = new Thread(r, "backstop");
            t.setDaemon(true);
            return t;
        });
        rateLimit = RateLimit.perSecond(config.backstop().patchesPerSecond());
        patches = Executors.newFixedThreadPool(IN_FLIGHT, r -> {
            Thread t = new Thread(r, "backstop-patch");
            t.setDaemon(true);
            return t;
        });
        events = new EnrollmentEvents(client, EVENT_REASON, leadership.identity());
        restarter = config.backstop().restartWorkloads() ? new WorkloadRestarter(client, config.backstop(), executor,
                (pod, ns) -> decisions.decide(pod, ns).decision(), () -> leading && leadership.isLeader()) : null;
        enroller = new PodEnroller(client, enrollment, metrics, events, restarter,
                RetryPolicy.of(config.backstop().maxAttempts()), reports,
                (key, delay) -> executor.schedule(() -> enqueue(key), delay.toMillis(), TimeUnit.MILLISECONDS));
        pods = new PodInformers(client, watches, config.backstop().resyncPeriod().toMillis(), new PodInformers.Listener() {
            @Override
            public void added(Pod pod) {
                eventForAdmission(pod);
                enqueue(Cache.metaNamespaceKeyFunc(pod));
            }

            @Override
            public void changed(String key) {
                enqueue(key);
            }

            @Override
            public void gone(String key) {
                int slash = key.indexOf('/');
                enroller.forget(key);
                rechecks.remove(key);
                reports.gone(key.substring(0, slash), key.substring(slash + 1));
            }
        });
        // a namespace that opts in (or out) later: start (stop) watching it; its pods are checked now
        namespaces.onLabelsChanged(ns -> submit(() -> {
            if (leading) {
                watchOptedIn();
                pods.keys(ns).forEach(this::enqueue);
            }
        }));
        // both callbacks only ask the backstop to follow the Lease as it is when it runs: on the 2-thread pool a
        // lose-then-regain may run them in either order, and the last one to run sees the truth
        leadership.onLeading(() -> submit(this::syncLeadership));
        leadership.onStoppedLeading(() -> submit(this::syncLeadership));
        executor.scheduleWithFixedDelay(() -> {
            if (leading) {
                events.flush();
            }
        }, EnrollmentEvents.FLUSH.toMillis(), EnrollmentEvents.FLUSH.toMillis(), TimeUnit.MILLISECONDS);
    }

    public void stop() {
        running = false;
        leading = false;
        if (pods != null) {
            pods.stopAll();
        }
        if (executor != null) {
            executor.shutdownNow();
            patches.shutdownNow();
        }
    }

    public boolean enabled() {
        return config.backstop().enabled();
    }

    /** Which replica runs the backstop, and what it watches. */
    public String role() {
        if (!config.backstop().enabled()) {
            return "disabled";
        }
        if (!leading) {
            String holder = leadership.holder();
            return "follower: " + (holder == null || holder.isEmpty() || holder.equals(leadership.identity())
                    ? "the replica holding Lease " + config.ownNamespace() + "/" + config.leaderElection().leaseName()
                    : "the leader (" + holder + ")") + " watches pods and reports them";
        }
        return "leader: watching " + pods.size() + " pods in " + pods.namespaces().size() + " opted-in namespaces "
                + pods.namespaces();
    }

    /** Per namespace: pods the backstop enrolled while they ran (still running): they should be restarted. */
    public Map<String, Map<String, String>> enrolledWhileRunning() {
        return reports.enrolledRunning.snapshot();
    }

    /** Per opted-in namespace: running Zeebe clients of a gateway Service that is not behind the waypoint. */
    public Map<String, Map<String, String>> bypassing() {
        return reports.bypassing.snapshot();
    }

    /** Per opted-in namespace: detected client pods that are not enrolled, with why. */
    public Map<String, Map<String, String>> notEnrolled() {
        return reports.notEnrolled.snapshot();
    }

    /** Leads or follows as {@link Leadership} says now (idempotent; serialised: callbacks may arrive out of order). */
    private synchronized void syncLeadership() {
        boolean lead = running && leadership.isLeader();
        if (lead && !leading) {
            leading = true;
            leadingSince = Instant.now();
            watchOptedInWhenKnown();
        } else if (!lead && leading) {
            follow();
        }
    }

    /**
     * The Lease can be won before the namespace cache has listed (found by the scale benchmark: the
     * backstop then watched nothing until some namespace changed): wait for the labels, then watch.
     */
    private void watchOptedInWhenKnown() {
        if (!running || !leading) {
            return;
        }
        if (!namespaces.synced()) {
            executor.schedule(this::watchOptedInWhenKnown, 200, TimeUnit.MILLISECONDS);
            return;
        }
        watchOptedIn(); // the informers' first lists enqueue every pod
        pods.keys(null).forEach(this::enqueue);
    }

    /** Lost the Lease: the new leader watches; keep nothing. */
    private void follow() {
        leading = false;
        pods.stopAll();
        queue.clear();
        rechecks.clear();
        enroller.clear();
        if (restarter != null) {
            restarter.cancelAll();
        }
        events.clear();
        reports.clear();
    }

    /** On the backstop's thread (informer and Lease callbacks must not block); nothing once stopped. */
    private void submit(Runnable r) {
        if (running) {
            try {
                executor.execute(r);
            } catch (java.util.concurrent.RejectedExecutionException stopped) {
                // shutting down
            }
        }
    }

    private void watchOptedIn() {
        pods.watchOnly(WatchedNamespaces.of(namespaces.allLabels(), rules));
    }

    private void enqueue(String key) {
        if (running && leading && queue.add(key)) {
            kick();
        }
    }

    private void kick() {
        if (draining.compareAndSet(false, true)) {
            submit(this::drain);
        }
    }

    /**
     * Works through the queue. Deciding happens here; patches run on {@link #patches}, at most
     * {@link #IN_FLIGHT} at a time (one at a time cannot reach a rate above ~50/s against a busy API
     * server). When the rate limit says "not yet", or every patch slot is busy, the key goes back to
     * the front and the drain resumes later (scheduled, or when a patch completes) instead of sleeping.
     */
    private void drain() {
        while (running) {
            String key = queue.poll();
            if (key == null) {
                break;
            }
            Step step;
            try {
                step = process(key);
            } catch (RuntimeException e) {
                LOG.errorf(e, "backstop: checking pod %s failed", key);
                step = Step.DONE;
            }
            if (step == Step.DONE) {
                queue.done(key);
            } else if (step == Step.PATCHING) {
                continue; // done() when the patch completes
            } else {
                queue.putBack(key);
                if (step == Step.RATE_LIMITED) {
                    executor.schedule(this::drain, nextTokenNanos, TimeUnit.NANOSECONDS); // still "draining"
                    return;
                }
                break; // all patch slots busy: a completing patch kicks the drain
            }
        }
        draining.set(false);
        if (queue.size() > 0 && inFlight.availablePermits() > 0) {
            kick(); // added after the last poll
        }
    }

    private enum Step { DONE, PATCHING, RATE_LIMITED, SLOTS_BUSY }

    private long nextTokenNanos;

    /** Decides and acts on one pod. */
    private Step process(String key) {
        Pod pod = pods.get(key);
        if (pod == null) {
            return Step.DONE;
        }
        String ns = pod.getMetadata().getNamespace();
        String name = pod.getMetadata().getName();
        Reconcile.Action action = Reconcile.before(pod, enrollment.byAnnotation()).orElseGet(() ->
                Reconcile.after(decisions.decide(pod, ns), config.audit(), leadership.isLeader(), leadership.holder()));
        if (!(action instanceof Reconcile.Recheck)) {
            rechecks.remove(key);
        }
        if (action instanceof Reconcile.Forget) {
            enroller.forget(key);
            reports.forget(ns, name);
        } else if (action instanceof Reconcile.EnrolledWhileRunning) {
            enroller.forget(key);
            reports.forget(ns, name);
            if (leading && !reports.enrolledRunning.contains(ns, name)) {
                enroller.resume(pod); // enrolled by an earlier leader: its report and restart are this replica's now
            }
        } else if (action instanceof Reconcile.Recheck r) {
            recheck(key, r);
        } else if (action instanceof Reconcile.Later l) {
            executor.schedule(() -> enqueue(key), l.delay().toMillis(), TimeUnit.MILLISECONDS);
        } else if (action instanceof Reconcile.Bypassing b) {
            reports.forget(ns, name);
            reports.bypassing.put(ns, name, b.detail());
        } else if (action instanceof Reconcile.Report r) {
            reports.notEnrolled.put(ns, name, r.why());
        } else if (action instanceof Reconcile.Enroll e) {
            if (!inFlight.tryAcquire()) {
                return Step.SLOTS_BUSY;
            }
            long wait = rateLimit.tryAcquire(System.nanoTime());
            if (wait > 0) {
                inFlight.release();
                nextTokenNanos = wait;
                return Step.RATE_LIMITED;
            }
            patches.execute(() -> {
                try {
                    enroller.enroll(key, pod, e.decision());
                } finally {
                    inFlight.release();
                    queue.done(key);
                    kick();
                }
            });
            return Step.PATCHING;
        }
        return Step.DONE;
    }

    /** A pod decided without a source it references: again later, a bounded number of times. */
    private void recheck(String key, Reconcile.Recheck r) {
        int n = rechecks.merge(key, 1, Integer::sum);
        java.util.Optional<java.time.Duration> next = Reconcile.SOURCE_RETRY.afterFailures(n);
        if (next.isEmpty()) {
            rechecks.remove(key);
            LOG.infof("backstop: pod %s not enrolled, still decided without a source it references after %d checks (%s); "
                    + "its next change or the resync checks it again", key, n, r.why());
            return;
        }
        LOG.debugf("backstop: pod %s decided without a source it references (%s); check %d in %d s", key, r.why(), n + 1,
                next.get().toSeconds());
        executor.schedule(() -> enqueue(key), next.get().toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Pods enrolled when they were created (by the webhook, or by the in-API-server enroll policy) get their Event once
     * they exist, written by the leader; policy enrollments are counted here too (the enforcer saw no call for them).
     */
    private void eventForAdmission(Pod pod) {
        Map<String, String> a = pod.getMetadata().getAnnotations();
        String by = a == null ? null : a.get(enrollment.byAnnotation());
        Origin origin = Origin.ADMISSION.tag().equals(by) ? Origin.ADMISSION : Origin.POLICY.tag().equals(by) ? Origin.POLICY : null;
        if (origin == null || !leadership.isLeader() || config.audit()) {
            return;
        }
        String created = pod.getMetadata().getCreationTimestamp();
        if (created == null || ZonedDateTime.parse(created).toInstant().isBefore(leadingSince)) {
            return; // created before this replica led: its Event was written by whoever led then
        }
        if (origin == Origin.POLICY) {
            metrics.enrolled(Origin.POLICY);
        }
        events.record(pod, origin.tag(), (origin == Origin.ADMISSION ? "Enrolled in Istio ambient at admission: "
                : "Enrolled in Istio ambient by the API server's enroll policy: ") + a.getOrDefault(config.reasonAnnotation(), ""));
    }
}
