package dev.zeebeambient.enforcer.admission;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zeebeambient.enforcer.kube.PodProjection;
import dev.zeebeambient.enforcer.testsupport.PodShapes;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Volume;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link LeanPodReader} builds from the JSON tree what {@code PodProjection.trim(fabric8 pod)} keeps (plus
 * generateName, which the verdict reads), and for odd input answers what the full fabric8 binding answered.
 */
class LeanPodReaderTest {

    static final ObjectMapper M = new ObjectMapper();
    static final LeanPodReader READER = new LeanPodReader(M);

    /** The old decode (null where fabric8 refuses). */
    static Pod fabric8(JsonNode tree) {
        try {
            return M.treeToValue(tree, Pod.class);
        } catch (Exception e) {
            return null;
        }
    }

    /**
     * What the reader must give for a pod of the usual shape: the backstop's projection of the fabric8 pod,
     * plus generateName. Normalised where PodProjection's builders do more than project: {@code ownerReferences:
     * null} is the same as none (trim would throw on it), and a volume's configMap/secret/projected is fabric8's
     * binding itself (VolumeBuilder's deep copy turns a null list entry, {@code "items": [null]}, into an empty
     * object; the reader keeps fabric8's null, as the full pod had it).
     */
    static Pod expected(Pod full) {
        if (full.getMetadata() != null && full.getMetadata().getOwnerReferences() == null) {
            full.getMetadata().setOwnerReferences(new ArrayList<>());
        }
        Pod t = PodProjection.trim(full);
        // which containers ran: the backstop's restart reads it; a pod being created has none and the webhook never reads it
        String phase = t.getStatus() == null ? null : t.getStatus().getPhase();
        t.setStatus(phase == null ? null : new io.fabric8.kubernetes.api.model.PodStatusBuilder().withPhase(phase).build());
        t.getMetadata().setGenerateName(full.getMetadata() == null ? null : full.getMetadata().getGenerateName());
        if (t.getSpec() != null && t.getSpec().getVolumes() != null) {
            List<Volume> kept = full.getSpec().getVolumes().stream()
                    .filter(v -> v.getConfigMap() != null || v.getSecret() != null || v.getProjected() != null).toList();
            for (int i = 0; i < kept.size(); i++) {
                Volume v = t.getSpec().getVolumes().get(i);
                v.setConfigMap(kept.get(i).getConfigMap());
                v.setSecret(kept.get(i).getSecret());
                v.setProjected(kept.get(i).getProjected());
            }
        }
        return t;
    }

    static ObjectNode everything() throws Exception {
        return PodShapes.everything();
    }

    static Map<String, JsonNode> pods() throws Exception {
        return PodShapes.all();
    }

    @Test
    void readsExactlyWhatTheProjectionKeepsPlusGenerateName() throws Exception {
        for (var e : pods().entrySet()) {
            Pod full = M.treeToValue(e.getValue(), Pod.class);
            Pod lean = READER.read(e.getValue());
            assertEquals(expected(full), lean, e.getKey());
            if (e.getValue().path("spec").path("containers").path(0).has("image")) {
                assertNotEquals(full, lean, e.getKey() + ": the trimmed pod, not the fabric8 fallback");
            }
        }
    }

    @Test
    void theEverythingPodKeepsEachKindOfSource() throws Exception {
        Pod p = READER.read(everything());
        var app = p.getSpec().getContainers().get(0);
        assertEquals("all-", p.getMetadata().getGenerateName());
        assertEquals(Map.of("note", "x~1/y"), p.getMetadata().getAnnotations(), "without last-applied");
        assertEquals("ReplicaSet", p.getMetadata().getOwnerReferences().get(0).getKind());
        assertEquals("zeebe", app.getEnv().get(2).getValueFrom().getConfigMapKeyRef().getName());
        assertEquals("zeebe-secret", app.getEnv().get(3).getValueFrom().getSecretKeyRef().getName());
        assertEquals("metadata.namespace", app.getEnv().get(4).getValueFrom().getFieldRef().getFieldPath());
        assertEquals("1Mi", app.getEnv().get(5).getValueFrom().getResourceFieldRef().getDivisor().toString());
        assertEquals("CFG_", app.getEnvFrom().get(0).getPrefix());
        assertEquals("env-secret", app.getEnvFrom().get(1).getSecretRef().getName());
        assertEquals(List.of("conf", "sec", "proj"), p.getSpec().getVolumes().stream().map(v -> v.getName()).toList());
        assertEquals("proj-secret", p.getSpec().getVolumes().get(2).getProjected().getSources().get(1).getSecret().getName());
        assertEquals("wait", p.getSpec().getInitContainers().get(0).getName());
        assertNull(app.getImage());
        assertEquals("Pending", p.getStatus().getPhase());
        assertNull(p.getStatus().getPodIP());
    }

    /** Wrong types where fabric8 refused the pod: still not decodable (null: allowed with a warning). */
    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource(delimiter = '|', textBlock = """
            /spec/containers                            | 42
            /spec/containers                            | "x"
            /spec/containers                            | {}
            /spec/containers/0                          | 1
            /spec/initContainers                        | 7
            /spec/containers/0/env                      | "x"
            /spec/containers/0/env/0                    | ""
            /spec/containers/0/env/0/value              | {}
            /spec/containers/0/env/0/name               | []
            /spec/containers/0/env/2/valueFrom          | 5
            /spec/containers/0/env/2/valueFrom          | {"configMapKeyRef": "x"}
            /spec/containers/0/env/5/valueFrom          | {"resourceFieldRef": {"divisor": []}}
            /spec/containers/0/envFrom                  | {}
            /spec/containers/0/envFrom/0                | 3
            /spec/containers/0/volumeMounts             | "m"
            /spec/containers/0/command                  | "sh"
            /spec/containers/0/args/0                   | ["a"]
            /spec/containers/0/name                     | {}
            /spec/hostNetwork                           | "yes"
            /spec/hostNetwork                           | []
            /spec/hostNetwork                           | 1.5
            /spec/volumes                               | {}
            /spec/volumes/0                             | "v"
            /spec/volumes/0/configMap                   | ""
            /spec/volumes/2/projected/sources           | 5
            /metadata                                   | ""
            /metadata/labels                            | [1]
            /metadata/labels/app                        | {}
            /metadata/annotations                       | "a"
            /metadata/annotations/note                  | {"a": {}}
            /metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration | {}
            /metadata/name                              | []
            /metadata/generateName                      | {}
            /metadata/ownerReferences                   | {}
            /metadata/ownerReferences/0                 | "o"
            /metadata/ownerReferences/0/controller      | "maybe"
            /spec                                       | []
            /status                                     | ""
            /status/phase                               | {}
            """)
    void wrongTypesAreNotDecodable(String pointer, String json) throws Exception {
        JsonNode tree = set(everything(), pointer, M.readTree(json));
        assertThrows(Exception.class, () -> M.treeToValue(tree, Pod.class), "fabric8 refuses it");
        assertNull(READER.read(tree));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            42
            "x"
            []
            """)
    void anObjectThatIsNoObjectIsNotDecodable(String json) throws Exception {
        assertNull(READER.read(M.readTree(json)));
    }

    /** What Jackson coerces (a number as a string, "true" as a boolean) is coerced as before: by fabric8 itself. */
    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource(delimiter = '|', textBlock = """
            /metadata/name                  | 42
            /metadata/labels/app            | 1.5
            /spec/hostNetwork               | "true"
            /spec/hostNetwork               | 1
            /spec/hostNetwork               | ""
            /spec/containers/0/command      | [1, true, null]
            /spec/containers/0/env/0/value  | false
            /spec/containers                | [null]
            /spec/volumes/0                 | null
            """)
    void coercionsAreFabric8s(String pointer, String json) throws Exception {
        JsonNode tree = set(everything(), pointer, M.readTree(json));
        Pod old = M.treeToValue(tree, Pod.class);
        assertEquals(old, READER.read(tree));
    }

    @Test
    void nullMetadataOrSpecIsDecodable() throws Exception {
        ObjectNode tree = everything();
        tree.putNull("metadata").putNull("spec").putNull("status");
        Pod p = READER.read(tree);
        assertNotNull(p);
        assertEquals(expected(fabric8(tree)), p);
        assertNull(p.getSpec());
        assertNull(p.getMetadata().getName());
        assertEquals(expected(fabric8(M.createObjectNode())), READER.read(M.createObjectNode()));
    }

    /** The paths the reader reads (JSON pointer, indices as digits); below bound objects everything is read. */
    static final Pattern READ = Pattern.compile(String.join("|",
            "", "/metadata", "/metadata/(name|generateName|namespace|uid|resourceVersion|creationTimestamp|deletionTimestamp)",
            "/metadata/(labels|annotations)(/[^/]+)?", "/metadata/ownerReferences(/.*)?",
            "/spec", "/spec/hostNetwork", "/spec/(containers|initContainers)(/\\d+)?",
            "/spec/(containers|initContainers)/\\d+/(name|command|args|envFrom|volumeMounts)(/.*)?",
            "/spec/(containers|initContainers)/\\d+/env(/\\d+)?",
            "/spec/(containers|initContainers)/\\d+/env/\\d+/(name|value|valueFrom)(/.*)?",
            "/spec/volumes(/\\d+)?", "/spec/volumes/\\d+/(name|configMap|secret|projected)(/.*)?",
            "/status", "/status/phase"));

    static final List<String> VALUES = List.of("42", "1.5", "true", "\"x\"", "\"\"", "null", "[]", "[1]", "[null]", "{}",
            "{\"a\": {}}", "[{}]");

    /**
     * Every node the reader reads, replaced by every kind of JSON value (and removed): the reader answers
     * null exactly where fabric8 did, and otherwise the projection of fabric8's pod (fast path) or fabric8's
     * pod itself (fallback for odd values).
     */
    @Test
    void everyReadFieldWithEveryJsonTypeIsAnsweredAsFabric8Did() throws Exception {
        int fast = 0;
        int fallback = 0;
        int refused = 0;
        Map<String, JsonNode> bases = new LinkedHashMap<>();
        bases.put("everything", everything());
        bases.put("spring-worker", ReviewFixtures.pod("spring-worker-pod.json"));
        for (var base : bases.entrySet()) {
            List<String> pointers = new ArrayList<>();
            pointers(base.getValue(), "", pointers);
            for (String p : pointers) {
                if (!READ.matcher(p).matches()) {
                    continue;
                }
                List<JsonNode> variants = new ArrayList<>();
                for (String v : VALUES) {
                    variants.add(set(base.getValue().deepCopy(), p, M.readTree(v)));
                }
                if (!p.isEmpty()) {
                    variants.add(remove(base.getValue().deepCopy(), p));
                }
                for (JsonNode tree : variants) {
                    String where = base.getKey() + " " + p + " -> " + tree.at(p);
                    Pod old = fabric8(tree);
                    Pod lean = READER.read(tree);
                    if (old == null) {
                        assertNull(lean, where);
                        refused++;
                    } else if (same(old, lean)) {
                        fallback++;
                    } else {
                        assertTrue(same(expected(old), lean), where + ": " + lean);
                        fast++;
                    }
                }
            }
        }
        assertTrue(fast > 100 && fallback > 100 && refused > 500, "fast " + fast + ", fallback " + fallback + ", refused " + refused);
    }

    /** The fuzz seeds' objects (some of them odd): the same rule. */
    @Test
    void fuzzSeedsAreAnsweredAsFabric8Did() throws Exception {
        Path dir = Path.of(LeanPodReaderTest.class.getResource("/dev/zeebeambient/enforcer/fuzz/AdmissionFuzzTestInputs/admissionPath")
                .toURI());
        AdmissionCodec codec = new AdmissionCodec(M);
        int n = 0;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                JsonNode object;
                try {
                    object = codec.decode(Files.readAllBytes(f)).object();
                } catch (BadReviewException e) {
                    continue;
                }
                Pod old = fabric8(object);
                Pod lean = READER.read(object);
                if (old == null) {
                    assertNull(lean, f.toString());
                } else if (!same(old, lean)) {
                    assertEquals(expected(old), lean, f.toString());
                }
                n++;
            }
        }
        assertTrue(n >= 2, "seeds: " + n);
    }

    /** equals, except that a Quantity that is no number ({@code "divisor": "x"}) throws in equals: then by JSON. */
    static boolean same(Pod a, Pod b) {
        try {
            return java.util.Objects.equals(a, b);
        } catch (NumberFormatException e) {
            return M.valueToTree(a).equals(M.valueToTree(b));
        }
    }

    static void pointers(JsonNode n, String at, List<String> out) {
        out.add(at);
        if (n.isObject()) {
            for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                pointers(n.get(k), at + "/" + k.replace("~", "~0").replace("/", "~1"), out);
            }
        } else if (n.isArray()) {
            for (int i = 0; i < n.size(); i++) {
                pointers(n.get(i), at + "/" + i, out);
            }
        }
    }

    /** {@code tree} with the node at {@code pointer} replaced ("" replaces the whole tree). */
    static JsonNode set(JsonNode tree, String pointer, JsonNode value) {
        if (pointer.isEmpty()) {
            return value;
        }
        int slash = pointer.lastIndexOf('/');
        JsonNode parent = tree.at(pointer.substring(0, slash));
        String last = pointer.substring(slash + 1).replace("~1", "/").replace("~0", "~");
        if (parent instanceof ArrayNode a) {
            a.set(Integer.parseInt(last), value);
        } else {
            ((ObjectNode) parent).set(last, value);
        }
        return tree;
    }

    static JsonNode remove(JsonNode tree, String pointer) {
        int slash = pointer.lastIndexOf('/');
        JsonNode parent = tree.at(pointer.substring(0, slash));
        String last = pointer.substring(slash + 1).replace("~1", "/").replace("~0", "~");
        if (parent instanceof ArrayNode a) {
            a.remove(Integer.parseInt(last));
        } else {
            ((ObjectNode) parent).remove(last);
        }
        return tree;
    }
}
