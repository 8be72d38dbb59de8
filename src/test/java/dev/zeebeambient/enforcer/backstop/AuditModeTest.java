package dev.zeebeambient.enforcer.backstop;

import dev.zeebeambient.enforcer.testsupport.Endpoints;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zeebeambient.enforcer.testsupport.KubeApiServerResource;
import dev.zeebeambient.enforcer.testsupport.Eventually;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import dev.zeebeambient.enforcer.testsupport.Pods;
import java.time.Duration;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Audit (report-only) mode: nothing is written; the webhook and /status say what would happen. */
@QuarkusTest
@WithTestResource(KubeApiServerResource.class)
@TestProfile(AuditModeTest.Audit.class)
class AuditModeTest {

    public static class Audit implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("enforcer.audit", "true", "enforcer.backstop.enabled", "true");
        }
    }

    @Test
    void webhookAnswersWithoutAPatchAndSaysWhatItWouldDo() {
        ObjectMapper m = new ObjectMapper();
        ObjectNode review = m.createObjectNode().put("apiVersion", "admission.k8s.io/v1").put("kind", "AdmissionReview");
        ObjectNode req = review.putObject("request").put("uid", "audit-1").put("operation", "CREATE").put("namespace", "audit-apps");
        req.putObject("kind").put("group", "").put("version", "v1").put("kind", "Pod");
        req.set("object", m.valueToTree(Pods.pod("w", true).build()));
        Endpoints.https().contentType("application/json")
                .body(review.toString()).post("/mutate").then().statusCode(200)
                .body("response.allowed", equalTo(true))
                .body("response.patch", equalTo(null))
                .body("response.warnings[0]", equalTo("zeebe-ambient-enforcer: audit mode, unchanged; would enroll: "
                        + "env ZEEBE_ADDRESS -> camunda-zeebe-gateway-grpc"));
    }

    @Test
    void backstopWritesNothingAndStatusListsWouldBeEnrollments() throws Exception {
        KubernetesClient k8s = KubeTestCluster.get().client();
        String ns = "audit-apps";
        KubeTestCluster.get().namespace(ns, Map.of("zeebe-ambient-enforcer.io/enabled", "true"));
        List<Pod> created = List.of(Pods.pod("audit-client", true).build(), Pods.pod("audit-web", false).build())
                .stream().map(p -> k8s.pods().inNamespace(ns).resource(p).create()).toList();
        Map<String, String> versions = created.stream()
                .collect(Collectors.toMap(p -> p.getMetadata().getName(), p -> p.getMetadata().getResourceVersion()));

        Eventually.await(() -> Endpoints.management().get("/status").asString()
                .contains("audit-client"), 30, "status lists the would-be enrollment");
        JsonPath status = Endpoints.management().get("/status").jsonPath();
        assertEquals(true, status.getBoolean("backstop.audit"));
        Map<String, String> listed = status.getMap("backstop.notEnrolled.'audit-apps'");
        assertEquals(List.of("audit-client"), List.copyOf(listed.keySet()));
        assertTrue(listed.get("audit-client").startsWith("container app: env ZEEBE_ADDRESS -> camunda/camunda-zeebe-gateway-grpc:26500"),
                listed.toString());

        Eventually.stays(() -> versions.entrySet().stream().allMatch(v -> v.getValue().equals(
                k8s.pods().inNamespace(ns).withName(v.getKey()).get().getMetadata().getResourceVersion())), Duration.ofSeconds(1),
                "nothing is written in audit mode");
        versions.forEach((name, rv) -> {
            Pod p = k8s.pods().inNamespace(ns).withName(name).get();
            assertEquals(rv, p.getMetadata().getResourceVersion(), "written in audit mode: " + name);
            assertTrue(p.getMetadata().getLabels() == null || p.getMetadata().getLabels().isEmpty());
        });
        assertTrue(Pods.enrolledEvents(ns).isEmpty());
        String metrics = Endpoints.management().get("/q/metrics").asString();
        assertTrue(metrics.contains("zeebe_ambient_backstop_not_enrolled"), "gauge exported");
    }
}
