package dev.zeebeambient.enforcer.admission;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.decision.Decision;
import dev.zeebeambient.enforcer.decision.EnrollmentDecider;
import dev.zeebeambient.enforcer.decision.PodContext;
import dev.zeebeambient.enforcer.decision.Rules;
import dev.zeebeambient.enforcer.detection.ResolvedSources;
import dev.zeebeambient.enforcer.detection.SourceRef;
import dev.zeebeambient.enforcer.kube.NamespaceCache;
import dev.zeebeambient.enforcer.kube.SourceResolver;
import dev.zeebeambient.enforcer.kube.TargetServices;
import io.fabric8.kubernetes.api.model.Pod;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
    private final EnrollmentDecider decider;
    private final String reasonAnnotation;
    private final NamespaceCache namespaces;
    private final TargetServices targets;
    private final SourceResolver resolver;
    private final AdmissionMetrics metrics;

    public AdmissionHandler(ObjectMapper mapper, EnforcerConfig config, NamespaceCache namespaces,
            TargetServices targets, SourceResolver resolver, AdmissionMetrics metrics) {
        this.mapper = mapper;
        this.codec = new AdmissionCodec(mapper);
        this.decider = new EnrollmentDecider(Rules.from(config));
        this.reasonAnnotation = config.reasonAnnotation();
        this.namespaces = namespaces;
        this.targets = targets;
        this.resolver = resolver;
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
        Map<String, String> nsLabels = namespaces.labels(ns);
        Set<SourceRef> refs = decider.detector().references(pod.getSpec());
        ResolvedSources sources = resolver.resolve(ns, refs);
        Decision d = decider.decide(new PodContext(pod, ns, nsLabels, targets.selectors(), sources));

        List<String> warnings = new ArrayList<>();
        ArrayNode patch = null;
        String who = podName(ns, pod, req);
        if (d.enroll()) {
            patch = PodPatch.enroll(req.object(), Map.of(EnrollmentDecider.DATAPLANE_MODE, EnrollmentDecider.AMBIENT),
                    Map.of(reasonAnnotation, truncate(d.detail(), 1024)));
            warnings.add(warning("enrolled in ambient: " + d.evidence()
                    .map(e -> e.source() + " -> " + e.target().name()).orElse(d.detail())));
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
        if (nsLabels == null) {
            warnings.add(warning("labels of namespace " + ns + " not loaded yet; decided from the pod alone"));
        }
        for (SourceRef r : sources.unavailable()) {
            warnings.add(warning("could not read " + r + " in time; it was not checked"));
        }
        metrics.request(d.enroll() ? "enroll" : "skip", d.reason().tag(), req.dryRun(), start);
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

    private static String truncate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max - 3) + "...";
    }
}
