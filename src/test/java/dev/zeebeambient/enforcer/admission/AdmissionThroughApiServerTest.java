package dev.zeebeambient.enforcer.admission;

import dev.zeebeambient.enforcer.testsupport.Endpoints;
import dev.zeebeambient.enforcer.testsupport.Eventually;
import dev.zeebeambient.enforcer.testsupport.KubeApiServerResource;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * End to end: the real kube-apiserver calls the running enforcer over HTTPS through a
 * MutatingWebhookConfiguration (url + caBundle from the test CA), as in a cluster.
 */
@QuarkusTest
@WithTestResource(KubeApiServerResource.class)
class AdmissionThroughApiServerTest {

    static final String OPTED_IN = "e2e-apps";
    static final String PLAIN = "e2e-plain";
    static final String MODE = "istio.io/dataplane-mode";
    static final String REASON = "zeebe-ambient-enforcer.io/enrolled-because";
    static final String ADDRESS = "camunda-zeebe-gateway-grpc.camunda:26500";

    static KubernetesClient k8s;

    @BeforeAll
    static void registerWebhook() throws Exception {
        KubeTestCluster cluster = KubeTestCluster.get();
        k8s = cluster.client();
        Map<String, String> optIn = Map.of("zeebe-ambient-enforcer.io/enabled", "true");
        cluster.namespace(OPTED_IN, optIn);
        cluster.namespace(PLAIN, Map.of());
        cluster.namespace("kube-system", optIn); // opted in by mistake: still excluded by the webhook config
        cluster.registerWebhook("zeebe-ambient-enforcer", Endpoints.MUTATE_URL, "Ignore");
        // the API server picks webhook configurations up asynchronously: wait until a dry run is mutated
        Eventually.await(() -> "ambient".equals(k8s.pods().inNamespace(OPTED_IN).resource(clientPod("probe").build()).dryRun()
                .create().getMetadata().getLabels().get(MODE)), 60, "the API server calls the webhook");
    }

    static PodBuilder clientPod(String name) {
        return new PodBuilder().withNewMetadata().withName(name).addToLabels("app", "worker").endMetadata()
                .withNewSpec().addNewContainer().withName("worker").withImage("example/worker:1")
                .addNewEnv().withName("ZEEBE_ADDRESS").withValue(ADDRESS).endEnv()
                .endContainer().endSpec();
    }

    static Map<String, String> labels(Pod p) {
        return p.getMetadata().getLabels() == null ? Map.of() : p.getMetadata().getLabels();
    }

    @Test
    void clientPodIsStoredWithLabelAndReasonAndKubectlShowsTheWarning() throws Exception {
        String yaml = """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: kubectl-worker
                spec:
                  containers:
                  - name: worker
                    image: example/worker:1
                    env:
                    - name: ZEEBE_GRPC_ADDRESS
                      value: http://camunda-zeebe-gateway-grpc.camunda.svc.cluster.local:26500
                """;
        KubeTestCluster cluster = KubeTestCluster.get();
        Process kubectl = new ProcessBuilder(cluster.kubectl().toString(), "--kubeconfig", cluster.kubeconfig().toString(),
                "create", "-n", OPTED_IN, "-f", "-").start();
        kubectl.getOutputStream().write(yaml.getBytes(StandardCharsets.UTF_8));
        kubectl.getOutputStream().close();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        kubectl.getErrorStream().transferTo(err);
        assertTrue(kubectl.waitFor(60, TimeUnit.SECONDS));
        String stderr = err.toString(StandardCharsets.UTF_8);
        assertEquals(0, kubectl.exitValue(), stderr);
        assertTrue(stderr.contains("Warning: zeebe-ambient-enforcer: enrolled in ambient: env ZEEBE_GRPC_ADDRESS -> camunda-zeebe-gateway-grpc"),
                stderr);

        Pod stored = k8s.pods().inNamespace(OPTED_IN).withName("kubectl-worker").get();
        assertEquals("ambient", labels(stored).get(MODE));
        assertEquals("container worker: env ZEEBE_GRPC_ADDRESS -> camunda/camunda-zeebe-gateway-grpc:26500",
                stored.getMetadata().getAnnotations().get(REASON));
    }

    /** Issue 13 §1: a client of the chart's own Service is admitted unlabelled, and kubectl says why and what to do. */
    @Test
    void clientOfTheChartServiceIsToldItBypassesTheWaypoint() throws Exception {
        KubeTestCluster cluster = KubeTestCluster.get();
        cluster.namespace("camunda", Map.of());
        k8s.resource(new io.fabric8.kubernetes.api.model.ServiceBuilder().withNewMetadata().withName("camunda-zeebe-gateway")
                .withNamespace("camunda").endMetadata().withNewSpec()
                .addToSelector(Map.of("app.kubernetes.io/component", "zeebe-gateway", "app.kubernetes.io/instance", "camunda"))
                .addNewPort().withName("http").withPort(9600).endPort().addNewPort().withName("gateway").withPort(26500).endPort()
                .endSpec().build()).serverSideApply();
        String yaml = """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: chart-client
                spec:
                  containers:
                  - name: worker
                    image: example/worker:1
                    env:
                    - name: ZEEBE_ADDRESS
                      value: camunda-zeebe-gateway.camunda:26500
                """;
        // the enforcer learns about the chart Service from its watch: retry the dry run until it does
        Eventually.await(() -> kubectlCreate(cluster, yaml, true).contains("bypasses the waypoint"), 30, "warning on a dry run");
        String stderr = kubectlCreate(cluster, yaml, false);
        assertTrue(stderr.contains("Warning: zeebe-ambient-enforcer: bypasses the waypoint (no per-request balancing): "
                + "camunda-zeebe-gateway.camunda:26500"), stderr);
        assertTrue(stderr.contains("Warning: zeebe-ambient-enforcer: fix: point it at camunda-zeebe-gateway-grpc.camunda:26500"), stderr);
        Pod stored = k8s.pods().inNamespace(OPTED_IN).withName("chart-client").get();
        assertNull(labels(stored).get(MODE), "not enrolled: the label alone would not balance it");
        String metrics = Endpoints.management().get("/q/metrics").asString();
        assertTrue(metrics.lines().anyMatch(l -> l.startsWith("zeebe_ambient_admission_requests_total")
                && l.contains("reason=\"bypasses-waypoint\"")), "counted with its reason");
    }

    static String kubectlCreate(KubeTestCluster cluster, String yaml, boolean dryRun) {
        try {
            List<String> cmd = new java.util.ArrayList<>(List.of(cluster.kubectl().toString(), "--kubeconfig",
                    cluster.kubeconfig().toString(), "create", "-n", OPTED_IN, "-f", "-"));
            if (dryRun) {
                cmd.add("--dry-run=server");
            }
            Process kubectl = new ProcessBuilder(cmd).start();
            kubectl.getOutputStream().write(yaml.getBytes(StandardCharsets.UTF_8));
            kubectl.getOutputStream().close();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            kubectl.getErrorStream().transferTo(err);
            assertTrue(kubectl.waitFor(60, TimeUnit.SECONDS));
            return err.toString(StandardCharsets.UTF_8);
        } catch (java.io.IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A sidecar-injected namespace: a client opting out of the sidecar is enrolled at admission; an injected one is not. */
    @Test
    void sidecarOptOutClientInAnInjectionNamespaceIsEnrolledAtAdmission() {
        String ns = "e2e-injected";
        KubeTestCluster.get().namespace(ns, Map.of("zeebe-ambient-enforcer.io/enabled", "true", "istio-injection", "enabled"));
        Eventually.await(() -> "ambient".equals(labels(k8s.pods().inNamespace(ns).resource(clientPod("optout-probe").editMetadata()
                .addToLabels("sidecar.istio.io/inject", "false").endMetadata().build()).dryRun().create()).get(MODE)), 15,
                "the webhook sees the new namespace");
        Pod optedOut = k8s.pods().inNamespace(ns).resource(clientPod("no-sidecar").editMetadata()
                .addToLabels("sidecar.istio.io/inject", "false").endMetadata().build()).create();
        assertEquals("ambient", labels(optedOut).get(MODE));
        assertEquals("admission", optedOut.getMetadata().getAnnotations().get("zeebe-ambient-enforcer.io/enrolled-by"));
        Pod injected = k8s.pods().inNamespace(ns).resource(clientPod("with-sidecar").build()).create();
        assertNull(labels(injected).get(MODE), "the sidecar wins over ambient");
    }

    @Test
    void namespaceWithoutOptInIsUntouched() {
        Pod stored = k8s.pods().inNamespace(PLAIN).resource(clientPod("plain-worker").build()).create();
        assertNull(labels(stored).get(MODE));
        assertTrue(stored.getMetadata().getAnnotations() == null || !stored.getMetadata().getAnnotations().containsKey(REASON));
    }

    @Test
    void generateNameWithoutNamespaceAsControllersDo() throws Exception {
        // a raw POST whose object has neither name nor namespace, like a ReplicaSet controller's
        String body = """
                {"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"worker-7d9f8b6c5-","labels":{"app":"worker"}},
                 "spec":{"containers":[{"name":"worker","image":"example/worker:1",
                   "env":[{"name":"ZEEBE_ADDRESS","value":"%s"}]}]}}""".formatted(ADDRESS);
        var http = k8s.getHttpClient();
        var request = http.newHttpRequestBuilder()
                .uri(k8s.getMasterUrl() + "api/v1/namespaces/" + OPTED_IN + "/pods")
                .post("application/json", body).build();
        var response = http.sendAsync(request, String.class).get(30, TimeUnit.SECONDS);
        assertEquals(201, response.code(), response.body());
        Pod created = k8s.getKubernetesSerialization().unmarshal(response.body(), Pod.class);
        assertTrue(created.getMetadata().getName().startsWith("worker-7d9f8b6c5-"));
        assertEquals("ambient", labels(k8s.pods().inNamespace(OPTED_IN).withName(created.getMetadata().getName()).get()).get(MODE));
    }

    @Test
    void optOutNoneIsUntouched() {
        Pod stored = k8s.pods().inNamespace(OPTED_IN).resource(clientPod("none-worker").editMetadata()
                .addToLabels(MODE, "none").endMetadata().build()).create();
        assertEquals("none", labels(stored).get(MODE));
    }

    @Test
    void kubeSystemIsUntouched() {
        Pod stored = k8s.pods().inNamespace("kube-system").resource(clientPod("system-worker").build()).create();
        assertNull(labels(stored).get(MODE));
    }

    @Test
    void addressFromConfigMapKeyRefEnvFromAndMountedApplicationYaml() {
        k8s.resource(new ConfigMapBuilder().withNewMetadata().withName("zeebe-address").withNamespace(OPTED_IN).endMetadata()
                .addToData("address", "grpc://" + ADDRESS).build()).create();
        k8s.resource(new ConfigMapBuilder().withNewMetadata().withName("zeebe-env").withNamespace(OPTED_IN).endMetadata()
                .addToData("ZEEBE_ADDRESS", ADDRESS).build()).create();
        k8s.resource(new ConfigMapBuilder().withNewMetadata().withName("camunda-operate-configuration").withNamespace(OPTED_IN)
                .endMetadata().addToData("application.yaml", """
                        camunda:
                          operate:
                            zeebe:
                              gatewayAddress: "camunda-zeebe-gateway-grpc.camunda:26500"
                        """).build()).create();

        Pod keyRef = k8s.pods().inNamespace(OPTED_IN).resource(new PodBuilder().withNewMetadata().withName("cm-keyref").endMetadata()
                .withNewSpec().addNewContainer().withName("app").withImage("app:1").addNewEnv().withName("CAMUNDA_GRPC_ADDRESS")
                .withNewValueFrom().withNewConfigMapKeyRef("address", "zeebe-address", false).endValueFrom().endEnv()
                .endContainer().endSpec().build()).create();
        assertEquals("ambient", labels(keyRef).get(MODE));
        assertEquals("container app: env CAMUNDA_GRPC_ADDRESS from configmap/zeebe-address key address -> "
                + "camunda/camunda-zeebe-gateway-grpc:26500", keyRef.getMetadata().getAnnotations().get(REASON));

        Pod envFrom = k8s.pods().inNamespace(OPTED_IN).resource(new PodBuilder().withNewMetadata().withName("cm-envfrom").endMetadata()
                .withNewSpec().addNewContainer().withName("app").withImage("app:1").addNewEnvFrom()
                .withNewConfigMapRef("zeebe-env", false).endEnvFrom().endContainer().endSpec().build()).create();
        assertEquals("ambient", labels(envFrom).get(MODE));
        assertTrue(envFrom.getMetadata().getAnnotations().get(REASON).contains("envFrom configmap/zeebe-env"));

        Pod mounted = k8s.pods().inNamespace(OPTED_IN).resource(new PodBuilder().withNewMetadata().withName("cm-mounted").endMetadata()
                .withNewSpec().addNewContainer().withName("operate").withImage("camunda/operate:8.7")
                .addNewVolumeMount().withName("config").withMountPath("/usr/local/operate/config/application.yaml")
                .withSubPath("application.yaml").endVolumeMount().endContainer()
                .addNewVolume().withName("config").withNewConfigMap().withName("camunda-operate-configuration").endConfigMap().endVolume()
                .endSpec().build()).create();
        assertEquals("ambient", labels(mounted).get(MODE));
        assertTrue(mounted.getMetadata().getAnnotations().get(REASON)
                .contains("mounted configmap/camunda-operate-configuration key application.yaml"));
    }

    @Test
    void serverSideDryRunIsLabelledAndNothingIsStored() {
        Pod dry = k8s.pods().inNamespace(OPTED_IN).resource(clientPod("dry-worker").build()).dryRun().create();
        assertEquals("ambient", labels(dry).get(MODE));
        assertNull(k8s.pods().inNamespace(OPTED_IN).withName("dry-worker").get());
    }

    @Test
    void webhookDownWithIgnoreNeverBlocksPodCreation() throws Exception {
        KubeTestCluster cluster = KubeTestCluster.get();
        String ns = "e2e-webhook-down";
        cluster.namespace(ns, Map.of("zeebe-ambient-enforcer.io/enabled", "true"));
        // a second registration whose endpoint is down, next to ours
        cluster.registerWebhook("zeebe-ambient-enforcer-down", "https://localhost:1/mutate", "Ignore");
        try {
            // let the API server load it; every create below must succeed regardless
            Thread.sleep(2000);
            for (int i = 0; i < 3; i++) {
                Pod p = k8s.pods().inNamespace(ns).resource(clientPod("down-" + i).build()).create();
                assertEquals("down-" + i, p.getMetadata().getName());
            }
        } finally {
            k8s.admissionRegistration().v1().mutatingWebhookConfigurations().withName("zeebe-ambient-enforcer-down").delete();
        }
        // with our own endpoint removed too, creation still succeeds and the pod stays unlabelled
        cluster.registerWebhook("zeebe-ambient-enforcer", "https://localhost:1/mutate", "Ignore");
        try {
            Instant until = Instant.now().plusSeconds(30);
            Pod p;
            int i = 0;
            do {
                p = k8s.pods().inNamespace(ns).resource(clientPod("unlabelled-" + i++).build()).create();
            } while ("ambient".equals(labels(p).get(MODE)) && Instant.now().isBefore(until));
            assertNull(labels(p).get(MODE), "pod created while the webhook endpoint is down is admitted unlabelled");
        } finally {
            cluster.registerWebhook("zeebe-ambient-enforcer", Endpoints.MUTATE_URL, "Ignore");
        }
    }
}
