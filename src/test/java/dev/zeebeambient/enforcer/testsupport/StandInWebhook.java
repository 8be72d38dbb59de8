package dev.zeebeambient.enforcer.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.zeebeambient.enforcer.tls.Pki;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.Map;
import java.util.function.Function;

/**
 * Another team's mutating webhook, as clusters run them next to ours (Kyverno or Gatekeeper mutation, Vault's agent
 * injector, a config injector): an HTTPS server with the test CA's serving certificate that answers every
 * AdmissionReview with the JSON Patch {@code mutation} returns for the pod it receives (empty: no change).
 */
public final class StandInWebhook implements AutoCloseable {

    static final ObjectMapper JSON = new ObjectMapper();

    private final HttpsServer server;
    private final AtomicInteger calls = new AtomicInteger();

    private StandInWebhook(HttpsServer server) {
        this.server = server;
    }

    /** Serves on a free port of 127.0.0.1. */
    public static StandInWebhook start(Function<JsonNode, ArrayNode> mutation) throws Exception {
        TestPki pki = TestPki.get();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        List<X509Certificate> chain = Pki.certificates(Files.readString(pki.cert()));
        ks.setKeyEntry("server", Pki.key(Files.readString(pki.key())), new char[0], chain.toArray(new X509Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, new char[0]);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(kmf.getKeyManagers(), null, null);
        HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(ssl));
        StandInWebhook w = new StandInWebhook(server);
        server.createContext("/", x -> {
            w.calls.incrementAndGet();
            JsonNode review = JSON.readTree(x.getRequestBody());
            JsonNode request = review.path("request");
            ArrayNode patch = mutation.apply(request.path("object"));
            ObjectNode response = JSON.createObjectNode();
            response.put("apiVersion", "admission.k8s.io/v1");
            response.put("kind", "AdmissionReview");
            ObjectNode r = response.putObject("response");
            r.put("uid", request.path("uid").asText());
            r.put("allowed", true);
            if (patch != null && !patch.isEmpty()) {
                r.put("patchType", "JSONPatch");
                r.put("patch", Base64.getEncoder().encodeToString(JSON.writeValueAsBytes(patch)));
            }
            byte[] body = JSON.writeValueAsBytes(response);
            x.getResponseHeaders().add("Content-Type", "application/json");
            x.sendResponseHeaders(200, body.length);
            x.getResponseBody().write(body);
            x.close();
        });
        server.start();
        return w;
    }

    public String url() {
        return "https://127.0.0.1:" + server.getAddress().getPort() + "/mutate";
    }

    public int calls() {
        return calls.get();
    }

    /** A JSON Patch that adds (or replaces) label {@code key} on the pod. */
    public static ArrayNode addLabel(JsonNode pod, String key, String value) {
        ArrayNode ops = JSON.createArrayNode();
        if (!pod.path("metadata").has("labels")) {
            ObjectNode op = ops.addObject().put("op", "add").put("path", "/metadata/labels");
            op.putObject("value").put(key, value);
        } else {
            ops.addObject().put("op", "add").put("path", "/metadata/labels/" + key.replace("~", "~0").replace("/", "~1")).put("value", value);
        }
        return ops;
    }

    /** A JSON Patch that adds (or replaces) the annotations {@code add} on the pod. */
    public static ArrayNode addAnnotations(JsonNode pod, Map<String, String> add) {
        ArrayNode ops = JSON.createArrayNode();
        if (!pod.path("metadata").has("annotations")) {
            ObjectNode value = ops.addObject().put("op", "add").put("path", "/metadata/annotations").putObject("value");
            add.forEach(value::put);
        } else {
            add.forEach((k, v) -> ops.addObject().put("op", "add")
                    .put("path", "/metadata/annotations/" + k.replace("~", "~0").replace("/", "~1")).put("value", v));
        }
        return ops;
    }

    /** A JSON Patch that sets the first container's first env var to {@code value}, or to a ConfigMap key if {@code configMap} is given. */
    public static ArrayNode replaceFirstEnv(JsonNode pod, String value, String configMap, String key) {
        ArrayNode ops = JSON.createArrayNode();
        if (!pod.path("spec").path("containers").path(0).path("env").has(0)) {
            return ops; // no env var to replace (the readiness probe's pod)
        }
        ObjectNode env = JSON.createObjectNode().put("name", pod.path("spec").path("containers").path(0).path("env").path(0).path("name").asText());
        if (configMap == null) {
            env.put("value", value);
        } else {
            env.putObject("valueFrom").putObject("configMapKeyRef").put("name", configMap).put("key", key);
        }
        ops.addObject().put("op", "replace").put("path", "/spec/containers/0/env/0").set("value", env);
        return ops;
    }

    /** A JSON Patch that adds an env var to the first container (its value from a ConfigMap key, as config injectors do). */
    public static ArrayNode addEnvFromConfigMap(JsonNode pod, String name, String configMap, String key) {
        ArrayNode ops = JSON.createArrayNode();
        ObjectNode env = JSON.createObjectNode().put("name", name);
        env.putObject("valueFrom").putObject("configMapKeyRef").put("name", configMap).put("key", key);
        JsonNode c = pod.path("spec").path("containers").path(0);
        if (c.has("env")) {
            ops.addObject().put("op", "add").put("path", "/spec/containers/0/env/-").set("value", env);
        } else {
            ops.addObject().put("op", "add").put("path", "/spec/containers/0/env").putArray("value").add(env);
        }
        return ops;
    }


    @Override
    public void close() {
        server.stop(0);
    }
}
