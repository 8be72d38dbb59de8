package dev.zeebeambient.enforcer.backstop;

import dev.zeebeambient.enforcer.decision.Decision;
import dev.zeebeambient.enforcer.decision.Outcome;
import dev.zeebeambient.enforcer.decision.Reason;
import dev.zeebeambient.enforcer.detection.SourceRef;
import dev.zeebeambient.enforcer.decision.Rules;
import dev.zeebeambient.enforcer.testsupport.TestConfig;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The backstop's small pure parts, each on its own: rate limit, retry, reconcile, queue, watched namespaces, Event batches. */
class BackstopPoliciesTest {

    static final long S = 1_000_000_000L;

    // --- RateLimit -------------------------------------------------------------------------------------------

    @Test
    void rateLimitLetsABurstThroughThenSpacesPatches() {
        RateLimit r = new RateLimit(10, 3);
        long t = 5 * S;
        assertEquals(0, r.tryAcquire(t));
        assertEquals(0, r.tryAcquire(t));
        assertEquals(0, r.tryAcquire(t), "burst of 3");
        long wait = r.tryAcquire(t);
        assertEquals(S / 10, wait, "the 4th waits one interval (100 ms at 10/s)");
        assertEquals(S / 20, r.tryAcquire(t + S / 20), "nothing was taken by asking: half the interval is left");
        assertEquals(0, r.tryAcquire(t + S / 10));
    }

    @Test
    void rateLimitAveragesToTheRate() {
        RateLimit r = RateLimit.perSecond(10);
        long t = 0;
        int granted = 0;
        while (t < 10 * S) { // a caller that always comes back exactly when told
            long w = r.tryAcquire(t);
            if (w == 0) {
                granted++;
            } else {
                t += w;
            }
        }
        assertTrue(granted >= 100 && granted <= 111, "10/s for 10 s plus one burst of 10: " + granted);
    }

    @Test
    void rateLimitRefillsOnlyUpToTheBurst() {
        RateLimit r = new RateLimit(1, 2);
        r.tryAcquire(0);
        long later = 3600 * S; // an hour idle
        assertEquals(0, r.tryAcquire(later));
        assertEquals(0, r.tryAcquire(later));
        assertTrue(r.tryAcquire(later) > 0, "an idle hour does not buy 3600 patches at once");
    }

    @Test
    void rateLimitRejectsNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new RateLimit(0, 1));
        assertThrows(IllegalArgumentException.class, () -> new RateLimit(Double.NaN, 1));
        assertThrows(IllegalArgumentException.class, () -> new RateLimit(1, 0));
        assertEquals(0, RateLimit.perSecond(0.01).tryAcquire(0), "a slow rate still has a burst of 1");
    }

    // --- RetryPolicy -----------------------------------------------------------------------------------------

    @Test
    void retryBacksOffExponentiallyCappedThenGivesUp() {
        RetryPolicy p = new RetryPolicy(10, Duration.ofSeconds(1), Duration.ofSeconds(8));
        assertEquals(Optional.of(Duration.ofSeconds(1)), p.afterFailures(1));
        assertEquals(Optional.of(Duration.ofSeconds(2)), p.afterFailures(2));
        assertEquals(Optional.of(Duration.ofSeconds(4)), p.afterFailures(3));
        assertEquals(Optional.of(Duration.ofSeconds(8)), p.afterFailures(4));
        assertEquals(Optional.of(Duration.ofSeconds(8)), p.afterFailures(9), "capped");
        assertEquals(Optional.empty(), p.afterFailures(10), "10 attempts: give up until the pod changes");
        assertEquals(Optional.of(Duration.ZERO), p.afterFailures(0));
        assertEquals(Optional.empty(), RetryPolicy.of(5).afterFailures(5));
        assertEquals(Optional.of(Duration.ofSeconds(64)), new RetryPolicy(100, Duration.ofSeconds(1), Duration.ofSeconds(64))
                .afterFailures(99), "no overflow for large counts");
    }

    // --- Reconcile -------------------------------------------------------------------------------------------

    static final String BY = "zeebe-ambient-enforcer.io/enrolled-by";

    static Pod pod(Map<String, String> labels, String phase, boolean deleting) {
        return new PodBuilder().withNewMetadata().withName("p").withNamespace("apps").withLabels(labels)
                .withDeletionTimestamp(deleting ? "2026-11-26T10:00:00Z" : null).endMetadata()
                .withNewStatus().withPhase(phase).endStatus().build();
    }

    @Test
    void reconcileSkipsPodsItNeverWritesBeforeDeciding() {
        assertInstanceOf(Reconcile.Forget.class, Reconcile.before(pod(Map.of("istio.io/dataplane-mode", "none"), "Running", false), BY).get());
        assertInstanceOf(Reconcile.Forget.class, Reconcile.before(pod(Map.of("istio.io/dataplane-mode", "ambient"), "Running", false), BY).get());
        assertInstanceOf(Reconcile.Forget.class, Reconcile.before(pod(Map.of(), "Running", true), BY).get());
        assertInstanceOf(Reconcile.Forget.class, Reconcile.before(pod(Map.of(), "Succeeded", false), BY).get());
        assertInstanceOf(Reconcile.Forget.class, Reconcile.before(pod(Map.of(), "Failed", false), BY).get());
        assertTrue(Reconcile.before(pod(Map.of(), "Running", false), BY).isEmpty());
        assertTrue(Reconcile.before(pod(Map.of(), "Pending", false), BY).isEmpty());
        assertTrue(Reconcile.before(pod(null, null, false), BY).isEmpty());
        // labelled by the backstop and still running: taken up again (by a new leader), not dropped
        Pod late = pod(Map.of("istio.io/dataplane-mode", "ambient"), "Running", false);
        late.getMetadata().setAnnotations(Map.of(BY, "backstop"));
        assertInstanceOf(Reconcile.EnrolledWhileRunning.class, Reconcile.before(late, BY).get());
        late.getMetadata().setAnnotations(Map.of(BY, "admission"));
        assertInstanceOf(Reconcile.Forget.class, Reconcile.before(late, BY).get(), "enrolled at admission: nothing to restart");
        late.getMetadata().setAnnotations(Map.of(BY, "backstop"));
        late.getMetadata().setDeletionTimestamp("2026-11-26T10:00:00Z");
        assertInstanceOf(Reconcile.Forget.class, Reconcile.before(late, BY).get(), "being replaced");
    }

    static final Decision CLIENT = new Decision(Reason.ZEEBE_CLIENT, "container app: env ZEEBE_ADDRESS -> camunda/x:26500", Optional.empty());

    @Test
    void reconcileActsOnTheDecision() {
        Outcome enroll = new Outcome(CLIENT, true, Set.of());
        assertEquals(new Reconcile.Enroll(CLIENT), Reconcile.after(enroll, false, true, "me"));
        Reconcile.Report audit = (Reconcile.Report) Reconcile.after(enroll, true, true, "me");
        assertTrue(audit.why().endsWith("[audit mode: not changed]"), audit.why());
        Reconcile.Report follower = (Reconcile.Report) Reconcile.after(enroll, false, false, "replica-b");
        assertTrue(follower.why().contains("not the leader: replica-b enrolls it"), follower.why());
        Reconcile.Later later = (Reconcile.Later) Reconcile.after(new Outcome(CLIENT, false, Set.of()), false, true, "me");
        assertEquals(Reconcile.LABELS_UNKNOWN_RETRY, later.delay(), "never decided blind");
        Decision bypass = new Decision(Reason.BYPASSES_WAYPOINT, "talks to camunda/camunda-zeebe-gateway:26500", Optional.empty());
        assertEquals(new Reconcile.Bypassing(bypass.detail()), Reconcile.after(new Outcome(bypass, true, Set.of()), false, true, "me"));
        assertInstanceOf(Reconcile.Forget.class, Reconcile.after(new Outcome(new Decision(Reason.NOT_A_CLIENT, "no", Optional.empty()), true,
                Set.of()), false, true, "me"));
        assertInstanceOf(Reconcile.Forget.class, Reconcile.after(new Outcome(new Decision(Reason.NAMESPACE_NOT_OPTED_IN, "no", Optional.empty()), true,
                Set.of()), true, false, "x"), "audit or not, follower or not: nothing to report for a non-client");
    }

    @Test
    void aDecisionWithoutItsSourcesIsCheckedAgainNotForgotten() {
        Decision notYet = new Decision(Reason.NOT_A_CLIENT, "no address of a target gateway in the pod spec", Optional.empty());
        Reconcile.Recheck missing = (Reconcile.Recheck) Reconcile.after(new Outcome(notYet, true, Set.of(),
                Set.of(SourceRef.configMap("zeebe"))), false, true, "me");
        assertTrue(missing.why().contains("not there (yet): [" + SourceRef.configMap("zeebe") + "]"), missing.why());
        Reconcile.Recheck unreadable = (Reconcile.Recheck) Reconcile.after(new Outcome(notYet, true, Set.of(SourceRef.configMap("slow"))),
                false, true, "me");
        assertTrue(unreadable.why().contains("not readable in time: [" + SourceRef.configMap("slow") + "]"), unreadable.why());
        // bounded: 1 s doubling, capped, then given up until the pod changes or the resync
        assertEquals(Optional.of(Duration.ofSeconds(1)), Reconcile.SOURCE_RETRY.afterFailures(1));
        assertEquals(Optional.of(Duration.ofMinutes(1)), Reconcile.SOURCE_RETRY.afterFailures(9));
        assertTrue(Reconcile.SOURCE_RETRY.afterFailures(10).isEmpty());
    }

    // --- WorkQueue -------------------------------------------------------------------------------------------

    @Test
    void workQueueHoldsEachKeyOnceInOrder() {
        WorkQueue q = new WorkQueue();
        assertTrue(q.add("a/1"));
        assertTrue(q.add("a/2"));
        assertEquals(false, q.add("a/1"), "ten changes while queued: decided once");
        assertEquals(2, q.size());
        assertEquals("a/1", q.poll());
        q.done("a/1");
        assertTrue(q.add("a/1"), "done: may be queued again");
        assertEquals("a/2", q.poll());
        q.putBack("a/2");
        assertEquals("a/2", q.poll(), "put back: first");
        q.done("a/2");
        assertEquals("a/1", q.poll());
        q.done("a/1");
        assertNull(q.poll());
        q.add("x/y");
        q.clear();
        assertEquals(0, q.size());
        assertNull(q.poll());
    }

    @Test
    void workQueueNeverHandsOutAKeyThatIsStillBeingProcessed() {
        WorkQueue q = new WorkQueue();
        q.add("a/1");
        assertEquals("a/1", q.poll());
        assertTrue(q.add("a/1"), "changed while its patch is in flight");
        assertNull(q.poll(), "not handed out twice at once (two patches of one pod)");
        assertEquals(1, q.processing());
        q.done("a/1");
        assertEquals("a/1", q.poll(), "queued again once done: decided on its latest state");
        q.done("a/1");
        assertNull(q.poll());

        q.add("b/1");
        assertEquals("b/1", q.poll());
        q.add("b/1"); // changed meanwhile, then put back (rate limit): exactly one entry
        q.putBack("b/1");
        assertEquals("b/1", q.poll());
        q.done("b/1");
        assertNull(q.poll(), "not twice");
        assertEquals(0, q.size());
        assertEquals(0, q.processing());
    }

    // --- WatchedNamespaces -----------------------------------------------------------------------------------

    @Test
    void onlyOptedInNamespacesWherePodsCanStillBeEnrolledAreWatched() {
        Rules rules = TestConfig.rules();
        Map<String, Map<String, String>> ns = new HashMap<>();
        ns.put("apps", Map.of("zeebe-ambient-enforcer.io/enabled", "true"));
        ns.put("other", Map.of());
        ns.put("wrong-value", Map.of("zeebe-ambient-enforcer.io/enabled", "yes"));
        ns.put("kube-system", Map.of("zeebe-ambient-enforcer.io/enabled", "true"));
        ns.put("all-ambient", Map.of("zeebe-ambient-enforcer.io/enabled", "true", "istio.io/dataplane-mode", "ambient"));
        ns.put("none", Map.of("zeebe-ambient-enforcer.io/enabled", "true", "istio.io/dataplane-mode", "none"));
        ns.put("sidecars", Map.of("zeebe-ambient-enforcer.io/enabled", "true", "istio-injection", "enabled"));
        assertEquals(Set.of("apps", "sidecars"), WatchedNamespaces.of(ns, rules),
                "sidecar namespaces stay: a pod there may opt out of injection and be enrolled");
        assertEquals(false, WatchedNamespaces.watched("x", null, rules));
    }

    // --- EventBatch ------------------------------------------------------------------------------------------

    static Pod owned(String name, String kind, String owner) {
        PodBuilder b = new PodBuilder().withNewMetadata().withName(name).withNamespace("apps").withUid("uid-" + name).endMetadata();
        if (owner != null) {
            b.editMetadata().addNewOwnerReference().withApiVersion("apps/v1").withKind(kind).withName(owner).withUid("uid-" + owner)
                    .withController(true).endOwnerReference().endMetadata();
        }
        return b.build();
    }

    @Test
    void eventsAreAboutTheControllingWorkloadOrTheBarePod() {
        assertEquals(new EventBatch.Subject("apps/v1", "ReplicaSet", "apps", "worker-5d9", "uid-worker-5d9"),
                EventBatch.Subject.of(owned("worker-5d9-a", "ReplicaSet", "worker-5d9")));
        assertEquals(new EventBatch.Subject("v1", "Pod", "apps", "solo", "uid-solo"), EventBatch.Subject.of(owned("solo", null, null)));
        Pod notController = new PodBuilder(owned("x", null, null)).editMetadata().addNewOwnerReference().withKind("ConfigMap")
                .withName("cm").withApiVersion("v1").withController(false).endOwnerReference().endMetadata().build();
        assertEquals("Pod", EventBatch.Subject.of(notController).kind(), "only a controller owner is the subject");
    }

    @Test
    void aBatchNamesTheCountSomePodsAndTheLatestReason() {
        EventBatch.Subject rs = EventBatch.Subject.of(owned("w-a", "ReplicaSet", "w"));
        EventBatch b = new EventBatch(new EventBatch.Key(rs, "backstop"));
        for (String p : new String[] {"w-a", "w-b", "w-c", "w-d", "w-e"}) {
            b.add(p, "Enrolled in Istio ambient by the backstop: " + p);
        }
        assertEquals(5, b.count());
        assertEquals("12 pods of ReplicaSet w so far (now: w-a, w-b, w-c and 2 more). Latest: Enrolled in Istio ambient by the backstop: w-e",
                b.message(12));
        EventBatch one = new EventBatch(new EventBatch.Key(EventBatch.Subject.of(owned("solo", null, null)), "admission"));
        one.add("solo", "Enrolled in Istio ambient at admission: container app: env ZEEBE_ADDRESS");
        assertEquals("Enrolled in Istio ambient at admission: container app: env ZEEBE_ADDRESS", one.message(1),
                "a bare pod's Event reads as before");
        EventBatch longOne = new EventBatch(new EventBatch.Key(rs, "backstop"));
        longOne.add("w-a", "x".repeat(5000));
        assertEquals(EventBatch.MAX_MESSAGE, longOne.message(1).length());
        assertTrue(longOne.message(1).endsWith("..."));
    }
}
