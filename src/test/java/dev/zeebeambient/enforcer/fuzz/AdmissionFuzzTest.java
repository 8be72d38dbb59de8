package dev.zeebeambient.enforcer.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.zeebeambient.enforcer.admission.AdmissionCodec;
import dev.zeebeambient.enforcer.admission.AdmissionHandler;
import dev.zeebeambient.enforcer.admission.AdmissionMetrics;
import dev.zeebeambient.enforcer.decision.Outcome;
import dev.zeebeambient.enforcer.enrollment.Enrollment;
import dev.zeebeambient.enforcer.enrollment.EnrollmentMetrics;
import dev.zeebeambient.enforcer.testsupport.TestConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Base64;
import java.util.Set;
import dev.zeebeambient.enforcer.admission.AdmissionRequest;
import dev.zeebeambient.enforcer.admission.BadReviewException;
import dev.zeebeambient.enforcer.decision.EnrollmentDecider;
import dev.zeebeambient.enforcer.decision.PodContext;
import dev.zeebeambient.enforcer.detection.AddressMatcher;
import dev.zeebeambient.enforcer.detection.ResolvedSources;
import dev.zeebeambient.enforcer.detection.Target;
import io.fabric8.zjsonpatch.JsonPatch;

import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Jazzer fuzz tests. Without JAZZER_FUZZ they replay the seed corpus (src/test/resources/.../
 * AdmissionFuzzTestInputs) as regression tests; with JAZZER_FUZZ=1 they fuzz for maxDuration
 * (.ci/run does a bounded run; README "Hardening" has the long command).
 */
class AdmissionFuzzTest {

    static final ObjectMapper M = new ObjectMapper();
    static final AdmissionCodec CODEC = new AdmissionCodec(M);
    static final EnrollmentDecider DECIDER = new EnrollmentDecider(TestConfig.rules());
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

    static final Map<String, String> OPTED_IN = Map.of("zeebe-ambient-enforcer.io/enabled", "true");

    /** The application's own pipeline (AdmissionHandler), deciding with the pure decider; labels unknown when asked. */
    /** One registry for all three handlers: its internal-error counter must stay 0. */
    static final SimpleMeterRegistry REGISTRY = new SimpleMeterRegistry();

    static AdmissionHandler handler(boolean audit, boolean namespaceKnown) {
        SimpleMeterRegistry registry = REGISTRY;
        return new AdmissionHandler(M, (pod, ns) -> new Outcome(DECIDER.decide(new PodContext(pod, ns,
                namespaceKnown ? OPTED_IN : null, Map.of(), ResolvedSources.NONE)), namespaceKnown, Set.of()),
                new Enrollment(TestConfig.defaults()), audit, new AdmissionMetrics(registry), new EnrollmentMetrics(registry));
    }

    static final AdmissionHandler ENFORCE = handler(false, true);
    static final AdmissionHandler AUDIT = handler(true, true);
    static final AdmissionHandler BLIND = handler(false, false);

    /**
     * Through the real pipeline, in enforce mode, audit mode and with unknown namespace labels:
     * nothing escapes; an undecodable review gets 400, every other one 200 allowed with its uid;
     * an enforcing patch applies and sets the label; audit mode never patches.
     */
    static void checkAdmissionPath(byte[] body) throws Exception {
        AdmissionRequest req;
        try {
            req = CODEC.decode(body);
        } catch (BadReviewException expected) {
            for (AdmissionHandler h : List.of(ENFORCE, AUDIT, BLIND)) {
                assertEquals(400, h.handle(body).status(), "a body the codec rejects is answered 400");
            }
            return;
        }
        JsonNode enforced = answer(ENFORCE, body, req);
        JsonNode audited = answer(AUDIT, body, req);
        JsonNode blind = answer(BLIND, body, req);
        assertFalse(audited.has("patch"), "audit mode never patches");
        for (JsonNode response : List.of(enforced, blind)) {
            if (response.has("patch")) {
                assertEquals("JSONPatch", response.path("patchType").asText());
                assertTrue(req.isPodCreate(), "only a Pod CREATE is patched");
                JsonNode patch = M.readTree(Base64.getDecoder().decode(response.path("patch").asText()));
                JsonNode patched = JsonPatch.apply(patch, req.object());
                assertEquals("ambient", patched.path("metadata").path("labels").path("istio.io/dataplane-mode").asText());
            }
        }
        String blindText = blind.path("warnings").toString();
        if (req.isPodCreate() && !blindText.contains("not a decodable Pod")) {
            assertTrue(blindText.contains("labels of namespace"), "a decision without namespace labels says so: " + blind);
        }
    }

    static JsonNode answer(AdmissionHandler h, byte[] body, AdmissionRequest req) throws Exception {
        AdmissionHandler.Answer a = h.handle(body);
        assertEquals(200, a.status());
        JsonNode response = M.readTree(a.body()).path("response");
        assertEquals(req.uid(), response.path("uid").asText(), "the response answers this request");
        assertTrue(response.path("allowed").asBoolean(), "never denies");
        // the handler turns our own exceptions into an allowed answer; for the fuzzer they are findings
        // (counted, not read from the warnings: the fuzzer can put any text into a pod spec)
        var internal = REGISTRY.find("zeebe.ambient.admission.errors").tag("stage", "internal").counter();
        assertTrue(internal == null || internal.count() == 0, "an exception in our code: " + response);
        return response;
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
