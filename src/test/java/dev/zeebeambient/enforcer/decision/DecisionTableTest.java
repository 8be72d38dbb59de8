package dev.zeebeambient.enforcer.decision;

import dev.zeebeambient.enforcer.detection.ResolvedSources;
import dev.zeebeambient.enforcer.detection.Target;
import dev.zeebeambient.enforcer.testsupport.TestConfig;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * README's decision table ("How a pod is decided") as a test: each README row has one case here,
 * the smallest pod + namespace for which that row is the first to match, and the decision must
 * give the README's result and reason. A README row without a case (or a case without a row)
 * fails, so a new rule is one row in both places.
 */
class DecisionTableTest {

    static final String TARGET_NS = "camunda";
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

    static Pod client(Function<PodBuilder, PodBuilder> edit) {
        PodBuilder b = new PodBuilder().withNewMetadata().withName("worker").addToLabels("app", "worker").endMetadata()
                .withNewSpec().addNewContainer().withName("app").withImage("app:1").addNewEnv().withName("ZEEBE_ADDRESS")
                .withValue("camunda-zeebe-gateway-grpc.camunda:26500").endEnv().endContainer().endSpec();
        return edit.apply(b).build();
    }

    static Case in(String ns, Map<String, String> nsLabels, Pod pod) {
        return new Case(ns, nsLabels, pod, Map.of(), TestConfig.rules());
    }

    static Map<String, String> optedInAnd(String k, String v) {
        Map<String, String> m = new HashMap<>(OPTED_IN);
        m.put(k, v);
        return m;
    }

    /** Keyed by the README's "#" column. */
    static final Map<String, Case> CASES = new LinkedHashMap<>();

    static {
        CASES.put("1", in("kube-system", OPTED_IN, client(b -> b)));
        CASES.put("2", in("apps", OPTED_IN, client(b -> b.editMetadata().addToAnnotations("kubernetes.io/config.mirror", "x").endMetadata())));
        CASES.put("3", in("apps", OPTED_IN, client(b -> b.editMetadata().addToLabels("istio.io/dataplane-mode", "ambient").endMetadata())));
        CASES.put("4", in("apps", OPTED_IN, client(b -> b.editMetadata().addToLabels("istio.io/dataplane-mode", "none").endMetadata())));
        CASES.put("5", in("apps", OPTED_IN, client(b -> b.editMetadata().addToLabels("istio.io/dataplane-mode", "sidecar").endMetadata())));
        CASES.put("6", in("apps", OPTED_IN, client(b -> b.editSpec().withHostNetwork(true).endSpec())));
        CASES.put("7", in("apps", OPTED_IN, client(b -> b.editMetadata().addToLabels("zeebe-ambient-enforcer.io/enroll", "false").endMetadata())));
        CASES.put("8", in("apps", Map.of(), client(b -> b)));
        CASES.put("9", in("apps", optedInAnd("istio.io/dataplane-mode", "ambient"), client(b -> b)));
        CASES.put("10", in("apps", optedInAnd("istio.io/dataplane-mode", "none"), client(b -> b)));
        CASES.put("11", in("apps", optedInAnd("istio-injection", "enabled"), client(b -> b)));
        Map<Target, Map<String, String>> gatewaySelector = Map.of(Target.parse("camunda/camunda-zeebe-gateway-grpc:26500"),
                Map.of("app.kubernetes.io/component", "zeebe-gateway"));
        Pod gateway = client(b -> b.editMetadata().addToLabels("app.kubernetes.io/component", "zeebe-gateway").endMetadata());
        CASES.put("12", new Case(TARGET_NS, OPTED_IN, gateway, gatewaySelector, TestConfig.rules()));
        CASES.put("12b", new Case(TARGET_NS, OPTED_IN, gateway, gatewaySelector,
                Rules.from(TestConfig.with(Map.of("enforcer.bootstrap.enroll-gateway-pods", "true")))));
        CASES.put("13", in("apps", OPTED_IN, new PodBuilder().withNewMetadata().withName("opaque")
                .addToAnnotations("zeebe-ambient-enforcer.io/enroll", "true").endMetadata()
                .withNewSpec().addNewContainer().withName("app").withImage("app:1").endContainer().endSpec().build()));
        CASES.put("14", in("apps", OPTED_IN, client(b -> b)));
        CASES.put("14b", in("apps", OPTED_IN, client(b -> b.editSpec().editFirstContainer().editFirstEnv()
                .withValue("camunda-zeebe-gateway.camunda:26500").endEnv().endContainer().endSpec())));
        CASES.put("15", in("apps", OPTED_IN, new PodBuilder().withNewMetadata().withName("nginx").endMetadata()
                .withNewSpec().addNewContainer().withName("nginx").withImage("nginx:1").endContainer().endSpec().build()));
    }

    /** README rows: # -> {result, reason}. */
    static Map<String, List<String>> readmeRows() throws IOException {
        String readme = Files.readString(Paths.get("README.md"));
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
