package dev.zeebeambient.enforcer.backstop;

import dev.zeebeambient.enforcer.decision.Decision;
import dev.zeebeambient.enforcer.enrollment.Enrollment;
import dev.zeebeambient.enforcer.enrollment.EnrollmentMetrics;
import dev.zeebeambient.enforcer.enrollment.Origin;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * Labels one pod the backstop decided to enroll: a merge patch conditional on the resourceVersion
 * it decided on, then the Event, the metric, the report and (opt-in) the workload restart.
 * Failures are retried per {@link RetryPolicy} through {@code retryLater}.
 */
final class PodEnroller {

    private static final Logger LOG = Logger.getLogger(PodEnroller.class);
    /**
     * Istio redirects new connections of a pod once it is labelled; a gRPC channel the client opened
     * before most likely stays outside the waypoint until it reconnects.
     */
    static final String RESTART_HINT = "Connections opened before the label stay outside the waypoint: restart the pod "
            + "(rollout restart of its workload) to route them through it";

    private final KubernetesClient client;
    private final Enrollment enrollment;
    private final EnrollmentMetrics metrics;
    private final EnrollmentEvents events;
    private final WorkloadRestarter restarter;
    private final RetryPolicy retry;
    private final Reports reports;
    private final BiConsumer<String, Duration> retryLater;
    private final Map<String, Integer> failures = new ConcurrentHashMap<>();

    PodEnroller(KubernetesClient client, Enrollment enrollment, EnrollmentMetrics metrics,
            EnrollmentEvents events, WorkloadRestarter restarter, RetryPolicy retry, Reports reports,
            BiConsumer<String, Duration> retryLater) {
        this.client = client;
        this.enrollment = enrollment;
        this.metrics = metrics;
        this.events = events;
        this.restarter = restarter;
        this.retry = retry;
        this.reports = reports;
        this.retryLater = retryLater;
    }

    void enroll(String key, Pod pod, Decision d) {
        String ns = pod.getMetadata().getNamespace();
        String name = pod.getMetadata().getName();
        try {
            // resource(pod): patch without a GET first (RBAC grants no get on pods). A merge patch, not
            // a JSON Patch built from the cached projection: that projection omits maps and keys the
            // live pod has, and an "add" of a whole map would replace them.
            client.pods().inNamespace(ns).resource(pod).patch(PatchContext.of(PatchType.JSON_MERGE),
                    enrollment.mergePatch(pod.getMetadata().getResourceVersion(), d, Origin.BACKSTOP).toString());
            forget(key);
            reports.forget(ns, name);
            metrics.enrolled(Origin.BACKSTOP);
            LOG.infof("backstop: enrolled running pod %s/%s in ambient (missed at admission): %s", ns, name, d.detail());
            String advice = restartAdvice(pod);
            events.record(pod, Origin.BACKSTOP.tag(), "Enrolled in Istio ambient by the backstop (missed at admission): "
                    + d.detail() + ". " + advice);
            reports.enrolledRunning.put(ns, name, advice);
        } catch (KubernetesClientException e) {
            if (e.getCode() == 404) {
                forget(key);
                reports.forget(ns, name);
            } else if (e.getCode() == 422 || e.getCode() == 409) {
                // changed since we decided (the resourceVersion test failed): the watch brings the new version
                LOG.debugf("backstop: pod %s changed while deciding; re-checking", key);
            } else {
                failed(key, ns, name, d, e);
            }
        }
    }

    /** With restart-workloads: restart the pod's workload if that helps (now or as the policy spaces it); says what it does. */
    private String restartAdvice(Pod pod) {
        if (restarter == null) {
            return RESTART_HINT;
        }
        WorkloadRestarter.Plan plan;
        synchronized (restarter) { // patches run in parallel; the restart policy's check-then-act must not
            plan = restarter.restartOwnerOf(pod);
        }
        if (plan.restart() && plan.why().startsWith("restarted at")) {
            return "Restarted " + plan.workload().orElseThrow() + " (enforcer.backstop.restart-workloads) " + plan.why();
        }
        if (plan.restart()) {
            return "Restarting " + plan.workload().orElseThrow() + " (enforcer.backstop.restart-workloads) so that its "
                    + "connections go through the waypoint";
        }
        return plan.workload().isPresent() ? "Not restarting " + plan.workload().get() + ": " + plan.why() : RESTART_HINT;
    }

    /**
     * A pod the backstop enrolled while it ran, under an earlier leader (or before this replica last lost the Lease): its
     * report again, and its restart if it is still due (the replica that scheduled it may be gone). No second Event.
     */
    void resume(Pod pod) {
        String ns = pod.getMetadata().getNamespace();
        String name = pod.getMetadata().getName();
        String advice = restartAdvice(pod);
        LOG.infof("backstop: pod %s/%s was enrolled while running, before this replica led: %s", ns, name, advice);
        reports.enrolledRunning.put(ns, name, advice);
    }

    void forget(String key) {
        failures.remove(key);
    }

    void clear() {
        failures.clear();
    }

    private void failed(String key, String ns, String name, Decision d, KubernetesClientException e) {
        int n = failures.merge(key, 1, Integer::sum);
        Optional<Duration> next = retry.afterFailures(n);
        if (next.isEmpty()) {
            failures.remove(key);
            reports.notEnrolled.put(ns, name, d.detail() + " [patch failed " + n + " times: HTTP " + e.getCode() + "]");
            LOG.errorf("backstop: giving up on pod %s/%s after %d attempts (HTTP %d: %s); next change or resync retries",
                    ns, name, n, e.getCode(), e.getMessage());
            return;
        }
        LOG.warnf("backstop: patching pod %s/%s failed (HTTP %d: %s); retry %d in %d s", ns, name, e.getCode(),
                e.getMessage(), n, next.get().toSeconds());
        retryLater.accept(key, next.get());
    }
}
