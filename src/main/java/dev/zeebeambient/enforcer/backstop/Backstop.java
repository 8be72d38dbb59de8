package dev.zeebeambient.enforcer.backstop;

import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.decision.Decision;
import dev.zeebeambient.enforcer.kube.DecisionService;
import dev.zeebeambient.enforcer.decision.EnrollmentDecider;
import dev.zeebeambient.enforcer.decision.Outcome;
import dev.zeebeambient.enforcer.enrollment.Enrollment;
import dev.zeebeambient.enforcer.enrollment.EnrollmentMetrics;
import dev.zeebeambient.enforcer.enrollment.Origin;
import dev.zeebeambient.enforcer.leader.Leadership;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.micrometer.core.instrument.MeterRegistry;
import dev.zeebeambient.enforcer.kube.Watches;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;

import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Closes the fail-open gap: watches pods and enrolls Zeebe clients that were admitted without
 * the label (webhook down, not yet installed, namespace opted in later), with the same decision
 * as the webhook. Only the leader patches, at a bounded rate, with retries; each patch is
 * conditional on the resourceVersion it decided on, so a pod is never patched twice for nothing.
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
    private final dev.zeebeambient.enforcer.kube.NamespaceCache namespaces;
    private final Enrollment enrollment;
    private final ObjectMapper mapper;
    private final Watches watches;
    private final Instant startedAt = Instant.now();

    private final LinkedBlockingQueue<String> queue = new LinkedBlockingQueue<>();
    private final Set<String> queued = ConcurrentHashMap.newKeySet();
    private final Map<String, Integer> attempts = new ConcurrentHashMap<>();
    /** namespace -> pod -> why it is a client and why it is not enrolled (status report). */
    private final PodReport notEnrolled = new PodReport();
    /**
     * Istio redirects new connections of a pod once it is labelled; a gRPC channel the client opened
     * before most likely stays outside the waypoint until it reconnects.
     */
    static final String RESTART_HINT = "Connections opened before the label stay outside the waypoint: restart the pod "
            + "(rollout restart of its workload) to route them through it";
    /** namespace -> pod enrolled while running, until it is deleted (restart advice in /status). */
    private final PodReport enrolledRunning = new PodReport();
    /** namespace -> pod -> which gateway Service it uses instead of a target (not behind the waypoint). */
    private final PodReport bypassing = new PodReport();
    private SharedIndexInformer<Pod> pods;
    private ScheduledExecutorService executor;
    private WorkloadRestarter restarter;
    private volatile boolean running;
    private long nextPatchNanos;

    public Backstop(KubernetesClient client, EnforcerConfig config, DecisionService decisions, Leadership leadership,
            EnrollmentMetrics metrics, dev.zeebeambient.enforcer.kube.NamespaceCache namespaces, ObjectMapper mapper,
            MeterRegistry registry, Watches watches) {
        this.client = client;
        this.watches = watches;
        this.config = config;
        this.decisions = decisions;
        this.leadership = leadership;
        this.metrics = metrics;
        this.namespaces = namespaces;
        this.mapper = mapper;
        this.enrollment = new Enrollment(config);
        registry.gauge("zeebe.ambient.backstop.not.enrolled", notEnrolled, PodReport::size);
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
        restarter = config.backstop().restartWorkloads() ? new WorkloadRestarter(client, config.backstop(), executor) : null;
        pods = watches.track("Pods (all namespaces)", "list, watch pods (cluster-wide)",
                client.pods().inAnyNamespace().runnableInformer(config.backstop().resyncPeriod().toMillis()));
        pods.addEventHandler(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Pod pod) {
                executor.execute(() -> eventForAdmission(pod)); // not on the informer's thread: it is an API call
                enqueue(Cache.metaNamespaceKeyFunc(pod));
            }

            @Override
            public void onUpdate(Pod before, Pod after) {
                enqueue(Cache.metaNamespaceKeyFunc(after));
            }

            @Override
            public void onDelete(Pod pod, boolean unknownFinalState) {
                forget(pod.getMetadata().getNamespace(), pod.getMetadata().getName());
                enrolledRunning.remove(pod.getMetadata().getNamespace(), pod.getMetadata().getName());
            }
        });
        namespaces.onLabelsChanged(ns -> {
            // a namespace that opts in later: its existing pods are checked now
            pods.getStore().list().stream().filter(p -> ns.equals(p.getMetadata().getNamespace()))
                    .forEach(p -> enqueue(Cache.metaNamespaceKeyFunc(p)));
        });
        leadership.onLeading(() -> pods.getStore().list().forEach(p -> enqueue(Cache.metaNamespaceKeyFunc(p))));
        pods.start();
        executor.execute(this::work);
    }

    public void stop() {
        running = false;
        if (pods != null) {
            pods.stop();
        }
        if (executor != null) {
            executor.shutdownNow();
        }
    }

    public boolean enabled() {
        return config.backstop().enabled();
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

    private void enqueue(String key) {
        if (running && queued.add(key)) {
            queue.offer(key);
        }
    }

    private void work() {
        while (running) {
            String key;
            try {
                key = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            queued.remove(key);
            try {
                process(key);
            } catch (RuntimeException e) {
                LOG.errorf(e, "backstop: checking pod %s failed", key);
            }
        }
    }

    private void process(String key) {
        Pod pod = pods.getStore().getByKey(key);
        if (pod == null) {
            return;
        }
        String ns = pod.getMetadata().getNamespace();
        String name = pod.getMetadata().getName();
        Map<String, String> labels = pod.getMetadata().getLabels();
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        if ((labels != null && labels.containsKey(EnrollmentDecider.DATAPLANE_MODE))
                || pod.getMetadata().getDeletionTimestamp() != null
                || "Succeeded".equals(phase) || "Failed".equals(phase)) {
            forget(ns, name);
            return;
        }
        Outcome outcome = decisions.decide(pod, ns);
        if (!outcome.namespaceLabelsKnown()) {
            // unlike the webhook, no namespaceSelector stands in front of us: never decide blind
            executor.schedule(() -> enqueue(key), 2, TimeUnit.SECONDS);
            return;
        }
        Decision d = outcome.decision();
        if (!d.enroll()) {
            forget(ns, name);
            if (d.reason() == dev.zeebeambient.enforcer.decision.Reason.BYPASSES_WAYPOINT) {
                bypassing.put(ns, name, d.detail());
            }
            return;
        }
        if (config.audit()) {
            report(ns, name, d.detail() + " [audit mode: not changed]");
            return;
        }
        if (!leadership.isLeader()) {
            report(ns, name, d.detail() + " [not the leader: " + leadership.holder() + " enrolls it]");
            return;
        }
        throttle();
        try {
            // resource(pod): patch the informer's copy without a GET first (RBAC grants no get on pods)
            client.pods().inNamespace(ns).resource(pod).patch(PatchContext.of(PatchType.JSON), patch(pod, d));
            attempts.remove(key);
            forget(ns, name);
            metrics.enrolled(Origin.BACKSTOP);
            LOG.infof("backstop: enrolled running pod %s/%s in ambient (missed at admission): %s", ns, name, d.detail());
            var workload = restarter == null ? java.util.Optional.<WorkloadRestarter.Workload>empty() : restarter.restartOwnerOf(pod);
            String advice = workload.map(w -> "Restarting " + w + " (enforcer.backstop.restart-workloads) so that its connections "
                    + "go through the waypoint").orElse(RESTART_HINT);
            event(pod, "Enrolled in Istio ambient by the backstop (missed at admission): " + d.detail() + ". " + advice);
            enrolledRunning.put(ns, name, advice);
        } catch (KubernetesClientException e) {
            if (e.getCode() == 404) {
                forget(ns, name);
            } else if (e.getCode() == 422 || e.getCode() == 409) {
                // changed since we decided (the resourceVersion test failed): the watch brings the new version
                LOG.debugf("backstop: pod %s changed while deciding; re-checking", key);
            } else {
                retry(key, ns, name, d, e);
            }
        }
    }

    private String patch(Pod pod, Decision d) {
        ArrayNode ops = mapper.createArrayNode();
        // only if the pod is still the version we decided on
        ops.addObject().put("op", "test").put("path", "/metadata/resourceVersion")
                .put("value", pod.getMetadata().getResourceVersion());
        ops.addAll(enrollment.patch(mapper.valueToTree(pod), d, Origin.BACKSTOP));
        return ops.toString();
    }

    private void retry(String key, String ns, String name, Decision d, KubernetesClientException e) {
        int n = attempts.merge(key, 1, Integer::sum);
        if (n >= config.backstop().maxAttempts()) {
            attempts.remove(key);
            report(ns, name, d.detail() + " [patch failed " + n + " times: HTTP " + e.getCode() + "]");
            LOG.errorf("backstop: giving up on pod %s/%s after %d attempts (HTTP %d: %s); next change or resync retries",
                    ns, name, n, e.getCode(), e.getMessage());
            return;
        }
        long delay = 1L << Math.min(n, 6);
        LOG.warnf("backstop: patching pod %s/%s failed (HTTP %d: %s); retry %d in %d s", ns, name, e.getCode(),
                e.getMessage(), n, delay);
        executor.schedule(() -> enqueue(key), delay, TimeUnit.SECONDS);
    }

    /** At most {@code patches-per-second} patches. */
    private void throttle() {
        long interval = (long) (1_000_000_000L / Math.max(0.01, config.backstop().patchesPerSecond()));
        long now = System.nanoTime();
        long wait = nextPatchNanos - now;
        if (wait > 0) {
            try {
                TimeUnit.NANOSECONDS.sleep(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        nextPatchNanos = Math.max(now, nextPatchNanos) + interval;
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
        event(pod, "Enrolled in Istio ambient at admission: " + a.getOrDefault(config.reasonAnnotation(), ""));
    }

    private void event(Pod pod, String message) {
        String now = Instant.now().toString();
        try {
            client.v1().events().inNamespace(pod.getMetadata().getNamespace()).resource(new EventBuilder()
                    .withNewMetadata().withGenerateName(pod.getMetadata().getName() + ".").endMetadata()
                    .withInvolvedObject(new ObjectReferenceBuilder().withApiVersion("v1").withKind("Pod")
                            .withNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName())
                            .withUid(pod.getMetadata().getUid()).build())
                    .withType("Normal").withReason(EVENT_REASON)
                    .withMessage(message.length() <= 1024 ? message : message.substring(0, 1021) + "...")
                    .withNewSource().withComponent("zeebe-ambient-enforcer").endSource()
                    .withReportingComponent("zeebe-ambient-enforcer").withReportingInstance(leadership.identity())
                    .withFirstTimestamp(now).withLastTimestamp(now).withCount(1)
                    .build()).create();
        } catch (KubernetesClientException e) {
            LOG.warnf("could not record an Event on pod %s/%s: HTTP %d %s", pod.getMetadata().getNamespace(),
                    pod.getMetadata().getName(), e.getCode(), e.getMessage());
        }
    }

    private void report(String ns, String pod, String why) {
        notEnrolled.put(ns, pod, why);
    }

    private void forget(String ns, String pod) {
        attempts.remove(ns + "/" + pod);
        bypassing.remove(ns, pod);
        notEnrolled.remove(ns, pod);
    }
}
