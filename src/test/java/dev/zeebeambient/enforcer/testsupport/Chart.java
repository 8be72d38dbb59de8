package dev.zeebeambient.enforcer.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.install.InstallNames;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The chart rendered for a test, as the test API server (1.37, serving MutatingAdmissionPolicy) would get it from
 * {@code helm install}: the one place the install objects come from, for any configuration a test needs.
 */
public final class Chart {

    public static final String NS = "zeebe-ambient-enforcer";
    /** What {@code helm install} finds in the test API server's discovery (its {@code .Capabilities}). */
    public static final List<String> SERVES_MAP = List.of("--api-versions", "admissionregistration.k8s.io/v1/MutatingAdmissionPolicy");

    private Chart() {
    }

    /** {@code helm template} with {@code args} (--set ...), as text. */
    public static String template(String... args) throws IOException, InterruptedException {
        List<String> all = new ArrayList<>(SERVES_MAP);
        all.addAll(List.of(args));
        return Helm.template("zeebe-ambient-enforcer", NS, all);
    }

    public static List<ObjectNode> objects(String... args) throws IOException, InterruptedException {
        return Helm.documents(template(args));
    }

    /** The enroll policy and its warnings (the objects named under {@link InstallNames#ENROLL_POLICY}), as YAML. */
    public static String enrollPolicy(String... args) throws IOException, InterruptedException {
        return yaml(objects(args).stream().filter(o -> o.path("metadata").path("name").asText().startsWith(InstallNames.ENROLL_POLICY)).toList());
    }

    /** The objects of one kind. */
    public static String yaml(List<ObjectNode> docs) throws IOException {
        StringBuilder y = new StringBuilder();
        for (ObjectNode d : docs) {
            y.append("---\n").append(Helm.YAML.writeValueAsString(d).replaceFirst("^---\\n", ""));
        }
        return y.toString();
    }

    /** The configuration the enforcer reads from the rendered ConfigMap (and the release namespace, as the kubelet resolves it). */
    public static EnforcerConfig config(List<ObjectNode> docs) {
        Map<String, String> env = new HashMap<>(configMap(docs));
        env.put("ENFORCER_OWN_NAMESPACE", NS);
        return TestConfig.fromEnv(env);
    }

    /** The data of the enforcer's ConfigMap. */
    public static Map<String, String> configMap(List<ObjectNode> docs) {
        Map<String, String> data = new HashMap<>();
        for (ObjectNode d : docs) {
            if (d.path("kind").asText().equals("ConfigMap") && d.path("metadata").path("name").asText().equals(InstallNames.CONFIG_MAP)) {
                for (var it = d.path("data").fields(); it.hasNext();) {
                    Map.Entry<String, JsonNode> e = it.next();
                    data.put(e.getKey(), e.getValue().asText());
                }
            }
        }
        if (data.isEmpty()) {
            throw new AssertionError("no ConfigMap " + InstallNames.CONFIG_MAP + " rendered");
        }
        return data;
    }
}
