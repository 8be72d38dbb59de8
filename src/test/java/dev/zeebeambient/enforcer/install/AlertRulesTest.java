package dev.zeebeambient.enforcer.install;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zeebeambient.enforcer.testsupport.AlertRules;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shipped alerts ({@code webhook-config/components/alerts}) judged by the real promtool (built
 * from the Go module proxy): {@code check rules} accepts them and {@code test rules} runs
 * {@code src/test/prometheus/alerts-test.yaml}, in which every alert has a case where it fires
 * and one where it does not (checked here too). The expected alerts' severity and annotations are
 * filled in from the rules, so the cases test when an alert fires, not its wording.
 */
class AlertRulesTest {

    @Test
    void promtoolAcceptsTheRulesAndEveryAlertFiresAndStaysQuietWhereItShould() throws Exception {
        Path dir = Files.createDirectories(Paths.get("target", "alerts"));
        // the rule groups as Prometheus reads them: the PrometheusRule's spec
        Path rules = dir.resolve("rules.yaml");
        Files.writeString(rules, AlertRules.YAML.writeValueAsString(AlertRules.prometheusRule().path("spec")));
        Map<String, JsonNode> byName = new HashMap<>();
        for (JsonNode a : AlertRules.alerts()) {
            byName.put(a.path("alert").asText(), a);
        }
        assertEquals(12, byName.size(), "the shipped alerts: " + byName.keySet());
        for (JsonNode a : byName.values()) { // as the kube-prometheus and cert-manager mixins write them
            String name = a.path("alert").asText();
            assertTrue(a.path("expr").asText().contains("by (namespace, job") || a.path("expr").asText().contains("by (namespace, job, le)"),
                    name + ": scoped by (namespace, job): " + a.path("expr").asText());
            for (String key : List.of("summary", "description", "runbook_url")) {
                assertTrue(!a.path("annotations").path(key).asText().isBlank(), name + ": annotation " + key);
            }
            assertTrue(a.path("annotations").path("description").asText().contains("{{ $labels.namespace }}"), name + ": description names the namespace");
            assertTrue(a.path("annotations").path("runbook_url").asText().matches("https?://\\S+#" + name.toLowerCase(java.util.Locale.ROOT)),
                    name + ": runbook_url " + a.path("annotations").path("runbook_url"));
            assertTrue(a.path("annotations").path("runbook").isMissingNode(), name + ": the old custom runbook key");
            assertTrue(List.of("critical", "warning", "info").contains(a.path("labels").path("severity").asText()), name + ": severity");
        }

        ObjectNode tests = (ObjectNode) AlertRules.YAML.readTree(Files.readString(Paths.get("src", "test", "prometheus", "alerts-test.yaml")));
        Set<String> fires = new TreeSet<>();
        Set<String> quiet = new TreeSet<>();
        for (JsonNode t : tests.path("tests")) {
            for (JsonNode c : t.path("alert_rule_test")) {
                String name = c.path("alertname").asText();
                JsonNode rule = byName.get(name);
                assertTrue(rule != null, "alerts-test.yaml tests an alert the rules do not have: " + name);
                ArrayNode expected = (ArrayNode) c.path("exp_alerts");
                (expected.isEmpty() ? quiet : fires).add(name);
                for (JsonNode e : expected) {
                    ObjectNode exp = (ObjectNode) e;
                    ObjectNode labels = exp.has("exp_labels") ? (ObjectNode) exp.get("exp_labels") : exp.putObject("exp_labels");
                    rule.path("labels").fields().forEachRemaining(l -> labels.set(l.getKey(), l.getValue()));
                    // the annotations as Prometheus expands them for this alert: its labels and (a case's "value", default 1) $value
                    String value = exp.has("value") ? exp.remove("value").asText() : "1";
                    ObjectNode annotations = exp.putObject("exp_annotations");
                    rule.path("annotations").fields().forEachRemaining(a -> annotations.put(a.getKey(), expand(a.getValue().asText(), labels, value)));
                }
            }
        }
        assertEquals(byName.keySet(), fires, "alerts without a case where they fire");
        assertEquals(byName.keySet(), quiet, "alerts without a case where they stay quiet");
        Path testFile = dir.resolve("alerts-test.yaml");
        Files.writeString(testFile, AlertRules.YAML.writeValueAsString(tests));

        String check = promtool(List.of("check", "rules", rules.toString()));
        assertTrue(check.contains("SUCCESS: " + byName.size() + " rules found"), check);
        String test = promtool(List.of("test", "rules", testFile.toString()));
        assertTrue(test.contains("SUCCESS"), test);
    }

    /** The component renders with the base by the real kubectl: the PrometheusRule, named and labelled as shipped. */
    @Test
    void theComponentRendersWithTheBase() throws Exception {
        Path dir = Files.createDirectories(Paths.get("target", "alerts", "overlay"));
        Files.writeString(dir.resolve("kustomization.yaml"), """
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                resources: [../../../webhook-config/base]
                components: [../../../webhook-config/components/alerts, ../../../webhook-config/components/dashboard]
                """);
        var objects = dev.zeebeambient.enforcer.testsupport.KubeTestCluster.get().render(dir);
        var rule = objects.stream().filter(o -> o.getKind().equals("PrometheusRule")).toList();
        assertEquals(1, rule.size(), "one PrometheusRule");
        assertEquals("zeebe-ambient-enforcer", rule.get(0).getMetadata().getName());
        String ns = objects.stream().filter(o -> o.getKind().equals("Deployment")).findFirst().orElseThrow().getMetadata().getNamespace();
        assertEquals(ns, rule.get(0).getMetadata().getNamespace(), "the base's namespace");
        // the dashboard: a ConfigMap Grafana's sidecar picks up, holding the dashboard JSON unchanged
        var cm = (io.fabric8.kubernetes.api.model.ConfigMap) objects.stream()
                .filter(o -> o.getKind().equals("ConfigMap") && o.getMetadata().getName().equals("zeebe-ambient-enforcer-dashboard"))
                .findFirst().orElseThrow();
        assertEquals("1", cm.getMetadata().getLabels().get("grafana_dashboard"));
        assertEquals(ns, cm.getMetadata().getNamespace(), "the base's namespace");
        JsonNode dashboard = AlertRules.YAML.readTree(cm.getData().get("zeebe-ambient-enforcer.json"));
        assertEquals("zeebe-ambient-enforcer", dashboard.path("uid").asText());
        for (JsonNode panel : dashboard.path("panels")) {
            assertTrue(panel.path("targets").size() > 0 && !panel.path("targets").get(0).path("expr").asText().isBlank(),
                    "panel without a query: " + panel.path("title"));
        }
    }

    /** {@code {{ $labels.x }}} and {@code {{ $value }}} as Prometheus' template expansion writes them (a missing label is empty). */
    static String expand(String template, JsonNode labels, String value) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\{\\{ \\$labels\\.([a-zA-Z_]+) }}").matcher(template);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(out, java.util.regex.Matcher.quoteReplacement(labels.path(m.group(1)).asText("")));
        }
        m.appendTail(out);
        String expanded = out.toString().replace("{{ $value }}", value);
        assertTrue(!expanded.contains("{{"), "a template this test does not expand: " + template);
        return expanded;
    }

    /** The latency alert's threshold is 80% of the shipped webhook's timeoutSeconds: a changed timeout turns this red. */
    @Test
    void theLatencyThresholdFollowsTheWebhookTimeout() throws Exception {
        JsonNode webhook = AlertRules.YAML.readTree(Files.readString(Paths.get("webhook-config", "base", "mutatingwebhook.yaml")));
        double timeout = webhook.path("webhooks").get(0).path("timeoutSeconds").asDouble();
        String expr = AlertRules.alerts().stream().filter(a -> a.path("alert").asText().equals("ZeebeAmbientEnforcerWebhookSlow"))
                .findFirst().orElseThrow().path("expr").asText();
        var threshold = java.util.regex.Pattern.compile("\\)\\s*>\\s*([0-9.]+)\\s*$").matcher(expr.trim());
        assertTrue(threshold.find(), expr);
        assertEquals(0.8 * timeout, Double.parseDouble(threshold.group(1)), 1e-9, "threshold vs timeoutSeconds " + timeout);
    }

    static String promtool(List<String> args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of(AlertRules.promtool().toString()));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "promtool hung: " + cmd);
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ":\n" + out);
        return out;
    }
}
