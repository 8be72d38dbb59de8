package dev.zeebeambient.enforcer.backstop;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.decision.Decision;
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
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
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
    /**
     * Istio redirects new connections of a pod once it is labelled; a gRPC channel the client opened
     * before most likely stays outside the waypoint until it reconnects.
     */
    static final String RESTART_HINT = "Connections opened before the label stay outside the waypoint: restart the pod "
            + "(rollout restart of its workload) to route them through it";

    private final KubernetesClient client;
    private final EnforcerConfig config;
    private final DecisionService decisions;
    private final Leadership leadership;
    private final EnrollmentMetrics metrics;
    private final NamespaceCache namespaces;
    private final Enrollment enrollment;
    private final ObjectMapper mapper;
    private final Watches watches;
    private final Rules rules;
    private final Instant startedAt = Instant.now();

    private final WorkQueue queue = new WorkQueue();
    private final Map<String, Integer> failures = new ConcurrentHashMap<>();
    private final AtomicBoolean draining = new AtomicBoolean();
    /** namespace -> pod -> why it is a client and why it is not enrolled (status report). */
    private final PodReport notEnrolled = new PodReport();
    /** namespace -> pod enrolled while running, until it is deleted (restart advice in /status). */
    private final PodReport enrolledRunning = new PodReport();
    /** namespace -> pod -> which gateway Service it uses instead of a target (not behind the waypoint). */
    private final PodReport bypassing = new PodReport();
    private RateLimit rateLimit;
    private RetryPolicy retry;
    private PodInformers pods;
    private EnrollmentEvents events;
    private ScheduledExecutorService executor;
    private WorkloadRestarter restarter;
    private volatile boolean running;
    private volatile boolean leading;

    public Backstop(KubernetesClient client, EnforcerConfig config, DecisionService decisions, Leadership leadership,
            EnrollmentMetrics metrics, NamespaceCache namespaces, ObjectMapper mapper, MeterRegistry registry, Watches watches) {
        this.client = client;
        this.watches = watches;
        this.config = config;
        this.decisions = decisions;
        this.leadership = leadership;
        this.metrics = metrics;
        this.namespaces = namespaces;
        this.mapper = mapper;
        this.enrollment = new Enrollment(config);
        this.rules = Rules.from(config);
        registry.gauge("zeebe.ambient.backstop.not.enrolled", notEnrolled, PodReport::size);
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
        retry = RetryPolicy.of(config.backstop().maxAttempts());
        restarter = config.backstop().restartWorkloads() ? new WorkloadRestarter(client, config.backstop(), executor) : null;
        events = new EnrollmentEvents(client, EVENT_REASON, leadership.identity());
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
                forget(key.substring(0, slash), key.substring(slash + 1));
                enrolledRunning.remove(key.substring(0, slash), key.substring(slash + 1));
            }
        });
        // a namespace that opts in (or out) later: start (stop) watching it; its pods are checked now
        namespaces.onLabelsChanged(ns -> executor.execute(() -> {
            if (leading) {
                watchOptedIn();
                pods.keys(ns).forEach(this::enqueue);
            }
        }));
        leadership.onLeading(() -> executor.execute(this::lead));
        leadership.onStoppedLeading(() -> executor.execute(this::follow));
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
        return enrolledRunning.snapshot();
    }

    /** Per opted-in namespace: running Zeebe clients of a gateway Service that is not behind the waypoint. */
    public Map<String, Map<String, String>> bypassing() {
        return bypassing.snapshot();
    }

    /** Per opted-in namespace: detected client pods that are not enrolled, with why. */
    public Map<String, Map<String, String>> notEnrolled() {
        return notEnrolled.snapshot();
    }

    private void lead() {
        if (!running || leading) {
            return;
        }
        leading = true;
        watchOptedIn(); // the informers' first lists enqueue every pod
        pods.keys(null).forEach(this::enqueue);
    }

    /** Lost the Lease: the new leader watches; keep nothing. */
    private void follow() {
        leading = false;
        pods.stopAll();
        queue.clear();
        failures.clear();
        events.clear();
        notEnrolled.clear();
        bypassing.clear();
        enrolledRunning.clear();
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
            executor.execute(this::drain);
        }
    }

    /** Works through the queue; when the rate limit says "not yet", it schedules itself instead of sleeping. */
    private void drain() {
        while (running) {
            String key = queue.poll();
            if (key == null) {
                break;
            }
            try {
                Optional<Duration> wait = process(key);
                if (wait.isPresent()) {
                    queue.putBack(key);
                    executor.schedule(this::drain, wait.get().toNanos(), TimeUnit.NANOSECONDS); // still "draining"
                    return;
                }
            } catch (RuntimeException e) {
                LOG.errorf(e, "backstop: checking pod %s failed", key);
            }
        }
        draining.set(false);
        if (queue.size() > 0) {
            kick(); // added after the last poll
        }
    }

    /** Decides and acts on one pod; a delay when the patch must wait for the rate limit. */
    private Optional<Duration> process(String key) {
        Pod pod = pods.get(key);
        if (pod == null) {
            return Optional.empty();
        }
        String ns = pod.getMetadata().getNamespace();
        String name = pod.getMetadata().getName();
        Reconcile.Action action = Reconcile.before(pod).orElseGet(() ->
                Reconcile.after(decisions.decide(pod, ns), config.audit(), leadership.isLeader(), leadership.holder()));
        if (action instanceof Reconcile.Forget) {
            forget(ns, name);
        } else if (action instanceof Reconcile.Later l) {
            executor.schedule(() -> enqueue(key), l.delay().toMillis(), TimeUnit.MILLISECONDS);
        } else if (action instanceof Reconcile.Bypassing b) {
            forget(ns, name);
            bypassing.put(ns, name, b.detail());
        } else if (action instanceof Reconcile.Report r) {
            notEnrolled.put(ns, name, r.why());
        } else if (action instanceof Reconcile.Enroll e) {
            long wait = rateLimit.tryAcquire(System.nanoTime());
            if (wait > 0) {
                return Optional.of(Duration.ofNanos(wait));
            }
            patch(key, pod, e.decision());
        }
        return Optional.empty();
    }

    private void patch(String key, Pod pod, Decision d) {
        String ns = pod.getMetadata().getNamespace();
        String name = pod.getMetadata().getName();
        try {
            // resource(pod): patch the cached copy without a GET first (RBAC grants no get on pods)
            client.pods().inNamespace(ns).resource(pod).patch(PatchContext.of(PatchType.JSON), patchOps(pod, d));
            forget(ns, name);
            metrics.enrolled(Origin.BACKSTOP);
            LOG.infof("backstop: enrolled running pod %s/%s in ambient (missed at admission): %s", ns, name, d.detail());
            var workload = restarter == null ? Optional.<WorkloadRestarter.Workload>empty() : restarter.restartOwnerOf(pod);
            String advice = workload.map(w -> "Restarting " + w + " (enforcer.backstop.restart-workloads) so that its connections "
                    + "go through the waypoint").orElse(RESTART_HINT);
            events.record(pod, Origin.BACKSTOP.tag(), "Enrolled in Istio ambient by the backstop (missed at admission): "
                    + d.detail() + ". " + advice);
            enrolledRunning.put(ns, name, advice);
        } catch (KubernetesClientException e) {
            if (e.getCode() == 404) {
                forget(ns, name);
            } else if (e.getCode() == 422 || e.getCode() == 409) {
                // changed since we decided (the resourceVersion test failed): the watch brings the new version
                LOG.debugf("backstop: pod %s changed while deciding; re-checking", key);
            } else {
                failed(key, ns, name, d, e);
            }
        }
    }

    private String patchOps(Pod pod, Decision d) {
        ArrayNode ops = mapper.createArrayNode();
        // only if the pod is still the version we decided on
        ops.addObject().put("op", "test").put("path", "/metadata/resourceVersion")
                .put("value", pod.getMetadata().getResourceVersion());
        ops.addAll(enrollment.patch(mapper.valueToTree(pod), d, Origin.BACKSTOP));
        return ops.toString();
    }

    private void failed(String key, String ns, String name, Decision d, KubernetesClientException e) {
        int n = failures.merge(key, 1, Integer::sum);
        Optional<Duration> next = retry.afterFailures(n);
        if (next.isEmpty()) {
            failures.remove(key);
            notEnrolled.put(ns, name, d.detail() + " [patch failed " + n + " times: HTTP " + e.getCode() + "]");
            LOG.errorf("backstop: giving up on pod %s/%s after %d attempts (HTTP %d: %s); next change or resync retries",
                    ns, name, n, e.getCode(), e.getMessage());
            return;
        }
        LOG.warnf("backstop: patching pod %s/%s failed (HTTP %d: %s); retry %d in %d s", ns, name, e.getCode(),
                e.getMessage(), n, next.get().toSeconds());
        executor.schedule(() -> enqueue(key), next.get().toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Pods the webhook enrolled get their Event once they exist (the leader writes it). */
    private void eventForAdmission(Pod pod) {
        Map<String, String> a = pod.getMetadata().getAnnotations();
        if (a == null || !Origin.ADMISSION.tag().equals(a.get(enrollment.byAnnotation())) || !leadership.isLeader() || config.audit()) {
            return;
        }
        String created = pod.getMetadata().getCreationTimestamp();
        if (created == null || ZonedDateTime.parse(created).toInstant().isBefore(startedAt)) {
            return; // seen in the initial list: its Event was written by whoever ran then
        }
        events.record(pod, Origin.ADMISSION.tag(), "Enrolled in Istio ambient at admission: "
                + a.getOrDefault(config.reasonAnnotation(), ""));
    }

    private void forget(String ns, String pod) {
        failures.remove(ns + "/" + pod);
        bypassing.remove(ns, pod);
        notEnrolled.remove(ns, pod);
    }
}
