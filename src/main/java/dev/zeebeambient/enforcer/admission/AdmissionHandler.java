package dev.zeebeambient.enforcer.admission;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.decision.Outcome;
import dev.zeebeambient.enforcer.enrollment.Enrollment;
import dev.zeebeambient.enforcer.enrollment.EnrollmentMetrics;
import dev.zeebeambient.enforcer.enrollment.Origin;
import dev.zeebeambient.enforcer.kube.DecisionService;
import io.fabric8.kubernetes.api.model.Pod;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

/**
 * decode -> decide -> verdict -> encode. Only a body that is not an AdmissionReview gets an error
 * (400); from the moment the uid is known every path ends in a {@link Verdict} that is allowed,
 * so a bug here can never block a pod. Counting and logging happen in {@link #respond} only.
 */
@ApplicationScoped
public class AdmissionHandler {

    private static final Logger LOG = Logger.getLogger(AdmissionHandler.class);

    /** The impure step (namespace labels, target selectors, ConfigMaps): {@link DecisionService} in the app. */
    @FunctionalInterface
    public interface Decide {
        Outcome decide(Pod pod, String namespace);
    }

    private final AdmissionCodec codec;
    private final LeanPodReader pods;
    private final Decide decide;
    private final Enrollment enrollment;
    private final boolean audit;
    private final AdmissionMetrics metrics;
    private final EnrollmentMetrics enrollments;

    @Inject
    public AdmissionHandler(ObjectMapper mapper, EnforcerConfig config, DecisionService decisions, AdmissionMetrics metrics,
            EnrollmentMetrics enrollments) {
        this(mapper, decisions::decide, new Enrollment(config), config.audit(), metrics, enrollments);
    }

    /** The same pipeline outside CDI (fuzz tests, benchmarks), with any {@link Decide}. */
    public AdmissionHandler(ObjectMapper mapper, Decide decide, Enrollment enrollment, boolean audit, AdmissionMetrics metrics,
            EnrollmentMetrics enrollments) {
        this.pods = new LeanPodReader(mapper);
        this.codec = new AdmissionCodec(mapper);
        this.decide = decide;
        this.enrollment = enrollment;
        this.audit = audit;
        this.metrics = metrics;
        this.enrollments = enrollments;
    }

    /** HTTP status and body. */
    public record Answer(int status, byte[] body) {
    }

    public Answer handle(byte[] body) {
        long start = System.nanoTime();
        AdmissionRequest req;
        try {
            req = codec.decode(body);
        } catch (BadReviewException e) {
            metrics.error("decode");
            LOG.warnf("rejected admission body (HTTP 400): %s", e.getMessage());
            return new Answer(400, codec.error(e.getMessage()));
        }
        Verdict verdict;
        try {
            verdict = review(req);
        } catch (RuntimeException e) {
            LOG.errorf(e, "internal error on admission uid %s for pod %s/%s; pod admitted unchanged", req.uid(), req.namespace(),
                    req.name());
            verdict = Verdict.internalError(req);
        }
        return respond(req, verdict, start);
    }

    private Verdict review(AdmissionRequest req) {
        if (!req.isPodCreate()) {
            return Verdict.notPodCreate();
        }
        Pod pod = decodePod(req);
        if (pod == null) {
            return Verdict.undecodable(req);
        }
        return Verdict.forPod(req, pod, decide, audit, enrollment);
    }

    /**
     * Only what the decision reads (see {@link LeanPodReader}), not a full fabric8 Pod; null if the object is
     * not a decodable Pod. Not wrapped in a catch-all: the reader returns null for any bad tree, so an exception
     * here is our bug, and it is answered (allowed) and counted as one, where the fuzz test sees it.
     */
    private Pod decodePod(AdmissionRequest req) {
        return pods.read(req.object());
    }

    /** The one place a verdict is counted, logged and encoded. */
    private Answer respond(AdmissionRequest req, Verdict v, long start) {
        if (v.kind() == Verdict.Kind.ERROR) {
            metrics.error("internal");
        }
        if (v.kind() == Verdict.Kind.ENROLL && !req.dryRun()) {
            enrollments.enrolled(Origin.ADMISSION);
        }
        if (v.log() != null) {
            LOG.log(v.logLevel(), v.log());
        }
        metrics.request(v.kind().tag(), v.reason(), req.dryRun(), start);
        return new Answer(200, codec.encode(req.uid(), v.patch(), v.warnings()));
    }
}
