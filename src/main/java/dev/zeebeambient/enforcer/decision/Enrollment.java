package dev.zeebeambient.enforcer.decision;

import dev.zeebeambient.enforcer.config.EnforcerConfig;

import java.util.LinkedHashMap;
import java.util.Map;

/** The label and annotations an enrolled pod gets, whoever enrolls it (webhook or backstop). */
public final class Enrollment {

    private final String reasonAnnotation;
    private final String byAnnotation;

    public Enrollment(EnforcerConfig config) {
        this.reasonAnnotation = config.reasonAnnotation();
        int slash = reasonAnnotation.indexOf('/');
        this.byAnnotation = (slash > 0 ? reasonAnnotation.substring(0, slash + 1) : "") + "enrolled-by";
    }

    public Map<String, String> labels() {
        return Map.of(EnrollmentDecider.DATAPLANE_MODE, EnrollmentDecider.AMBIENT);
    }

    /** origin: {@code admission} or {@code backstop}. */
    public Map<String, String> annotations(Decision d, String origin) {
        Map<String, String> a = new LinkedHashMap<>();
        String detail = d.detail();
        a.put(reasonAnnotation, detail.length() <= 1024 ? detail : detail.substring(0, 1021) + "...");
        a.put(byAnnotation, origin);
        return a;
    }

    public String byAnnotation() {
        return byAnnotation;
    }
}
