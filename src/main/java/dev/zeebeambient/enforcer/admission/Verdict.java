package dev.zeebeambient.enforcer.admission;

import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.zeebeambient.enforcer.decision.Decision;
import dev.zeebeambient.enforcer.decision.Outcome;
import dev.zeebeambient.enforcer.decision.Reason;
import dev.zeebeambient.enforcer.detection.Target;
import dev.zeebeambient.enforcer.detection.SourceRef;
import dev.zeebeambient.enforcer.enrollment.Enrollment;
import dev.zeebeambient.enforcer.enrollment.Origin;
import io.fabric8.kubernetes.api.model.Pod;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.List;

/**
 * The answer to one AdmissionReview as a value (like controller-runtime's {@code Response}):
 * always allowed, a patch or none, warnings for the kubectl user, the metric labels and the log
 * line. Computed by the pure functions below; {@link AdmissionHandler} encodes, counts and logs
 * it in one place, so no branch can miss its counter.
 */
public record Verdict(Kind kind, String reason, ArrayNode patch, List<String> warnings, Logger.Level logLevel, String log) {

    static final String PREFIX = "zeebe-ambient-enforcer: ";
    static final int MAX_WARNING = 119;

    /** The {@code decision} label of {@code zeebe_ambient_admission_requests_total}. */
    public enum Kind implements dev.zeebeambient.enforcer.tags.Tagged {
        ENROLL,
        WOULD_ENROLL,
        SKIP,
        /** not a Pod CREATE, or not a decodable Pod: allowed unchanged */
        ALLOW,
        /** called again after a later webhook changed a pod we enrolled, which now must not be: our label and annotations removed */
        RETRACT,
        /** our bug: allowed unchanged */
        ERROR;
    }

    /** Whether the pod is patched (an enrollment unless it is a dry run). */
    public boolean patched() {
        return patch != null;
    }

    static Verdict notPodCreate() {
        return new Verdict(Kind.ALLOW, "not-pod-create", null, List.of(), Logger.Level.TRACE, null);
    }

    static Verdict undecodable(AdmissionRequest req) {
        return new Verdict(Kind.ALLOW, "undecodable-pod", null, List.of(warning("object is not a decodable Pod; not checked")),
                Logger.Level.WARN, "admission uid " + req.uid() + " in namespace " + req.namespace()
                        + ": object is not a decodable Pod; admitted unchanged");
    }

    static Verdict internalError(AdmissionRequest req) {
        // logged with its stack trace where it was caught (AdmissionHandler), not again here
        return new Verdict(Kind.ERROR, "internal-error", null,
                List.of(warning("internal error, pod admitted unchanged (see enforcer logs)")), Logger.Level.TRACE, null);
    }

    /** The namespace a pod is created in: the request's, else the object's (generateName pods may lack it). */
    static String namespace(AdmissionRequest req, Pod pod) {
        return req.namespace() != null && !req.namespace().isEmpty() ? req.namespace()
                : pod.getMetadata() == null ? null : pod.getMetadata().getNamespace();
    }

    /** The verdict for a Pod CREATE: decided as it is, or (a second call for a pod this webhook enrolled) as it was before. */
    static Verdict forPod(AdmissionRequest req, Pod pod, AdmissionHandler.Decide decide, boolean audit, Enrollment enrollment) {
        String ns = namespace(req, pod);
        if (enrollment.enrolledBy(pod, dev.zeebeambient.enforcer.enrollment.Origin.ADMISSION)) {
            // called again (reinvocationPolicy IfNeeded) after a later webhook changed a pod this webhook enrolled: decide
            // the pod as it is now, without our marks; if it opted out meanwhile or got a sidecar, take the enrollment back
            return reinvoked(req, pod, decide.decide(enrollment.withoutOurMarks(pod), ns), enrollment);
        }
        return of(req, pod, decide.decide(pod, ns), audit, enrollment);
    }

    /** The verdict for a decided Pod CREATE: a pure function of request, pod, outcome and mode. */
    static Verdict of(AdmissionRequest req, Pod pod, Outcome outcome, boolean audit, Enrollment enrollment) {
        String ns = namespace(req, pod);
        Decision d = outcome.decision();
        String who = podName(ns, pod, req);
        String because = d.evidence().map(e -> e.source() + " -> " + e.target().name()).orElse(d.detail());
        List<String> warnings = new ArrayList<>();
        Kind kind;
        ArrayNode patch = null;
        Logger.Level level;
        String log;
        if (d.enroll() && audit) {
            kind = Kind.WOULD_ENROLL;
            warnings.add(warning("audit mode, unchanged; would enroll: " + because));
            level = Logger.Level.INFO;
            log = "audit: would enroll pod " + who + " in ambient: " + d.detail();
        } else if (d.enroll()) {
            kind = Kind.ENROLL;
            patch = enrollment.patch(req.object(), d, Origin.ADMISSION);
            warnings.add(warning("enrolled in ambient: " + because));
            level = Logger.Level.INFO;
            log = "enrolled pod " + who + " in ambient" + (req.dryRun() ? " (dry run)" : "") + ": " + d.detail();
        } else if (d.reason() == Reason.BYPASSES_WAYPOINT) {
            kind = Kind.SKIP;
            Target via = d.evidence().orElseThrow().target();
            warnings.add(warning("bypasses the waypoint (no per-request balancing): " + via.name() + "." + via.namespace() + ":"
                    + via.port()));
            d.fix().ifPresent(fix -> warnings.add(warning("fix: point it at " + fix)));
            level = Logger.Level.INFO;
            log = "Zeebe client pod " + who + " bypasses the waypoint: " + d.detail();
        } else if (d.reason().notable() && d.evidence().isPresent()) {
            kind = Kind.SKIP;
            warnings.add(warning("Zeebe client not enrolled: " + d.detail()));
            level = Logger.Level.INFO;
            log = "Zeebe client pod " + who + " not enrolled (" + d.reason().tag() + "): " + d.detail() + "; client evidence: "
                    + d.evidence().get().describe();
        } else {
            kind = Kind.SKIP;
            level = Logger.Level.DEBUG;
            log = "pod " + who + " skipped (" + d.reason().tag() + "): " + d.detail();
        }
        if (!outcome.namespaceLabelsKnown()) {
            warnings.add(warning("labels of namespace " + ns + " not loaded yet; decided from the pod alone"));
        }
        for (SourceRef r : outcome.unavailable()) {
            warnings.add(warning("could not read " + r + " in time; it was not checked"));
        }
        if (!d.enroll()) {
            // created after the Deployment, it may hold the gateway address: the backstop re-checks the pod later
            for (SourceRef r : outcome.missing()) {
                warnings.add(warning(r + " does not exist (yet); not checked, the backstop re-checks later"));
            }
        }
        return new Verdict(kind, d.reason().tag(), patch, List.copyOf(warnings), level, log);
    }

    /**
     * The verdict when the API server calls again for a pod this webhook enrolled (a later webhook changed it):
     * {@code outcome} is the decision about the pod as it is now, without our marks. Still a client to enroll: nothing to
     * do. Not any more (opted out, a sidecar, another dataplane mode): our label and annotations are removed.
     */
    static Verdict reinvoked(AdmissionRequest req, Pod pod, Outcome outcome, Enrollment enrollment) {
        String who = podName(namespace(req, pod), pod, req);
        Decision d = outcome.decision();
        if (d.enroll()) {
            return new Verdict(Kind.SKIP, "still-enrolled", null, List.of(), Logger.Level.DEBUG,
                    "pod " + who + " changed by a later webhook, still enrolled: " + d.detail());
        }
        ArrayNode patch = enrollment.retractPatch(req.object());
        return new Verdict(Kind.RETRACT, d.reason().tag(), patch.isEmpty() ? null : patch,
                List.of(warning("enrollment taken back after a later webhook: " + d.detail())), Logger.Level.INFO,
                "took back the ambient enrollment of pod " + who + (req.dryRun() ? " (dry run)" : "")
                        + ": a later webhook changed it (" + d.reason().tag() + "): " + d.detail());
    }

    private static String podName(String ns, Pod pod, AdmissionRequest req) {
        var m = pod.getMetadata();
        String name = m == null ? null : m.getName();
        if (name == null || name.isEmpty()) {
            name = m != null && m.getGenerateName() != null ? m.getGenerateName() + "*" : req.name();
        }
        return ns + "/" + name;
    }

    static String warning(String text) {
        return truncate(PREFIX + text, MAX_WARNING);
    }

    static String truncate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max - 3) + "...";
    }
}
