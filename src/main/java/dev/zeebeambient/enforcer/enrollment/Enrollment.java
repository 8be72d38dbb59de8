package dev.zeebeambient.enforcer.enrollment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.decision.Decision;
import dev.zeebeambient.enforcer.decision.EnrollmentDecider;

import java.util.LinkedHashMap;
import java.util.Map;

/** The label and annotations an enrolled pod gets, whoever enrolls it (webhook or backstop). */
public final class Enrollment {

    /** The origin annotation's name, under the reason annotation's prefix (a configuration always has one: ConfigRules). */
    public static final String ORIGIN_NAME = "enrolled-by";

    private final String reasonAnnotation;
    private final String byAnnotation;

    public Enrollment(EnforcerConfig config) {
        this(config.reasonAnnotation());
    }

    public Enrollment(String reasonAnnotation) {
        this.reasonAnnotation = reasonAnnotation;
        int slash = reasonAnnotation.indexOf('/');
        this.byAnnotation = (slash > 0 ? reasonAnnotation.substring(0, slash + 1) : "") + ORIGIN_NAME;
    }

    public Map<String, String> labels() {
        return Map.of(EnrollmentDecider.DATAPLANE_MODE, EnrollmentDecider.AMBIENT);
    }

    public Map<String, String> annotations(Decision d, Origin origin) {
        Map<String, String> a = new LinkedHashMap<>();
        String detail = d.detail();
        a.put(reasonAnnotation, detail.length() <= 1024 ? detail : detail.substring(0, 1021) + "...");
        a.put(byAnnotation, origin.tag());
        return a;
    }

    /** The RFC 6902 operations that enroll {@code pod} (its JSON as received or as stored). */
    public ArrayNode patch(JsonNode pod, Decision d, Origin origin) {
        return PodPatch.enroll(pod, labels(), annotations(d, origin));
    }

    /**
     * The JSON merge patch that enrolls a pod known only by a projection, conditional on
     * {@code resourceVersion} (see {@link PodPatch#mergeEnroll}).
     */
    public com.fasterxml.jackson.databind.node.ObjectNode mergePatch(String resourceVersion, Decision d, Origin origin) {
        return PodPatch.mergeEnroll(resourceVersion, labels(), annotations(d, origin));
    }

    /** Whether {@code pod} carries this enforcer's enrollment by {@code origin} (its origin annotation says so). */
    public boolean enrolledBy(io.fabric8.kubernetes.api.model.Pod pod, Origin origin) {
        var a = pod.getMetadata() == null ? null : pod.getMetadata().getAnnotations();
        return a != null && origin.tag().equals(a.get(byAnnotation));
    }

    /** {@code pod} as it was before this enforcer enrolled it: without our annotations, and without our label if it is still ours. */
    public io.fabric8.kubernetes.api.model.Pod withoutOurMarks(io.fabric8.kubernetes.api.model.Pod pod) {
        var copy = new io.fabric8.kubernetes.api.model.PodBuilder(pod).build();
        var meta = copy.getMetadata();
        Map<String, String> labels = meta.getLabels() == null ? new LinkedHashMap<>() : new LinkedHashMap<>(meta.getLabels());
        if (EnrollmentDecider.AMBIENT.equals(labels.get(EnrollmentDecider.DATAPLANE_MODE))) {
            labels.remove(EnrollmentDecider.DATAPLANE_MODE);
        }
        Map<String, String> annotations = meta.getAnnotations() == null ? new LinkedHashMap<>() : new LinkedHashMap<>(meta.getAnnotations());
        annotations.remove(reasonAnnotation);
        annotations.remove(byAnnotation);
        meta.setLabels(labels);
        meta.setAnnotations(annotations);
        return copy;
    }

    /**
     * The RFC 6902 operations that take this enforcer's enrollment back from {@code pod} (its JSON as received): our
     * label if it still says ambient (a later mutation may have set another value, which stays), our two annotations.
     */
    public ArrayNode retractPatch(JsonNode pod) {
        ArrayNode ops = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.arrayNode();
        JsonNode meta = pod == null ? null : pod.get("metadata");
        if (meta == null) {
            return ops;
        }
        JsonNode labels = meta.get("labels");
        if (labels != null && EnrollmentDecider.AMBIENT.equals(labels.path(EnrollmentDecider.DATAPLANE_MODE).asText(null))) {
            ops.addObject().put("op", "remove").put("path", "/metadata/labels/" + PodPatch.escape(EnrollmentDecider.DATAPLANE_MODE));
        }
        JsonNode annotations = meta.get("annotations");
        for (String key : java.util.List.of(reasonAnnotation, byAnnotation)) {
            if (annotations != null && annotations.has(key)) {
                ops.addObject().put("op", "remove").put("path", "/metadata/annotations/" + PodPatch.escape(key));
            }
        }
        return ops;
    }

    public String reasonAnnotation() {
        return reasonAnnotation;
    }

    public String byAnnotation() {
        return byAnnotation;
    }
}
