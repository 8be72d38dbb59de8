package dev.zeebeambient.enforcer.backstop;

import dev.zeebeambient.enforcer.decision.Decision;
import dev.zeebeambient.enforcer.decision.EnrollmentDecider;
import dev.zeebeambient.enforcer.decision.Outcome;
import dev.zeebeambient.enforcer.decision.Reason;
import dev.zeebeambient.enforcer.enrollment.Origin;
import io.fabric8.kubernetes.api.model.Pod;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * What the backstop does with one pod: a pure function of the pod, the decision about it and
 * the backstop's situation. The caller carries the action out (patch, report, forget, look again).
 */
final class Reconcile {

    /** Namespace labels not loaded yet: look again shortly instead of deciding blind. */
    static final Duration LABELS_UNKNOWN_RETRY = Duration.ofSeconds(2);

    sealed interface Action permits Forget, Later, Recheck, Bypassing, Report, Enroll, EnrolledWhileRunning {
    }

    /**
     * Labelled by the backstop (by this replica or by a leader before it) and still running: its connections opened before
     * the label stay outside the waypoint until it is replaced. A new leader takes these up again (the report, and with
     * restart-workloads the restart) instead of dropping them with the other labelled pods: the replica that scheduled
     * the restart may be gone (a rollout of the enforcer itself).
     */
    record EnrolledWhileRunning() implements Action {
    }

    /** Nothing to do (labelled, going away, finished, or not a client): drop any report about it. */
    record Forget(String why) implements Action {
    }

    /** Decide again after {@code delay}. */
    record Later(Duration delay, String why) implements Action {
    }

    /**
     * Not enrolled, but decided without a ConfigMap/Secret the pod references (not readable in time, or
     * not there yet: a Deployment applied before its ConfigMap): decide again with backoff
     * ({@link #SOURCE_RETRY}) rather than wait for the resync.
     */
    record Recheck(String why) implements Action {
    }

    /** How often a pod whose sources could not be read is decided again: 1 s doubling to 1 min, 10 times (~5 min). */
    static final RetryPolicy SOURCE_RETRY = new RetryPolicy(10, Duration.ofSeconds(1), Duration.ofMinutes(1));

    /** A client of a gateway Service that is not behind the waypoint: tell the user in /status. */
    record Bypassing(String detail) implements Action {
    }

    /** A client that stays unlabelled for a reason the user should see in /status. */
    record Report(String why) implements Action {
    }

    /** Label it. */
    record Enroll(Decision decision) implements Action {
    }

    private Reconcile() {
    }

    /**
     * Before any decision: pods the backstop never writes to. Empty: decide.
     *
     * @param byAnnotation the annotation that says who enrolled a pod ({@code Enrollment.byAnnotation()})
     */
    static Optional<Action> before(Pod pod, String byAnnotation) {
        if (pod.getMetadata().getDeletionTimestamp() != null) {
            return Optional.of(new Forget("being deleted"));
        }
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        if ("Succeeded".equals(phase) || "Failed".equals(phase)) {
            return Optional.of(new Forget("finished (" + phase + ")"));
        }
        Map<String, String> labels = pod.getMetadata().getLabels();
        if (labels != null && labels.containsKey(EnrollmentDecider.DATAPLANE_MODE)) {
            Map<String, String> annotations = pod.getMetadata().getAnnotations();
            if ("ambient".equals(labels.get(EnrollmentDecider.DATAPLANE_MODE)) && annotations != null
                    && Origin.BACKSTOP.tag().equals(annotations.get(byAnnotation))) {
                return Optional.of(new EnrolledWhileRunning());
            }
            return Optional.of(new Forget("has " + EnrollmentDecider.DATAPLANE_MODE));
        }
        return Optional.empty();
    }

    /**
     * @param audit  enforcer.audit: decide and report, never write
     * @param leader whether this replica writes; {@code holder} who does otherwise
     */
    static Action after(Outcome outcome, boolean audit, boolean leader, String holder) {
        if (!outcome.namespaceLabelsKnown()) {
            // unlike the webhook, no namespaceSelector stands in front of us: never decide blind
            return new Later(LABELS_UNKNOWN_RETRY, "namespace labels not loaded yet");
        }
        Decision d = outcome.decision();
        if (!d.enroll()) {
            if (d.reason() == Reason.BYPASSES_WAYPOINT) {
                return new Bypassing(d.detail());
            }
            if (!outcome.unavailable().isEmpty() || !outcome.missing().isEmpty()) {
                return new Recheck(d.detail() + (outcome.unavailable().isEmpty() ? "" : "; not readable in time: " + outcome.unavailable())
                        + (outcome.missing().isEmpty() ? "" : "; not there (yet): " + outcome.missing()));
            }
            return new Forget(d.reason().name());
        }
        if (audit) {
            return new Report(d.detail() + " [audit mode: not changed]");
        }
        if (!leader) {
            return new Report(d.detail() + " [not the leader: " + holder + " enrolls it]");
        }
        return new Enroll(d);
    }
}
