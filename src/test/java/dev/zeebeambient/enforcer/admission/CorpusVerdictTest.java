package dev.zeebeambient.enforcer.admission;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zeebeambient.enforcer.decision.Decision;
import dev.zeebeambient.enforcer.decision.EnrollmentDecider;
import dev.zeebeambient.enforcer.decision.Outcome;
import dev.zeebeambient.enforcer.decision.PodContext;
import dev.zeebeambient.enforcer.detection.ResolvedSources;
import dev.zeebeambient.enforcer.detection.Target;
import dev.zeebeambient.enforcer.enrollment.Enrollment;
import dev.zeebeambient.enforcer.testsupport.Corpus;
import dev.zeebeambient.enforcer.testsupport.TestConfig;
import io.fabric8.kubernetes.api.model.Pod;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The webhook's answer for every pod of the corpus (decode aside: decide, patch, warnings), against its golden
 * verdict in {@code src/test/resources/corpus/verdicts}: in an opted-in namespace, with the chart's Service known
 * as bypassing, nothing referenced readable. A change in any pod's reason, patch or warnings fails here and shows in
 * the diff of {@code -Dcorpus.update=true}, which rewrites the verdicts (like Istio's {@code testdata/inject}).
 */
class CorpusVerdictTest {

    static final ObjectMapper M = new ObjectMapper();
    static final String NS = "corpus-apps";
    static final Map<String, String> OPTED_IN = Map.of("zeebe-ambient-enforcer.io/enabled", "true");
    static final Target CHART_SERVICE = Target.parse("camunda/camunda-zeebe-gateway:26500");

    /** The verdict the webhook gives {@code pod}, as the golden file holds it. */
    static ObjectNode verdict(String name, Pod pod) {
        JsonNode object = M.valueToTree(pod);
        AdmissionRequest req = new AdmissionRequest("corpus", "", "Pod", null, "CREATE", NS, pod.getMetadata().getName(), false, object);
        // the webhook's own path (a pod it enrolled is decided as it was before: the second call after a later webhook)
        Verdict v = Verdict.forPod(req, pod, (p, ns) -> new Outcome(new EnrollmentDecider(TestConfig.rules()).decide(new PodContext(p, ns,
                OPTED_IN, Map.of(), ResolvedSources.NONE, List.of(CHART_SERVICE))), true, Set.of()), false, new Enrollment(TestConfig.defaults()));
        return line(name, v);
    }

    static ObjectNode line(String name, Verdict v) {
        ObjectNode line = M.createObjectNode().put("name", name).put("kind", v.kind().name()).put("reason", v.reason());
        line.set("patch", v.patch());
        line.set("warnings", M.valueToTree(v.warnings()));
        return line;
    }

    static ObjectNode line(String name, Pod pod, String namespace, Decision d) {
        JsonNode object = M.valueToTree(pod);
        AdmissionRequest req = new AdmissionRequest("corpus", "", "Pod", null, "CREATE", namespace, pod.getMetadata().getName(), false,
                object);
        Verdict v = Verdict.of(req, pod, new Outcome(d, true, Set.of()), false, new Enrollment(TestConfig.defaults()));
        ObjectNode line = M.createObjectNode().put("name", name).put("kind", v.kind().name()).put("reason", v.reason());
        line.set("patch", v.patch());
        line.set("warnings", M.valueToTree(v.warnings()));
        return line;
    }

    /** The README decision table's cases (corpus/decision-table), each in its own context, against their golden verdicts. */
    @Test
    void everyDecisionTableRowGetsItsGoldenVerdict() {
        Map<String, ObjectNode> now = new LinkedHashMap<>();
        for (Corpus.Case c : Corpus.decisionTable()) {
            Map<Target, Map<String, String>> selectors = new LinkedHashMap<>();
            c.targetSelectors().forEach((t, m) -> selectors.put(Target.parse(t), m));
            var rules = c.config().isEmpty() ? TestConfig.rules()
                    : dev.zeebeambient.enforcer.decision.Rules.from(TestConfig.with(c.config()));
            Decision d = new EnrollmentDecider(rules).decide(new PodContext(c.pod(), c.namespace(), c.namespaceLabels(), selectors,
                    ResolvedSources.NONE, c.bypass().stream().map(Target::parse).toList()));
            now.put(c.name(), line(c.name(), c.pod(), c.namespace(), d));
        }
        if (Boolean.getBoolean("corpus.update")) {
            Corpus.writeDecisionTableVerdicts(now);
        }
        Map<String, JsonNode> golden = Corpus.decisionTableVerdicts();
        assertEquals(now.keySet(), golden.keySet(), "a golden verdict for every row and no other (-Dcorpus.update=true)");
        List<String> differ = new ArrayList<>();
        now.forEach((name, v) -> {
            if (!v.equals(golden.get(name))) {
                differ.add("row " + name + "\n  now:    " + v + "\n  golden: " + golden.get(name));
            }
        });
        assertEquals(List.of(), differ, "verdicts changed; if on purpose, -Dcorpus.update=true and review the diff");
        assertTrue(now.size() >= 16, "rows: " + now.size());
    }

    @Test
    void everyPodGetsItsGoldenVerdict() {
        Map<String, Pod> pods = Corpus.pods();
        Map<String, ObjectNode> now = new LinkedHashMap<>();
        pods.forEach((name, pod) -> now.put(name, verdict(name, pod)));
        if (Boolean.getBoolean("corpus.update")) {
            Corpus.writeVerdicts(now);
        }
        Map<String, JsonNode> golden = Corpus.verdicts();
        List<String> differ = new ArrayList<>();
        now.forEach((name, v) -> {
            if (!v.equals(golden.get(name))) {
                differ.add(name + "\n  now:    " + v + "\n  golden: " + golden.get(name));
            }
        });
        assertEquals(pods.keySet(), golden.keySet(), "a golden verdict for every pod and no other (-Dcorpus.update=true)");
        assertEquals(List.of(), differ, "verdicts changed; if on purpose, -Dcorpus.update=true and review the diff");
        long enrolled = now.values().stream().filter(v -> "ENROLL".equals(v.get("kind").asText())).count();
        assertTrue(pods.size() > 1000 && enrolled > 500, pods.size() + " pods, " + enrolled + " enrolled");
    }
}
