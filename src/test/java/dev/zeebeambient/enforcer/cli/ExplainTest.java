package dev.zeebeambient.enforcer.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import dev.zeebeambient.enforcer.testsupport.TestConfig;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code explain} against the suite's API server, as the enforcer's ServiceAccount with the shipped RBAC (as from the
 * Deployment): the webhook's decision for a manifest, a workload's template, a live pod, with the path that decides it.
 */
class ExplainTest {

    static final String NS = "explain-apps";
    static final String OFF = "explain-not-opted-in";
    static KubeTestCluster cluster;
    static KubernetesClient admin;

    @BeforeAll
    static void cluster() {
        cluster = KubeTestCluster.get();
        admin = cluster.client();
        cluster.installEnforcerIdentity("base");
        cluster.namespace(NS, Map.of("zeebe-ambient-enforcer.io/enabled", "true"));
        cluster.namespace(OFF, Map.of());
        admin.configMaps().inNamespace(NS).resource(new ConfigMapBuilder().withNewMetadata().withName("zeebe").endMetadata()
                .addToData("address", "camunda-zeebe-gateway-grpc.camunda:26500").build()).serverSideApply();
    }

    record Run(int exit, String out, String err) {
    }

    static Run explain(KubernetesClient client, String stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = Explain.run(List.of(args), TestConfig.defaults(), client, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static JsonNode json(Run r) throws Exception {
        assertEquals(0, r.exit(), r.err());
        return new ObjectMapper().readTree(r.out());
    }

    static String deployment(String name, String env) {
        return admin.getKubernetesSerialization().asYaml(new DeploymentBuilder().withNewMetadata().withName(name).withNamespace(NS).endMetadata()
                .withNewSpec().withNewSelector().addToMatchLabels("app", name).endSelector().withNewTemplate().withNewMetadata()
                .addToLabels("app", name).endMetadata().withNewSpec().addNewContainer().withName("worker").withImage("worker:1").addNewEnv()
                .withName("ZEEBE_ADDRESS").withValue(env).endEnv().endContainer().endSpec().endTemplate().endSpec().build());
    }

    @Test
    void aLiteralClientsWorkloadIsEnrolledAtCreation() throws Exception {
        try (KubernetesClient sa = cluster.serviceAccountClient()) {
            Run text = explain(sa, deployment("worker", "camunda-zeebe-gateway-grpc.camunda:26500"), "-f", "-");
            assertEquals(0, text.exit(), text.err());
            System.out.print("explain, a literal client:\n" + text.out());
            assertTrue(text.out().startsWith("Deployment " + NS + "/worker (its pod template)\n"), text.out());
            assertTrue(text.out().contains("decision:  enroll"), text.out());
            assertTrue(text.out().contains("address:   container worker: env ZEEBE_ADDRESS -> camunda/camunda-zeebe-gateway-grpc:26500"), text.out());
            assertTrue(text.out().contains("namespace: " + NS + ": opted in (zeebe-ambient-enforcer.io/enabled=true)"), text.out());
            JsonNode j = json(explain(sa, deployment("worker", "camunda-zeebe-gateway-grpc.camunda:26500"), "-f", "-", "-o", "json"));
            assertEquals("enroll", j.path("decision").asText());
            assertEquals("zeebe-client", j.path("reason").asText());
            assertEquals("camunda/camunda-zeebe-gateway-grpc:26500", j.path("address").path("target").asText());
            // the enroll policy is installed only where EnrollPolicyTest puts it under test: without it, the webhook
            assertEquals("webhook", j.path("path").asText(), j.toString());
            assertTrue(j.path("pathFrom").asText().startsWith("estimated"), j.toString());
        }
    }

    @Test
    void aConfigMapClientAnOptedOutPodAndANamespaceThatDidNotOptIn() throws Exception {
        Path manifest = Files.createTempFile("explain", ".yaml");
        try (KubernetesClient sa = cluster.serviceAccountClient()) {
            Files.writeString(manifest, admin.getKubernetesSerialization().asYaml(new PodBuilder().withNewMetadata().withName("cm-worker")
                    .withNamespace(NS).endMetadata().withNewSpec().addNewContainer().withName("worker").withImage("worker:1").addNewEnv()
                    .withName("ZEEBE_ADDRESS").withNewValueFrom().withNewConfigMapKeyRef("address", "zeebe", false).endValueFrom().endEnv()
                    .endContainer().endSpec().build()));
            JsonNode cm = json(explain(sa, "", "-f", manifest.toString(), "-o", "json"));
            assertEquals("enroll", cm.path("decision").asText(), cm.toString());
            assertTrue(cm.path("address").path("found").asText().contains("configmap/zeebe"), cm.toString());
            assertEquals("webhook", cm.path("path").asText(), "the policy cannot read ConfigMaps");

            JsonNode optedOut = json(explain(sa, admin.getKubernetesSerialization().asYaml(new PodBuilder().withNewMetadata().withName("out")
                    .withNamespace(NS).addToLabels("zeebe-ambient-enforcer.io/enroll", "false").endMetadata().withNewSpec().addNewContainer()
                    .withName("worker").withImage("worker:1").addNewEnv().withName("ZEEBE_ADDRESS")
                    .withValue("camunda-zeebe-gateway-grpc.camunda:26500").endEnv().endContainer().endSpec().build()), "-f", "-", "-o", "json"));
            assertEquals("opted-out", optedOut.path("reason").asText(), optedOut.toString());
            assertEquals("warn", optedOut.path("decision").asText(), "the webhook tells the user about an opted-out client");
            assertEquals("none", optedOut.path("path").asText());

            Run off = explain(sa, deployment("worker", "camunda-zeebe-gateway-grpc.camunda:26500").replace("namespace: \"" + NS + "\"",
                    "namespace: \"" + OFF + "\"").replace("namespace: " + NS, "namespace: " + OFF), "-f", "-");
            System.out.print("explain, a namespace that did not opt in:\n" + off.out());
            assertTrue(off.out().contains("decision:  skip") && off.out().contains("reason:    namespace-not-opted-in"), off.out());
            assertTrue(off.out().contains("not opted in (zeebe-ambient-enforcer.io/enabled=true is missing)"), off.out());
        } finally {
            Files.deleteIfExists(manifest);
        }
    }

    @Test
    void aRunningPodTheWebhookMissedIsTheBackstops() throws Exception {
        admin.pods().inNamespace(NS).resource(new PodBuilder().withNewMetadata().withName("running").endMetadata().withNewSpec().addNewContainer()
                .withName("worker").withImage("worker:1").addNewEnv().withName("ZEEBE_ADDRESS").withValue("camunda-zeebe-gateway-grpc.camunda:26500")
                .endEnv().endContainer().endSpec().build()).createOr(x -> x.update());
        try (KubernetesClient sa = cluster.serviceAccountClient()) {
            JsonNode j = json(explain(sa, "", "-n", NS, "pod/running", "-o", "json"));
            assertEquals("Pod " + NS + "/running", j.path("object").asText());
            assertEquals("backstop", j.path("path").asText(), j.toString());
            // a workload the ServiceAccount may not read: the message says how to pipe it instead
            Run forbidden = explain(sa, "", "-n", NS, "deployment/worker");
            assertEquals(1, forbidden.exit(), forbidden.out());
            assertTrue(forbidden.err().contains("HTTP 403") && forbidden.err().contains("explain -f -"), forbidden.err());
        }
        // with permission to create pods, the API server says who enrolls it (none here: no webhook is registered for the namespace)
        JsonNode asked = json(explain(admin, deployment("worker", "camunda-zeebe-gateway-grpc.camunda:26500"), "-f", "-", "-o", "json", "--dry-run"));
        assertEquals("the API server (server-side dry run)", asked.path("pathFrom").asText(), asked.toString());
        assertTrue(asked.path("path").asText().startsWith("none"), asked.toString());
    }

    @Test
    void badInputGetsAClearErrorNeverAStackTrace() {
        assertEquals(0, explain(admin, "", "--help").exit());
        assertTrue(explain(admin, "", "--help").out().contains("usage: explain"));
        for (String[] bad : new String[][] {{}, {"pod"}, {"service/x"}, {"-o", "yaml", "pod/x"}, {"-f"}, {"-f", "/nonexistent.yaml"},
                {"pod/a", "pod/b"}, {"--frobnicate"}}) {
            Run r = explain(admin, "", bad);
            assertEquals(2, r.exit(), List.of(bad) + ": " + r.err());
            assertTrue(r.err().startsWith("explain: ") && !r.err().contains("\tat "), List.of(bad) + ": " + r.err());
        }
        Run notYaml = explain(admin, "{ this is not: [a manifest", "-f", "-");
        assertEquals(2, notYaml.exit(), notYaml.err());
        assertTrue(notYaml.err().contains("not a Kubernetes manifest"), notYaml.err());
        Run missing = explain(admin, "", "-n", NS, "pod/nobody");
        assertEquals(2, missing.exit());
        assertTrue(missing.err().contains("pod/nobody not found in namespace " + NS), missing.err());
    }
}
