package dev.zeebeambient.enforcer.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The shipped alerts as installed: {@code webhook-config/components/alerts}, the chart's rendering of its
 * {@code files/prometheusrule.yaml} (runbook URLs filled in; InstallFilesTest keeps it current), and the promtool built for them.
 */
public final class AlertRules {

    public static final Path FILE = Paths.get("webhook-config", "components", "alerts", "resources.yaml");
    public static final YAMLMapper YAML = new YAMLMapper();

    private AlertRules() {
    }

    /** The PrometheusRule as a tree. */
    public static JsonNode prometheusRule() throws IOException {
        return YAML.readTree(Files.readString(FILE));
    }

    /** Every rule (alert) of every group. */
    public static List<JsonNode> alerts() throws IOException {
        List<JsonNode> alerts = new ArrayList<>();
        for (JsonNode g : prometheusRule().path("spec").path("groups")) {
            g.path("rules").forEach(alerts::add);
        }
        return alerts;
    }

    /** Metric names the rules read: {@code zeebe_ambient_...} as exposed (histogram suffixes kept). */
    public static Set<String> metricNames() throws IOException {
        Set<String> names = new TreeSet<>();
        Matcher m = Pattern.compile("zeebe_ambient_[a-z_]+").matcher("");
        for (JsonNode a : alerts()) {
            m.reset(a.path("expr").asText());
            while (m.find()) {
                names.add(m.group());
            }
        }
        return names;
    }

    public static final Path DASHBOARD = Paths.get("webhook-config", "helm", "zeebe-ambient-enforcer", "files", "dashboard.json");

    /** Metric names the dashboard's queries read (ours, the JVM's and the process'). */
    public static Set<String> dashboardMetricNames() throws IOException {
        Set<String> names = new TreeSet<>();
        JsonNode d = new com.fasterxml.jackson.databind.ObjectMapper().readTree(Files.readString(DASHBOARD));
        Matcher m = Pattern.compile("\\b(?:zeebe_ambient|jvm|process)_[a-z_]+").matcher("");
        for (JsonNode panel : d.path("panels")) {
            for (JsonNode t : panel.path("targets")) {
                m.reset(t.path("expr").asText());
                while (m.find()) {
                    names.add(m.group());
                }
            }
        }
        return names;
    }

    /** The promtool of {@code src/test/prometheus} (built by its build-promtool.sh into the test binaries' cache). */
    public static Path promtool() throws IOException {
        String version = Files.readAllLines(Paths.get("src", "test", "prometheus", "go.mod")).stream()
                .map(String::trim).filter(l -> l.startsWith("github.com/prometheus/prometheus "))
                .map(l -> l.split("\\s+")[1]).findFirst()
                .orElseThrow(() -> new IllegalStateException("src/test/prometheus/go.mod requires no github.com/prometheus/prometheus"));
        String dir = System.getenv().getOrDefault("KUBE_API_TEST_DIR", Paths.get(System.getProperty("user.home"), ".kube_api_test").toString());
        Path promtool = Paths.get(dir, "prometheus", version, "promtool");
        if (!Files.isExecutable(promtool)) {
            throw new IllegalStateException(promtool + " is missing: src/test/prometheus/build-promtool.sh builds it (mvn runs it in generate-test-resources)");
        }
        return promtool;
    }
}
