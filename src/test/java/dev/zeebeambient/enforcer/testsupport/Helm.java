package dev.zeebeambient.enforcer.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The chart ({@code webhook-config/helm/zeebe-ambient-enforcer}) and the helm built for it from the Go module proxy
 * ({@code src/test/helm/build-helm.sh}); renderings as trees, normalised for comparison with kustomize's.
 */
public final class Helm {

    public static final Path CHART = Paths.get("webhook-config", "helm", "zeebe-ambient-enforcer");
    public static final YAMLMapper YAML = new YAMLMapper();
    /** Labels only the chart sets (Helm's conventions); everything else must equal kustomize's. */
    public static final Set<String> CHART_LABELS = Set.of("app.kubernetes.io/instance", "app.kubernetes.io/managed-by",
            "app.kubernetes.io/version", "helm.sh/chart");
    /** The configuration the chart states as env (its _env.tpl); kustomize leaves these to the image's defaults. */
    public static final Set<String> CONFIG_ENV = Set.of("ENFORCER_TARGETS", "ENFORCER_CLUSTER_DOMAIN", "ENFORCER_NAMESPACE_OPT_IN_LABEL",
            "ENFORCER_EXCLUDED_NAMESPACES", "ENFORCER_POD_ENROLL_KEY", "ENFORCER_REASON_ANNOTATION",
            "ENFORCER_DETECTION_KNOWN_GATEWAY_SERVICES", "ENFORCER_BOOTSTRAP_ENABLED", "ENFORCER_BOOTSTRAP_WAYPOINT_NAME",
            "ENFORCER_BOOTSTRAP_ISTIO_NAMESPACE", "ENFORCER_BOOTSTRAP_CHART_GATEWAY_SERVICE",
            "ENFORCER_BOOTSTRAP_WAYPOINT_DEFAULTS_ENABLED", "ENFORCER_BOOTSTRAP_WAYPOINT_DEFAULTS_NAME");

    private Helm() {
    }

    /** Helm 3 (src/test/helm). */
    public static Path binary() throws IOException {
        return binary(Paths.get("src", "test", "helm"));
    }

    /** Helm 4 (src/test/helm/v4). */
    public static Path helm4() throws IOException {
        return binary(Paths.get("src", "test", "helm", "v4"));
    }

    /** The helm that build-helm.sh built from the wrapper module in {@code module}. */
    static Path binary(Path module) throws IOException {
        List<String> mod = Files.readAllLines(module.resolve("go.mod"));
        String[] helm = mod.stream().map(String::trim).filter(l -> l.matches("helm\\.sh/helm/v\\d+ .*"))
                .map(l -> l.split("\\s+")).findFirst().orElseThrow(() -> new IllegalStateException(module + "/go.mod requires no helm"));
        String minor = mod.stream().map(String::trim).filter(l -> l.startsWith("k8s.io/client-go "))
                .map(l -> l.split("\\s+")[1].split("\\.")[1]).findFirst().orElseThrow();
        String dir = System.getenv().getOrDefault("KUBE_API_TEST_DIR", Paths.get(System.getProperty("user.home"), ".kube_api_test").toString());
        Path binary = Paths.get(dir, "helm", helm[1] + "-k8s1." + minor, "helm");
        if (!Files.isExecutable(binary)) {
            throw new IllegalStateException(binary + " is missing: src/test/helm/build-helm.sh builds it (mvn runs it in generate-test-resources)");
        }
        return binary;
    }

    /** Exit code and combined output of a helm command. */
    public record Result(int exit, String output) {
    }

    public static Result run(Map<String, String> env, List<String> args) throws IOException, InterruptedException {
        return run(binary(), env, args);
    }

    public static Result run(Path helm, Map<String, String> env, List<String> args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(helm.toString());
        cmd.addAll(args);
        Path home = Files.createDirectories(Paths.get("target", "helm-home"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        // no user's helm repositories, cache or plugins
        pb.environment().put("HELM_CONFIG_HOME", home.resolve("config").toAbsolutePath().toString());
        pb.environment().put("HELM_CACHE_HOME", home.resolve("cache").toAbsolutePath().toString());
        pb.environment().put("HELM_DATA_HOME", home.resolve("data").toAbsolutePath().toString());
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("helm " + args + " did not finish in 300 s:\n" + out);
        }
        return new Result(p.exitValue(), out);
    }

    public static Result run(String... args) throws IOException, InterruptedException {
        return run(Map.of(), List.of(args));
    }

    /** {@code helm template <release> <chart> -n <namespace> <args>}; fails on a non-zero exit. */
    public static String template(String release, String namespace, List<String> args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("template", release, CHART.toString(), "-n", namespace));
        cmd.addAll(args);
        Result r = run(Map.of(), cmd);
        if (r.exit() != 0) {
            throw new AssertionError("helm " + String.join(" ", cmd) + " failed:\n" + r.output());
        }
        return r.output();
    }

    /** The documents of a multi-document YAML stream (empty ones dropped). */
    public static List<ObjectNode> documents(String yaml) throws IOException {
        List<ObjectNode> docs = new ArrayList<>();
        try (var it = YAML.readerFor(JsonNode.class).<JsonNode>readValues(yaml)) {
            while (it.hasNext()) {
                JsonNode n = it.next();
                if (n instanceof ObjectNode o && !o.isEmpty()) {
                    docs.add(o);
                }
            }
        }
        return docs;
    }

    public static String key(JsonNode o) {
        return o.path("kind").asText() + "/" + o.path("metadata").path("namespace").asText("") + "/" + o.path("metadata").path("name").asText();
    }

    /** By {@link #key}; fails on a duplicate. */
    public static Map<String, ObjectNode> byKey(List<ObjectNode> docs) {
        Map<String, ObjectNode> m = new TreeMap<>();
        for (ObjectNode d : docs) {
            if (m.put(key(d), d) != null) {
                throw new AssertionError("rendered twice: " + key(d));
            }
        }
        return m;
    }

    /** Without Helm's own labels, the config checksum, and (chart) hooks; a Deployment's config env is returned apart. */
    public static Map<String, ObjectNode> normalised(List<ObjectNode> docs, Map<String, String> configEnvOut) {
        Map<String, ObjectNode> out = new LinkedHashMap<>();
        for (ObjectNode d0 : docs) {
            ObjectNode d = d0.deepCopy();
            if (d.path("metadata").path("annotations").has("helm.sh/hook")) {
                continue;
            }
            stripMeta((ObjectNode) d.get("metadata"));
            if (d.path("spec").path("template").path("metadata") instanceof ObjectNode tm) {
                stripMeta(tm);
            }
            if (d.path("kind").asText().equals("Deployment")) {
                for (JsonNode c : d.path("spec").path("template").path("spec").path("containers")) {
                    ArrayNode env = (ArrayNode) c.path("env");
                    for (int i = env.size() - 1; i >= 0; i--) {
                        String name = env.get(i).path("name").asText();
                        if (CONFIG_ENV.contains(name)) {
                            configEnvOut.put(name, env.get(i).path("value").asText());
                            env.remove(i);
                        }
                    }
                    // by name: a strategic-merge patch (kustomize's components) puts its entries first; no entry here refers to another
                    List<JsonNode> sorted = new ArrayList<>();
                    env.forEach(sorted::add);
                    sorted.sort(java.util.Comparator.comparing(e -> e.path("name").asText()));
                    env.removeAll();
                    sorted.forEach(env::add);
                }
            }
            out.put(key(d), d);
        }
        return out;
    }

    private static void stripMeta(ObjectNode meta) {
        if (meta.get("labels") instanceof ObjectNode labels) {
            CHART_LABELS.forEach(labels::remove);
            if (labels.isEmpty()) {
                meta.remove("labels");
            }
        }
        if (meta.get("annotations") instanceof ObjectNode ann) {
            ann.remove("checksum/config");
            if (ann.isEmpty()) {
                meta.remove("annotations");
            }
        }
    }

    /** Every literal env entry of the Deployment's container: what the enforcer reads (fieldRefs resolved by the caller). */
    public static Map<String, String> deploymentEnv(List<ObjectNode> docs) {
        Map<String, String> env = new TreeMap<>();
        for (ObjectNode d : docs) {
            if (d.path("kind").asText().equals("Deployment")) {
                for (JsonNode e : d.path("spec").path("template").path("spec").path("containers").path(0).path("env")) {
                    if (e.has("value")) {
                        env.put(e.path("name").asText(), e.path("value").asText());
                    }
                }
            }
        }
        return env;
    }

    /** {@code kubectl kustomize <dir>} as documents. */
    public static List<ObjectNode> kustomize(Path dir) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(KubeTestCluster.get().kubectl().toString(), "kustomize", dir.toString()).redirectErrorStream(true).start();
        String yaml = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("kubectl kustomize " + dir + " failed:\n" + yaml);
        }
        return documents(yaml);
    }
}
