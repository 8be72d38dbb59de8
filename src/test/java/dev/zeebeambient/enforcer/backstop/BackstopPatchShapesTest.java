package dev.zeebeambient.enforcer.backstop;

import dev.zeebeambient.enforcer.kube.PodProjection;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.zeebeambient.enforcer.kube.DecisionService;
import dev.zeebeambient.enforcer.kube.NamespaceCache;
import dev.zeebeambient.enforcer.leader.Leadership;
import dev.zeebeambient.enforcer.testsupport.Endpoints;
import dev.zeebeambient.enforcer.testsupport.Eventually;
import dev.zeebeambient.enforcer.testsupport.KubeApiServerResource;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import dev.zeebeambient.enforcer.testsupport.PodShapes;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The backstop's patch, not only its decision, for every pod shape the tests know, each also as
 * {@code kubectl apply} leaves it (its only annotation kubectl's last-applied configuration, which
 * the backstop's projection drops). Through the real API server, as the ServiceAccount with the
 * shipped pod-patch policy: every pod the backstop decides to enroll ends up enrolled, with exactly
 * the label and our annotations added and nothing else changed; every other pod is never written.
 */
@QuarkusTest
@WithTestResource(KubeApiServerResource.class)
@TestProfile(BackstopTest.Enabled.class)
class BackstopPatchShapesTest {

    static final ObjectMapper M = new ObjectMapper();
    static final String NS = "backstop-shapes";

    @Inject
    Leadership leadership;
    @Inject
    DecisionService decisions;
    @Inject
    NamespaceCache namespaces;

    static Map<String, String> map(Map<String, String> m) {
        return m == null ? Map.of() : m;
    }

    @Test
    void everyShapeIsPatchedWithExactlyTheLabelAndOurAnnotations() throws Exception {
        KubernetesClient k8s = KubeTestCluster.get().client();
        KubeTestCluster.get().namespace(NS, Map.of()); // not opted in yet: admitted unlabelled, as with the webhook down
        Eventually.await(leadership::isLeader, 30, "leadership");
        // the ConfigMaps the shapes read their address from
        k8s.resource(new ConfigMapBuilder().withNewMetadata().withName("zeebe").withNamespace(NS).endMetadata()
                .addToData("address", "camunda-zeebe-gateway-grpc.camunda:26500").build()).serverSideApply();
        k8s.resource(new ConfigMapBuilder().withNewMetadata().withName("app-config").withNamespace(NS).endMetadata()
                .addToData("application.yaml", "camunda:\n  client:\n    zeebe:\n      grpc-address: http://camunda-zeebe-gateway-grpc.camunda:26500\n")
                .build()).serverSideApply();

        Map<String, Pod> created = new LinkedHashMap<>();
        int i = 0;
        for (Map.Entry<String, JsonNode> shape : PodShapes.all().entrySet()) {
            for (boolean applied : List.of(false, true)) {
                String name = "shape-" + i + (applied ? "-applied" : "");
                Pod p = k8s.pods().inNamespace(NS).resource(PodShapes.creatable(shape.getValue(), name, applied)).create();
                created.put(name + " (" + shape.getKey() + ")", p);
            }
            i++;
        }
        KubeTestCluster.get().namespace(NS, Map.of(BackstopTest.OPT_IN, "true"));
        Eventually.await(() -> "true".equals(map(namespaces.allLabels().get(NS)).get(BackstopTest.OPT_IN)), 15,
                "the enforcer sees the opt-in");

        Map<String, Boolean> expected = new LinkedHashMap<>();
        created.forEach((k, p) -> expected.put(k, decisions.decide(PodProjection.trim(p), NS).decision().enroll()));
        assertTrue(expected.values().stream().filter(b -> b).count() >= 10, "enough shapes are clients: " + expected);
        assertTrue(expected.entrySet().stream().anyMatch(e -> e.getValue() && e.getKey().contains("-applied")), expected.toString());

        Eventually.await(() -> expected.entrySet().stream().filter(Map.Entry::getValue).allMatch(e ->
                        "ambient".equals(map(live(k8s, created.get(e.getKey())).getMetadata().getLabels()).get(BackstopTest.MODE))),
                60, "every client shape enrolled by the backstop: " + expected);
        for (Map.Entry<String, Pod> e : created.entrySet()) {
            Pod before = e.getValue();
            Pod after = live(k8s, before);
            if (!expected.get(e.getKey())) {
                assertEquals(before.getMetadata().getResourceVersion(), after.getMetadata().getResourceVersion(),
                        e.getKey() + ": not a client to enroll, never written");
                continue;
            }
            Map<String, String> labels = new HashMap<>(map(before.getMetadata().getLabels()));
            labels.put(BackstopTest.MODE, "ambient");
            assertEquals(labels, map(after.getMetadata().getLabels()), e.getKey() + ": labels");
            Map<String, String> annotations = new HashMap<>(map(after.getMetadata().getAnnotations()));
            assertEquals("backstop", annotations.remove("zeebe-ambient-enforcer.io/enrolled-by"), e.getKey());
            assertTrue(annotations.remove("zeebe-ambient-enforcer.io/enrolled-because") != null, e.getKey());
            assertEquals(map(before.getMetadata().getAnnotations()), annotations, e.getKey() + ": every other annotation kept");
            assertEquals(before.getSpec(), after.getSpec(), e.getKey());
            assertEquals(before.getMetadata().getOwnerReferences(), after.getMetadata().getOwnerReferences(), e.getKey());
        }
        Map<String, Object> notEnrolled = Endpoints.management().get("/status").jsonPath().getMap("backstop.notEnrolled");
        assertTrue(notEnrolled == null || !notEnrolled.containsKey(NS), "nothing given up on: " + notEnrolled);
    }

    static Pod live(KubernetesClient k8s, Pod p) {
        return k8s.pods().inNamespace(NS).withName(p.getMetadata().getName()).get();
    }
}
