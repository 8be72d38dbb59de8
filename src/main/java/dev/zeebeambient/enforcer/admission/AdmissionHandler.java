package dev.zeebeambient.enforcer.admission;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.decision.Decision;
import dev.zeebeambient.enforcer.decision.DecisionService;
import dev.zeebeambient.enforcer.decision.Enrollment;
import dev.zeebeambient.enforcer.detection.SourceRef;
import io.fabric8.kubernetes.api.model.Pod;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * decode -> decide -> patch -> respond. Only a body that is not an AdmissionReview gets an
 * error (400); from the moment the uid is known every path answers {@code allowed: true}, so a
 * bug here can never block a pod.
 */
@ApplicationScoped
public class AdmissionHandler {

    private static final Logger LOG = Logger.getLogger(AdmissionHandler.class);
    static final String PREFIX = "zeebe-ambient-enforcer: ";
    static final int MAX_WARNING = 119;

    private final AdmissionCodec codec;
    private final ObjectMapper mapper;
    private final DecisionService decisions;
    private final Enrollment enrollment;
    private final boolean audit;
    private final AdmissionMetrics metrics;

    public AdmissionHandler(ObjectMapper mapper, EnforcerConfig config, DecisionService decisions, AdmissionMetrics metrics) {
        this.mapper = mapper;
        this.codec = new AdmissionCodec(mapper);
        this.decisions = decisions;
        this.enrollment = new Enrollment(config);
        this.audit = config.audit();
        this.metrics = metrics;
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
        try {
            return new Answer(200, review(req, start));
        } catch (RuntimeException e) {
            metrics.error("internal");
            metrics.request("error", "internal-error", req.dryRun(), start);
            LOG.errorf(e, "internal error on admission uid %s for %s/%s; pod admitted unchanged", req.uid(),
                    req.namespace(), req.name());
            return new Answer(200, codec.encode(req.uid(), null,
                    List.of(PREFIX + "internal error, pod admitted unchanged (see enforcer logs)")));
        }
    }

    private byte[] review(AdmissionRequest req, long start) {
        if (!req.isPodCreate()) {
            metrics.request("allow", "not-pod-create", req.dryRun(), start);
            return codec.encode(req.uid(), null, List.of());
        }
        Pod pod;
        try {
            pod = req.object() == null ? null : mapper.treeToValue(req.object(), Pod.class);
        } catch (Exception e) {
            pod = null;
        }
        if (pod == null) {
            metrics.request("allow", "undecodable-pod", req.dryRun(), start);
            LOG.warnf("admission uid %s in namespace %s: object is not a decodable Pod; admitted unchanged",
                    req.uid(), req.namespace());
            return codec.encode(req.uid(), null, List.of(PREFIX + "object is not a decodable Pod; not checked"));
        }
        String ns = req.namespace() != null && !req.namespace().isEmpty() ? req.namespace()
                : pod.getMetadata() == null ? null : pod.getMetadata().getNamespace();
        DecisionService.Outcome outcome = decisions.decide(pod, ns);
        Decision d = outcome.decision();

        List<String> warnings = new ArrayList<>();
        ArrayNode patch = null;
        String who = podName(ns, pod, req);
        String because = d.evidence().map(e -> e.source() + " -> " + e.target().name()).orElse(d.detail());
        if (d.enroll() && audit) {
            warnings.add(warning("audit mode, unchanged; would enroll: " + because));
            LOG.infof("audit: would enroll pod %s in ambient: %s", who, d.detail());
        } else if (d.enroll()) {
            patch = PodPatch.enroll(req.object(), enrollment.labels(), enrollment.annotations(d, "admission"));
            warnings.add(warning("enrolled in ambient: " + because));
            if (!req.dryRun()) {
                metrics.enrolled("admission");
            }
            LOG.infof("enrolled pod %s in ambient%s: %s", who, req.dryRun() ? " (dry run)" : "", d.detail());
        } else {
            if (d.reason().notable() && d.evidence().isPresent()) {
                warnings.add(warning("Zeebe client not enrolled: " + d.detail()));
                LOG.infof("Zeebe client pod %s not enrolled (%s): %s; client evidence: %s", who, d.reason().tag(),
                        d.detail(), d.evidence().get().describe());
            } else {
                LOG.debugf("pod %s skipped (%s): %s", who, d.reason().tag(), d.detail());
            }
        }
        if (!outcome.namespaceLabelsKnown()) {
            warnings.add(warning("labels of namespace " + ns + " not loaded yet; decided from the pod alone"));
        }
        for (SourceRef r : outcome.unavailable()) {
            warnings.add(warning("could not read " + r + " in time; it was not checked"));
        }
        metrics.request(d.enroll() ? (audit ? "would-enroll" : "enroll") : "skip", d.reason().tag(), req.dryRun(), start);
        return codec.encode(req.uid(), patch, warnings);
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
