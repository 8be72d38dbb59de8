package dev.zeebeambient.enforcer.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.zeebeambient.enforcer.admission.AdmissionCodec;
import dev.zeebeambient.enforcer.admission.AdmissionRequest;
import dev.zeebeambient.enforcer.admission.BadReviewException;
import dev.zeebeambient.enforcer.admission.PodPatch;
import dev.zeebeambient.enforcer.decision.Decision;
import dev.zeebeambient.enforcer.decision.EnrollmentDecider;
import dev.zeebeambient.enforcer.decision.PodContext;
import dev.zeebeambient.enforcer.decision.Rules;
import dev.zeebeambient.enforcer.detection.AddressMatcher;
import dev.zeebeambient.enforcer.detection.ResolvedSources;
import dev.zeebeambient.enforcer.detection.Target;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.zjsonpatch.JsonPatch;

import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Jazzer fuzz tests. Without JAZZER_FUZZ they replay the seed corpus (src/test/resources/.../
 * AdmissionFuzzTestInputs) as regression tests; with JAZZER_FUZZ=1 they fuzz for maxDuration
 * (.ci/run does a bounded run; README "Hardening" has the long command).
 */
class AdmissionFuzzTest {

    static final ObjectMapper M = new ObjectMapper();
    static final AdmissionCodec CODEC = new AdmissionCodec(M);
    static final EnrollmentDecider DECIDER = new EnrollmentDecider(Rules.defaults());
    static final AddressMatcher MATCHER = new AddressMatcher(List.of(Target.parse("camunda/camunda-zeebe-gateway-grpc:26500")),
            "cluster.local");

    /** decode -> decide -> patch -> encode: only BadReviewException may escape; a patch always applies. */
    @FuzzTest(maxDuration = "30s")
    void admissionPath(byte[] body) throws Exception {
        checkAdmissionPath(body);
    }

    @FuzzTest(maxDuration = "30s")
    void addressParser(String value) {
        checkAddress(value);
    }

    static void checkAdmissionPath(byte[] body) throws Exception {
        AdmissionRequest req;
        try {
            req = CODEC.decode(body);
        } catch (BadReviewException expected) {
            return; // answered 400
        }
        ArrayNode patch = null;
        if (req.isPodCreate() && req.object() != null) {
            Pod pod;
            try {
                pod = M.treeToValue(req.object(), Pod.class);
            } catch (Exception undecodable) {
                return; // answered allowed + warning
            }
            if (pod == null) {
                return;
            }
            Decision d = DECIDER.decide(new PodContext(pod, req.namespace(), Map.of("zeebe-ambient-enforcer.io/enabled", "true"),
                    Map.of(), ResolvedSources.NONE));
            if (d.enroll()) {
                patch = PodPatch.enroll(req.object(), Map.of("istio.io/dataplane-mode", "ambient"),
                        Map.of("zeebe-ambient-enforcer.io/enrolled-because", d.detail()));
                JsonNode patched = JsonPatch.apply(patch, req.object());
                assertEquals("ambient", patched.path("metadata").path("labels").path("istio.io/dataplane-mode").asText());
            }
        }
        JsonNode response;
        try {
            response = M.readTree(CODEC.encode(req.uid(), patch, List.of())).path("response");
        } catch (java.io.IOException e) {
            throw new AssertionError("the encoded response is not JSON", e);
        }
        assertEquals(req.uid(), response.path("uid").asText(), "the response answers this request");
        assertTrue(response.path("allowed").asBoolean(), "never denies");
        assertEquals(patch != null, response.path("patch").isTextual(), "a patch exactly when the pod is enrolled");
        if (patch != null) {
            assertEquals("JSONPatch", response.path("patchType").asText());
            assertEquals(patch, M.readTree(java.util.Base64.getDecoder().decode(response.path("patch").asText())));
        }
    }

    /** The address parser never throws, and never matches a value that does not name the target. */
    static void checkAddress(String value) {
        boolean whole = MATCHER.matchValue(value, "camunda").isPresent();
        boolean scanned = MATCHER.scan(value, "apps").isPresent();
        if (whole || scanned) {
            assertTrue(value.toLowerCase(Locale.ROOT).contains("camunda-zeebe-gateway-grpc"), value);
        }
        if (scanned) {
            assertTrue(value.toLowerCase(Locale.ROOT).contains("camunda-zeebe-gateway-grpc.camunda"), "a short name only counts in its namespace: " + value);
        }
    }
}
