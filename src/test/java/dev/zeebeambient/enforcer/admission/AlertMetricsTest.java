package dev.zeebeambient.enforcer.admission;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zeebeambient.enforcer.testsupport.AlertRules;
import dev.zeebeambient.enforcer.testsupport.Endpoints;
import dev.zeebeambient.enforcer.testsupport.Eventually;
import dev.zeebeambient.enforcer.testsupport.KubeApiServerResource;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every metric the shipped alerts ({@code webhook-config/components/alerts}) and the dashboard
 * ({@code components/dashboard}) read exists in a
 * running enforcer's {@code /q/metrics} after real work (an enrolled client, a malformed body), so
 * a renamed metric turns a test red instead of an alert silently never firing. Also the values of
 * the state gauges the alerts were built on.
 */
@QuarkusTest
@WithTestResource(KubeApiServerResource.class)
class AlertMetricsTest {

    static final String NS = "alert-metrics-apps";

    @Test
    void everyMetricTheAlertsReadIsExposed() throws Exception {
        KubeTestCluster.get().namespace(NS, Map.of("zeebe-ambient-enforcer.io/enabled", "true"));
        ObjectNode review = ReviewFixtures.review(ReviewFixtures.pod("spring-worker-pod.json"), NS, "CREATE", false);
        Eventually.await(() -> AdmissionEndpointTest.post(review).extract().statusCode() == 200
                && AdmissionEndpointTest.post(review).extract().asString().contains("JSONPatch"), 30, "a client enrolled");
        AdmissionEndpointTest.https().body("{\"apiVersion\":").post("/mutate").then().statusCode(400);
        // a client whose address is in a ConfigMap: the source cache and its lookups
        var admin = KubeTestCluster.get().client();
        admin.configMaps().inNamespace(NS).resource(new io.fabric8.kubernetes.api.model.ConfigMapBuilder().withNewMetadata()
                .withName("zeebe").endMetadata().addToData("address", "camunda-zeebe-gateway-grpc.camunda:26500").build()).serverSideApply();
        var cmPod = new io.fabric8.kubernetes.api.model.PodBuilder().withNewMetadata().withName("cm-worker").withNamespace(NS).endMetadata()
                .withNewSpec().addNewContainer().withName("worker").withImage("worker:1").addNewEnv().withName("ZEEBE_ADDRESS")
                .withNewValueFrom().withNewConfigMapKeyRef().withName("zeebe").withKey("address").endConfigMapKeyRef().endValueFrom()
                .endEnv().endContainer().endSpec().build();
        ObjectNode cmReview = ReviewFixtures.review(new com.fasterxml.jackson.databind.ObjectMapper().valueToTree(cmPod), NS, "CREATE", false);
        Eventually.await(() -> AdmissionEndpointTest.post(cmReview).extract().asString().contains("JSONPatch"), 30,
                "the ConfigMap client enrolled");

        String body = Endpoints.management().get("/q/metrics").then().statusCode(200).extract().asString();
        Set<String> exposed = body.lines().filter(l -> !l.startsWith("#") && !l.isBlank())
                .map(l -> l.split("[{ ]", 2)[0]).collect(Collectors.toCollection(TreeSet::new));
        Set<String> missing = new TreeSet<>(AlertRules.metricNames());
        missing.removeAll(exposed);
        assertEquals(Set.of(), missing, "metrics the alerts read but the enforcer does not expose; exposed: " + exposed);
        assertTrue(AlertRules.metricNames().size() >= 10, AlertRules.metricNames().toString());
        Set<String> missingOnTheDashboard = new TreeSet<>(AlertRules.dashboardMetricNames());
        missingOnTheDashboard.removeAll(exposed);
        assertEquals(Set.of(), missingOnTheDashboard, "metrics the dashboard queries but the enforcer does not expose");
        assertTrue(AlertRules.dashboardMetricNames().size() >= 12, AlertRules.dashboardMetricNames().toString());

        // the state gauges: nothing failing here, and the test certificate (1 day) is read
        assertEquals(0, AdmissionEndpointTest.metric("zeebe_ambient_watches_failing "), 0.0);
        assertEquals(0, AdmissionEndpointTest.metric("zeebe_ambient_bypassing_clients "), 0.0);
        double left = AdmissionEndpointTest.metric("zeebe_ambient_tls_certificate_expiry_seconds ");
        assertTrue(left > 3600 && left <= 86400, "seconds left on the 1-day test certificate: " + left);
        // the comparison with the installed admission objects ran (as the ServiceAccount: readable, not forbidden)
        Eventually.await(() -> Endpoints.management().get("/status").then().extract().asString().contains("\"checkedAt\""), 30,
                "/status reports the configuration check");
        String status = Endpoints.management().get("/status").then().statusCode(200).extract().asString();
        assertTrue(status.contains("\"matchesInstalledObjects\"") && !status.contains("forbidden"), status);
        assertTrue(AdmissionEndpointTest.metric("zeebe_ambient_configuration_differences ") >= 0);
    }
}
