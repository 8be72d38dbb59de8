package dev.zeebeambient.enforcer.install;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zeebeambient.enforcer.testsupport.AlertRules;
import dev.zeebeambient.enforcer.testsupport.Helm;
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

    /** The alerts as a values file tunes them: dropped, for, labels, thresholds; a name that is no alert fails the render. */
    @Test
    void theValuesTuneTheAlertsAndPromtoolStillAcceptsThem() throws Exception {
        String yaml = dev.zeebeambient.enforcer.testsupport.Chart.template("--set", "metrics.prometheusRule.enabled=true",
                "--set", "metrics.prometheusRule.alerts.ZeebeAmbientEnforcerClientsBypassWaypoint.enabled=false",
                "--set", "metrics.prometheusRule.alerts.ZeebeAmbientEnforcerWebhookSlow.for=20m",
                "--set", "metrics.prometheusRule.alerts.ZeebeAmbientEnforcerWebhookSlow.labels.severity=critical",
                "--set", "metrics.prometheusRule.additionalLabels.team=platform",
                "--set", "metrics.prometheusRule.thresholds.webhookSlowSeconds=2.5",
                "--set", "metrics.prometheusRule.thresholds.certificateExpiryDays=14",
                "--show-only", "templates/monitoring.yaml");
        JsonNode spec = AlertRules.YAML.readTree(yaml).path("spec");
        Map<String, JsonNode> alerts = new HashMap<>();
        for (JsonNode g : spec.path("groups")) {
            for (JsonNode r : g.path("rules")) {
                alerts.put(r.path("alert").asText(), r);
            }
        }
        assertEquals(AlertRules.alerts().size() - 1, alerts.size(), "one alert dropped: " + alerts.keySet());
        assertTrue(!alerts.containsKey("ZeebeAmbientEnforcerClientsBypassWaypoint"));
        JsonNode slow = alerts.get("ZeebeAmbientEnforcerWebhookSlow");
        assertEquals("20m", slow.path("for").asText());
        assertEquals("critical", slow.path("labels").path("severity").asText(), "an alert's own labels win");
        assertEquals("platform", slow.path("labels").path("team").asText());
        assertTrue(slow.path("expr").asText().trim().endsWith("> 2.5"), slow.path("expr").asText());
        assertTrue(slow.path("annotations").path("description").asText().contains("more than 2.5 s"), slow.toString());
        JsonNode expiry = alerts.get("ZeebeAmbientEnforcerCertificateExpiresSoon");
        assertTrue(expiry.path("expr").asText().contains("< 14 * 86400"), expiry.toString());
        String shipped = AlertRules.alerts().stream().filter(a -> a.path("alert").asText().equals("ZeebeAmbientEnforcerNoLeader")).findFirst()
                .orElseThrow().path("labels").path("severity").asText();
        assertEquals(shipped, alerts.get("ZeebeAmbientEnforcerNoLeader").path("labels").path("severity").asText(),
                "an alert not tuned keeps its severity");
        assertEquals("platform", alerts.get("ZeebeAmbientEnforcerNoLeader").path("labels").path("team").asText());
        // promtool accepts the tuned groups
        Path dir = Files.createDirectories(Paths.get("target", "alerts", "tuned"));
        Path rules = dir.resolve("rules.yaml");
        Files.writeString(rules, AlertRules.YAML.writeValueAsString(spec));
        assertTrue(promtool(List.of("check", "rules", rules.toString())).contains("SUCCESS"));
        // a typo is refused with the alerts' names
        Helm.Result typo = Helm.run(Map.of(), List.of("template", "zeebe-ambient-enforcer", Helm.CHART.toString(),
                "--set", "metrics.prometheusRule.enabled=true", "--set", "metrics.prometheusRule.alerts.ZeebeAmbientEnforcerNoLeadr.enabled=false"));
        assertTrue(typo.exit() != 0 && typo.output().contains("metrics.prometheusRule.alerts.ZeebeAmbientEnforcerNoLeadr: no such alert")
                && typo.output().contains("ZeebeAmbientEnforcerNoLeader"), typo.output());
    }

    /** ServiceMonitor and PodMonitor carry the relabelings and scrape timeout the values give. */
    @Test
    void theMonitorsTakeRelabelings() throws Exception {
        for (String kind : List.of("serviceMonitor", "podMonitor")) {
            String yaml = dev.zeebeambient.enforcer.testsupport.Chart.template("--set", "metrics." + kind + ".enabled=true",
                    "--set", "metrics." + kind + ".scrapeTimeout=10s",
                    "--set", "metrics." + kind + ".relabelings[0].targetLabel=cluster", "--set", "metrics." + kind + ".relabelings[0].replacement=eu-1",
                    "--set", "metrics." + kind + ".metricRelabelings[0].action=drop",
                    "--set", "metrics." + kind + ".metricRelabelings[0].sourceLabels[0]=__name__",
                    "--set", "metrics." + kind + ".metricRelabelings[0].regex=jvm_buffer.*",
                    "--show-only", "templates/monitoring.yaml");
            JsonNode endpoint = AlertRules.YAML.readTree(yaml).path("spec").path(kind.equals("serviceMonitor") ? "endpoints" : "podMetricsEndpoints").get(0);
            assertEquals("10s", endpoint.path("scrapeTimeout").asText(), yaml);
            assertEquals("cluster", endpoint.path("relabelings").get(0).path("targetLabel").asText(), yaml);
            assertEquals("drop", endpoint.path("metricRelabelings").get(0).path("action").asText(), yaml);
        }
        String plain = dev.zeebeambient.enforcer.testsupport.Chart.template("--set", "metrics.serviceMonitor.enabled=true",
                "--show-only", "templates/monitoring.yaml");
        assertTrue(!plain.contains("relabelings") && !plain.contains("scrapeTimeout"), "nothing when not set:\n" + plain);
    }

    /** The dashboard has namespace and job variables, and every query selects by both. */
    @Test
    void everyDashboardQuerySelectsTheNamespaceAndJobVariables() throws Exception {
        JsonNode d = new com.fasterxml.jackson.databind.ObjectMapper().readTree(Files.readString(AlertRules.DASHBOARD));
        Set<String> variables = new TreeSet<>();
        d.path("templating").path("list").forEach(v -> variables.add(v.path("name").asText()));
        assertTrue(variables.containsAll(List.of("datasource", "namespace", "job")), variables.toString());
        var metric = java.util.regex.Pattern.compile("\\b(?:zeebe_ambient|jvm|process)_[a-z_]+(\\{[^}]*\\})?");
        int checked = 0;
        for (JsonNode panel : d.path("panels")) {
            for (JsonNode t : panel.path("targets")) {
                var m = metric.matcher(t.path("expr").asText());
                while (m.find()) {
                    assertTrue(m.group(1) != null && m.group(1).contains("namespace=~\"$namespace\"") && m.group(1).contains("job=~\"$job\""),
                            panel.path("title").asText() + ": " + m.group());
                    checked++;
                }
            }
        }
        assertTrue(checked >= 20, "metrics checked: " + checked);
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
