package dev.zeebeambient.enforcer.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import dev.zeebeambient.enforcer.testsupport.TestConfig;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code precheck} against the suite's API server, as an administrator before installing and as the enforcer's
 * ServiceAccount from the Deployment: each requirement fails with its fix until the fixture supplies it.
 */
class PrecheckTest {

    record Run(int exit, String out) {
    }

    static Run precheck(KubernetesClient client, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int exit = Precheck.run(List.of(args), TestConfig.defaults(), client, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(out, true, StandardCharsets.UTF_8));
        return new Run(exit, out.toString(StandardCharsets.UTF_8));
    }

    static Map<String, String> statuses(KubernetesClient client) {
        return Precheck.checks(TestConfig.defaults(), client).stream().collect(Collectors.toMap(Precheck.Check::name, Precheck.Check::status));
    }

    @Test
    void eachRequirementIsCheckedWithItsFix() throws Exception {
        KubeTestCluster cluster = KubeTestCluster.get();
        KubernetesClient admin = cluster.client();
        cluster.installCrds(); // the Gateway API and Istio CRDs
        for (String ns : List.of("camunda", "istio-system")) {
            cluster.namespace(ns, Map.of());
        }
        admin.services().inNamespace("camunda").withName("camunda-zeebe-gateway").delete();
        admin.genericKubernetesResources("gateway.networking.k8s.io/v1", "GatewayClass").withName("istio-waypoint").delete();

        Run before = precheck(admin);
        System.out.print("precheck, before the fixtures:\n" + before.out());
        assertEquals(1, before.exit(), before.out());
        assertTrue(before.out().contains("PASS Kubernetes version: v1.37"), before.out());
        assertTrue(before.out().contains("serves MutatingAdmissionPolicy v1"), before.out());
        assertTrue(before.out().contains("PASS Gateway API"), before.out());
        assertTrue(before.out().contains("FAIL waypoint GatewayClass: istio-waypoint is missing"), before.out());
        assertTrue(before.out().contains("FAIL ztunnel: no ztunnel pod in istio-system"), before.out());
        assertTrue(before.out().contains("FAIL target camunda/camunda-zeebe-gateway-grpc:26500: the gateway Service camunda/camunda-zeebe-gateway"),
                before.out());
        assertTrue(before.out().contains("     fix: "), before.out());

        // what istiod and the Camunda chart would have created
        cluster.waypointGatewayClass();
        admin.pods().inNamespace("istio-system").resource(new PodBuilder().withNewMetadata().withName("ztunnel-x").addToLabels("app", "ztunnel")
                .endMetadata().withNewSpec().addNewContainer().withName("istio-proxy").withImage("ztunnel:1").endContainer().endSpec().build())
                .createOr(x -> x.update());
        cluster.chartGatewayService();
        admin.resource(new EndpointSliceBuilder().withNewMetadata().withName("camunda-zeebe-gateway-x").withNamespace("camunda")
                .addToLabels("kubernetes.io/service-name", "camunda-zeebe-gateway").endMetadata().withAddressType("IPv4")
                .addNewEndpoint().withAddresses("10.0.0.9").withNewConditions().withReady(true).endConditions().endEndpoint().build())
                .serverSideApply();
        cluster.namespace("precheck-apps", Map.of("zeebe-ambient-enforcer.io/enabled", "true"));
        Map<String, String> after = statuses(admin);
        assertEquals("PASS", after.get("waypoint GatewayClass"));
        assertEquals("PASS", after.get("ztunnel"));
        assertEquals("PASS", after.get("target camunda/camunda-zeebe-gateway-grpc:26500"), after.toString());
        assertEquals("PASS", after.get("opted-in namespaces"));
        assertTrue(precheck(admin).out().contains("precheck-apps"));

        // as the ServiceAccount (from the Deployment): what it may not read is a WARN that says so, never a FAIL
        cluster.installEnforcerIdentity("base");
        try (KubernetesClient sa = cluster.serviceAccountClient()) {
            assertTrue(precheck(sa).out().contains("WARN other mutating webhooks: cannot check (HTTP 403: mutatingwebhookconfigurations"
                    + ".admissionregistration.k8s.io is forbidden"), "the API server's reason, in one line");
            Run asSa = precheck(sa, "-o", "json");
            JsonNode checks = new ObjectMapper().readTree(asSa.out());
            System.out.println("precheck as the ServiceAccount: " + checks);
            for (JsonNode c : checks) {
                assertTrue(!c.path("status").asText().equals("FAIL"), c.toString());
            }
            assertTrue(checks.toString().contains("\"name\":\"other mutating webhooks\",\"detail\":\"cannot check (HTTP 403"), checks.toString());
            assertEquals(0, asSa.exit(), asSa.out());
        } finally {
            admin.pods().inNamespace("istio-system").withName("ztunnel-x").withGracePeriod(0).delete();
            admin.discovery().v1().endpointSlices().inNamespace("camunda").withName("camunda-zeebe-gateway-x").delete();
        }
    }

    @Test
    void helpAndBadArguments() {
        KubernetesClient admin = KubeTestCluster.get().client();
        Run help = precheck(admin, "--help");
        assertEquals(0, help.exit());
        assertTrue(help.out().startsWith("usage: precheck"));
        Run bad = precheck(admin, "--frobnicate");
        assertEquals(2, bad.exit());
        assertTrue(bad.out().startsWith("precheck: unexpected argument --frobnicate"), bad.out());
    }
}
