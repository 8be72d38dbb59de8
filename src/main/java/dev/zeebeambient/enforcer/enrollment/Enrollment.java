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

    public String reasonAnnotation() {
        return reasonAnnotation;
    }

    public String byAnnotation() {
        return byAnnotation;
    }
}
