package dev.zeebeambient.enforcer.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zeebeambient.enforcer.bench.DecisionBenchmark;

import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every pod shape the tests and the benchmark use, as JSON: the admission reader, the projection and
 * the backstop's patches are all checked against the same set.
 */
public final class PodShapes {

    static final String LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

    public static final ObjectMapper M = new ObjectMapper();

    private PodShapes() {
    }

    /** A pod with every place a Zeebe address can come from, and every field the projection keeps. */
    public static ObjectNode everything() throws Exception {
        return (ObjectNode) M.readTree("""
                {"apiVersion": "v1", "kind": "Pod",
                 "metadata": {"name": "all-1", "generateName": "all-", "namespace": "apps", "uid": "u-1",
                  "resourceVersion": "42", "creationTimestamp": "2026-01-01T00:00:00Z", "deletionTimestamp": "2026-01-02T00:00:00Z",
                  "labels": {"app": "all", "app.kubernetes.io/name": "all", "empty": ""},
                  "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\\"huge\\":true}", "note": "x~1/y"},
                  "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "all-7d9f", "uid": "rs-1",
                    "controller": true, "blockOwnerDeletion": true}],
                  "finalizers": ["f"]},
                 "spec": {"hostNetwork": false, "restartPolicy": "Always", "serviceAccountName": "all",
                  "initContainers": [{"name": "wait", "image": "busybox",
                    "command": ["sh", "-c", "until nc -z camunda-zeebe-gateway-grpc.camunda 26500; do sleep 1; done"]}],
                  "containers": [{"name": "app", "image": "app:1", "command": ["java"], "args": ["-jar", "app.jar", "--x=$(ADDR)"],
                    "env": [
                      {"name": "PLAIN", "value": "v"},
                      {"name": "EMPTY"},
                      {"name": "ADDR", "valueFrom": {"configMapKeyRef": {"name": "zeebe", "key": "address", "optional": true}}},
                      {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "zeebe-secret", "key": "token"}}},
                      {"name": "NS", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}},
                      {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}}],
                    "envFrom": [{"prefix": "CFG_", "configMapRef": {"name": "env-all"}}, {"secretRef": {"name": "env-secret", "optional": false}}],
                    "volumeMounts": [{"name": "conf", "mountPath": "/config", "readOnly": true},
                      {"name": "proj", "mountPath": "/proj", "subPath": "x"}, {"name": "scratch", "mountPath": "/tmp"}],
                    "ports": [{"containerPort": 8080}],
                    "resources": {"limits": {"memory": "1Gi"}},
                    "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}}},
                   {"name": "side", "image": "side:1"}],
                  "volumes": [
                    {"name": "conf", "configMap": {"name": "app-config", "items": [{"key": "application.yaml", "path": "a.yaml"}]}},
                    {"name": "sec", "secret": {"secretName": "app-secret", "defaultMode": 420}},
                    {"name": "proj", "projected": {"sources": [
                      {"configMap": {"name": "proj-config", "items": [{"key": "k", "path": "p"}]}},
                      {"secret": {"name": "proj-secret", "items": [{"key": "s", "path": "q"}]}},
                      {"serviceAccountToken": {"path": "token", "expirationSeconds": 3607}},
                      {"downwardAPI": {"items": [{"path": "ns", "fieldRef": {"fieldPath": "metadata.namespace"}}]}}]}},
                    {"name": "scratch", "emptyDir": {}}]},
                 "status": {"phase": "Pending", "podIP": "10.0.0.7", "conditions": [{"type": "Ready", "status": "False"}]}}
                """);
    }

    /** Every pod fixture the tests and the benchmark use, as JSON. */
    public static Map<String, JsonNode> all() throws Exception {
        Map<String, JsonNode> pods = new LinkedHashMap<>();
        pods.put("everything", everything());
        Path dir = Path.of(PodShapes.class.getResource("/fixtures").toURI());
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                pods.put(f.getFileName().toString(), M.readTree(f.toFile()));
            }
        }
        // DecisionBenchmark.pods() is package-private; reflection keeps the benchmark as it is
        Method bench = DecisionBenchmark.class.getDeclaredMethod("pods");
        bench.setAccessible(true);
        ((Map<?, ?>) bench.invoke(null)).forEach((k, v) -> pods.put("bench " + k, (JsonNode) v));
        // the decision table's pods and TrimmedPodDecisionTest's (README rows, fixtures, pod with ConfigMap sources)
        Method cases = Class.forName("dev.zeebeambient.enforcer.decision.TrimmedPodDecisionTest").getDeclaredMethod("cases");
        cases.setAccessible(true);
        int i = 0;
        for (Object c : (List<?>) cases.invoke(null)) {
            Method pod = c.getClass().getDeclaredMethod("pod");
            pod.setAccessible(true);
            pods.put("decision case " + i++, M.valueToTree(pod.invoke(c)));
        }
        assertTrue(pods.size() > 25, "pods: " + pods.size());
        return pods;
    }

    /**
     * The shape as a client creates it: no server-set fields, no status, valid for the API server; with
     * {@code applied}, as {@code kubectl apply -f} leaves it (its only annotation the last-applied configuration).
     */
    public static io.fabric8.kubernetes.api.model.Pod creatable(JsonNode shape, String name, boolean applied) throws Exception {
        ObjectNode pod = shape.deepCopy();
        pod.remove("status");
        ObjectNode meta = pod.has("metadata") && pod.get("metadata").isObject() ? (ObjectNode) pod.get("metadata") : pod.putObject("metadata");
        meta.retain("labels", "annotations", "ownerReferences");
        meta.put("name", name);
        if (applied) {
            // kubectl apply -f: the only annotation is the last-applied configuration
            ObjectNode annotations = meta.putObject("annotations");
            annotations.put(LAST_APPLIED, M.writeValueAsString(shape));
        }
        ObjectNode spec = (ObjectNode) pod.get("spec");
        spec.remove(List.of("serviceAccount", "nodeName"));
        if (meta.has("annotations") && meta.get("annotations").has("kubernetes.io/config.mirror")) {
            spec.put("nodeName", "node-1"); // the API server requires it of a mirror pod
        }
        spec.put("serviceAccountName", "default"); // a projected token volume needs one
        for (String list : List.of("containers", "initContainers")) {
            spec.path(list).forEach(c -> {
                if (!c.hasNonNull("image")) {
                    ((ObjectNode) c).put("image", "app:1"); // the decider's test pods may leave it out
                }
            });
        }
        return M.treeToValue(pod, io.fabric8.kubernetes.api.model.Pod.class);
    }

}
