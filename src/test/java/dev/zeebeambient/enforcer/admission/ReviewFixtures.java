package dev.zeebeambient.enforcer.admission;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.util.UUID;

/** AdmissionReview bodies as the API server sends them, around the pods in src/test/resources/fixtures. */
final class ReviewFixtures {

    static final ObjectMapper M = new ObjectMapper();

    private ReviewFixtures() {
    }

    static ObjectNode pod(String fixture) {
        try (InputStream in = ReviewFixtures.class.getResourceAsStream("/fixtures/" + fixture)) {
            return (ObjectNode) M.readTree(in);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static ObjectNode review(JsonNode object, String namespace, String operation, boolean dryRun) {
        ObjectNode r = M.createObjectNode();
        r.put("apiVersion", "admission.k8s.io/v1");
        r.put("kind", "AdmissionReview");
        ObjectNode req = r.putObject("request");
        req.put("uid", UUID.randomUUID().toString());
        req.putObject("kind").put("group", "").put("version", "v1").put("kind", "Pod");
        req.putObject("resource").put("group", "").put("version", "v1").put("resource", "pods");
        req.put("namespace", namespace);
        req.put("operation", operation);
        req.putObject("userInfo").put("username", "system:serviceaccount:kube-system:replicaset-controller");
        req.set("object", object);
        req.put("dryRun", dryRun);
        return r;
    }
}
