package dev.zeebeambient.enforcer.decision;

import dev.zeebeambient.enforcer.detection.ResolvedSources;
import dev.zeebeambient.enforcer.detection.Target;
import dev.zeebeambient.enforcer.testsupport.Corpus;
import dev.zeebeambient.enforcer.testsupport.TestConfig;
import io.fabric8.kubernetes.api.model.Pod;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * README's decision table ("How a pod is decided") as a test: each README row has one case here,
 * the smallest pod + namespace for which that row is the first to match, and the decision must
 * give the README's result and reason. A README row without a case (or a case without a row)
 * fails, so a new rule is one row in both places (a line in corpus/decision-table/rows.jsonl).
 */
class DecisionTableTest {

    static final Map<String, String> OPTED_IN = Map.of("zeebe-ambient-enforcer.io/enabled", "true");

    /** One README row: the pod, the namespace, its labels (null: not known). */
    record Case(String namespace, Map<String, String> nsLabels, Pod pod, Map<Target, Map<String, String>> selectors, Rules rules,
            List<Target> bypass) {
        Case(String namespace, Map<String, String> nsLabels, Pod pod, Map<Target, Map<String, String>> selectors, Rules rules) {
            this(namespace, nsLabels, pod, selectors, rules, List.of(CHART_SERVICE));
        }
    }

    /** The Helm chart's own gateway Service: known, not a target. */
    static final Target CHART_SERVICE = Target.parse("camunda/camunda-zeebe-gateway:26500");

    static Case in(String ns, Map<String, String> nsLabels, Pod pod) {
        return new Case(ns, nsLabels, pod, Map.of(), TestConfig.rules());
    }

    /**
     * Keyed by the README's "#" column: the cases are files, {@code src/test/resources/corpus/decision-table/rows.jsonl}
     * (a line per row: the pod and what its decision reads besides it), with golden verdicts beside them.
     */
    static final Map<String, Case> CASES = new LinkedHashMap<>();

    static {
        for (Corpus.Case c : Corpus.decisionTable()) {
            Map<Target, Map<String, String>> selectors = new LinkedHashMap<>();
            c.targetSelectors().forEach((t, m) -> selectors.put(Target.parse(t), m));
            CASES.put(c.name(), new Case(c.namespace(), c.namespaceLabels(), c.pod(), selectors,
                    c.config().isEmpty() ? TestConfig.rules() : Rules.from(TestConfig.with(c.config())),
                    c.bypass().stream().map(Target::parse).toList()));
        }
    }

    /** The table's rows in docs/architecture.md: # -> {result, reason}. */
    static Map<String, List<String>> readmeRows() throws IOException {
        String readme = Files.readString(Paths.get("docs", "architecture.md"));
        String section = readme.substring(readme.indexOf("## How a pod is decided"));
        section = section.substring(0, section.indexOf("\n## ", 5));
        Pattern row = Pattern.compile("^\\| (\\d+b?) \\| .*? \\| (\\*\\*enroll\\*\\*|skip[^|]*) \\| `([a-z-]+)` \\|", Pattern.MULTILINE);
        Map<String, List<String>> rows = new LinkedHashMap<>();
        Matcher m = row.matcher(section);
        while (m.find()) {
            rows.put(m.group(1), List.of(m.group(2).startsWith("**enroll") ? "enroll" : "skip", m.group(3)));
        }
        return rows;
    }

    @Test
    void everyReadmeRowHasACaseAndNoMore() throws IOException {
        assertEquals(readmeRows().keySet(), CASES.keySet());
    }

    @TestFactory
    Stream<DynamicTest> eachReadmeRowDecidesAsDocumented() throws IOException {
        return readmeRows().entrySet().stream().map(r -> DynamicTest.dynamicTest("row " + r.getKey() + ": " + r.getValue(), () -> {
            Case c = CASES.get(r.getKey());
            Decision d = new EnrollmentDecider(c.rules()).decide(new PodContext(c.pod(), c.namespace(), c.nsLabels(),
                    c.selectors(), ResolvedSources.NONE, c.bypass()));
            assertEquals(r.getValue().get(1), d.reason().tag(), d.detail());
            assertEquals(r.getValue().get(0).equals("enroll"), d.enroll(), d.detail());
        }));
    }
}
