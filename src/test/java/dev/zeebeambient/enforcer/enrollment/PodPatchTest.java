package dev.zeebeambient.enforcer.enrollment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.zjsonpatch.JsonPatch;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Patches are applied with a real RFC 6902 implementation (zjsonpatch) and the result compared. */
class PodPatchTest {

    static final ObjectMapper M = new ObjectMapper();
    static final Map<String, String> LABEL = Map.of("istio.io/dataplane-mode", "ambient");
    static final Map<String, String> ANNOTATION = Map.of("zeebe-ambient-enforcer.io/enrolled-because", "env ZEEBE_ADDRESS");

    static JsonNode json(String s) throws Exception {
        return M.readTree(s.replace('\'', '"'));
    }

    static JsonNode apply(JsonNode pod) {
        return JsonPatch.apply(PodPatch.enroll(pod, LABEL, ANNOTATION), pod);
    }

    @Test
    void addsWholeMapsWhenLabelsAndAnnotationsAreAbsent() throws Exception {
        JsonNode pod = json("{'metadata':{'generateName':'w-'},'spec':{}}");
        assertEquals(json("{'metadata':{'generateName':'w-','labels':{'istio.io/dataplane-mode':'ambient'},"
                + "'annotations':{'zeebe-ambient-enforcer.io/enrolled-because':'env ZEEBE_ADDRESS'}},'spec':{}}"), apply(pod));
        assertEquals("/metadata/labels", PodPatch.enroll(pod, LABEL, ANNOTATION).get(0).get("path").asText());
    }

    @Test
    void addsKeysToExistingMapsWithEscapedSlash() throws Exception {
        JsonNode pod = json("{'metadata':{'name':'w','labels':{'app':'w'},'annotations':{'a':'b'}}}");
        assertEquals(json("{'metadata':{'name':'w','labels':{'app':'w','istio.io/dataplane-mode':'ambient'},"
                + "'annotations':{'a':'b','zeebe-ambient-enforcer.io/enrolled-because':'env ZEEBE_ADDRESS'}}}"), apply(pod));
        assertEquals("/metadata/labels/istio.io~1dataplane-mode",
                PodPatch.enroll(pod, LABEL, ANNOTATION).get(0).get("path").asText());
    }

    @Test
    void nullMapsAndMissingMetadata() throws Exception {
        JsonNode nullLabels = json("{'metadata':{'name':'w','labels':null}}");
        assertEquals("ambient", apply(nullLabels).at("/metadata/labels/istio.io~1dataplane-mode").asText());
        JsonNode noMetadata = json("{'spec':{}}");
        assertEquals("ambient", apply(noMetadata).at("/metadata/labels/istio.io~1dataplane-mode").asText());
    }

    @Test
    void escapesTildeBeforeSlash() throws Exception {
        assertEquals("a~0b~1c", PodPatch.escape("a~b/c"));
        JsonNode pod = json("{'metadata':{'labels':{'x':'y'}}}");
        JsonNode patched = JsonPatch.apply(PodPatch.enroll(pod, Map.of("we~ird/key", "v"), Map.of()), pod);
        assertEquals("v", patched.get("metadata").get("labels").get("we~ird/key").asText());
    }
}
