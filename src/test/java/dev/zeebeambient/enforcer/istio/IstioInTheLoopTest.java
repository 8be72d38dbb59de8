package dev.zeebeambient.enforcer.istio;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zeebeambient.enforcer.bootstrap.Cleanup;
import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.leader.Leadership;
import dev.zeebeambient.enforcer.testsupport.Endpoints;
import dev.zeebeambient.enforcer.testsupport.Eventually;
import dev.zeebeambient.enforcer.testsupport.Istiod;
import dev.zeebeambient.enforcer.testsupport.KubeApiServerResource;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import dev.zeebeambient.enforcer.testsupport.Pods;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 12: Istio judges what the enforcer writes. A real istiod (built from the istio.io/istio
 * module, ambient enabled, no proxies) runs against the test API server while the enforcer (as its
 * ServiceAccount) bootstraps: istiod must accept the waypoint Gateway and shape its Deployment by
 * our defaults ConfigMap, bind the gRPC Service to it, treat it as HTTP/2 with LEAST_REQUEST from
 * our DestinationRule in the waypoint's xDS, and list a pod the webhook labelled as an HBONE
 * workload. No kubelet, no controller-manager: pod IPs are written through the status subresource
 * and EndpointSlices by hand, as those controllers would.
 */
@QuarkusTest
@WithTestResource(KubeApiServerResource.class)
@TestProfile(IstioInTheLoopTest.Profile.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class IstioInTheLoopTest {

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("enforcer.bootstrap.enabled", "true", "enforcer.bootstrap.resync-period", "2s",
                    // the seed's GKE example: a node pool and a CPU limit for the waypoint
                    "enforcer.bootstrap.waypoint-defaults.node-selector.\"cloud.google.com/gke-nodepool\"", "pool-c4-standard-32",
                    "enforcer.bootstrap.waypoint-defaults.cpu-limit", "32");
        }
    }

    static final String NS = "camunda";
    static final String APPS = "istio-apps";
    static final String GW = "gateway.networking.k8s.io/v1";
    static final String GRPC_HOST = "camunda-zeebe-gateway-grpc.camunda.svc.cluster.local";
    static final String WAYPOINT_CLUSTER = "inbound-vip|26500|http|" + GRPC_HOST;
    static final String WAYPOINT_IP = "10.244.7.10";
    static final Map<String, String> GATEWAY_PODS = Map.of("zeebe-gateway-0", "10.244.7.20", "zeebe-gateway-1", "10.244.7.21");
    static KubernetesClient k8s;
    static Istiod istiod;

    @Inject
    Leadership leadership;
    @Inject
    EnforcerConfig config;
    @Inject
    KubernetesClient app;

    @BeforeAll
    static void istiod() throws Exception {
        KubeTestCluster cluster = KubeTestCluster.get();
        k8s = cluster.client();
        cluster.installCrds();
        cluster.namespace(NS, Map.of());
        cluster.namespace("istio-system", Map.of());
        cluster.namespace(APPS, Map.of("zeebe-ambient-enforcer.io/enabled", "true"));
        // the Helm chart's gateway Service and its two gateway pods (running, with IPs)
        Map<String, String> selector = Map.of("app.kubernetes.io/component", "zeebe-gateway", "app.kubernetes.io/instance", "camunda");
        k8s.resource(new ServiceBuilder().withNewMetadata().withName("camunda-zeebe-gateway").withNamespace(NS).endMetadata()
                .withNewSpec().addToSelector(selector).addNewPort().withName("gateway").withPort(26500).endPort().endSpec().build())
                .serverSideApply();
        for (var p : GATEWAY_PODS.entrySet()) {
            running(k8s.resource(new PodBuilder().withNewMetadata().withName(p.getKey()).withNamespace(NS).addToLabels(selector)
                    .endMetadata().withNewSpec().withNodeName("node-a").addNewContainer().withName("zeebe").withImage("zeebe:test")
                    .addNewPort().withContainerPort(26500).endPort().endContainer().endSpec().build()).createOr(x -> x.update()), p.getValue());
        }
        istiod = Istiod.start(cluster.kubeconfig());
    }

    @AfterAll
    static void stop() {
        if (istiod != null) {
            istiod.close();
        }
        // what istiod created (no garbage collector here deletes it with the Gateway), and our fixtures
        k8s.apps().deployments().inNamespace(NS).withName("waypoint").delete();
        k8s.services().inNamespace(NS).withName("waypoint").delete();
        k8s.serviceAccounts().inNamespace(NS).withName("waypoint").delete();
        k8s.pods().inNamespace(NS).withLabel("app.kubernetes.io/component", "zeebe-gateway").delete();
        k8s.pods().inNamespace(NS).withName("waypoint-7d9f-abcde").delete();
        k8s.discovery().v1().endpointSlices().inNamespace(NS).withLabel("test", "istio-in-the-loop").delete();
    }

    /** What kubelet would report: the pod runs, with this IP. */
    static Pod running(Pod pod, String ip) {
        return k8s.pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName()).subresource("status")
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"status\":{\"phase\":\"Running\",\"podIP\":\"" + ip
                        + "\",\"podIPs\":[{\"ip\":\"" + ip + "\"}],\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}");
    }

    /** What the EndpointSlice controller would write for {@code service}. */
    static void endpoints(String service, int port, Map<String, String> podIps) {
        var b = new EndpointSliceBuilder().withNewMetadata().withName(service + "-test").withNamespace(NS)
                .addToLabels("kubernetes.io/service-name", service).addToLabels("test", "istio-in-the-loop").endMetadata()
                .withAddressType("IPv4").addNewPort().withName(port == 15008 ? "mesh" : "grpc").withPort(port).withProtocol("TCP").endPort();
        podIps.forEach((pod, ip) -> b.addNewEndpoint().withAddresses(ip).withNewConditions().withReady(true).endConditions()
                .withNewTargetRef().withKind("Pod").withNamespace(NS).withName(pod).endTargetRef().endEndpoint());
        k8s.resource(b.build()).serverSideApply();
    }

    static GenericKubernetesResource gateway() {
        return k8s.genericKubernetesResources(GW, "Gateway").inNamespace(NS).withName("waypoint").get();
    }

    @SuppressWarnings("unchecked")
    static Optional<Map<String, Object>> condition(Map<String, Object> status, String type) {
        if (status == null) {
            return Optional.empty();
        }
        return ((List<Map<String, Object>>) status.getOrDefault("conditions", List.of())).stream()
                .filter(c -> type.equals(c.get("type"))).findFirst();
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> status(GenericKubernetesResource r) {
        return r == null ? null : (Map<String, Object>) r.getAdditionalProperties().get("status");
    }

    static boolean isTrue(Optional<Map<String, Object>> c) {
        return c.map(x -> "True".equals(x.get("status"))).orElse(false);
    }

    void awaitLeader() {
        Eventually.await(leadership::isLeader, 30, "leadership");
    }

    /** The waypoint's pod, as istiod's Deployment would have started it (istiod finds a proxy by its pod's IP). */
    void waypointRunning() {
        Eventually.await(() -> k8s.apps().deployments().inNamespace(NS).withName("waypoint").get() != null, 60,
                "istiod creates the waypoint Deployment");
        if (k8s.pods().inNamespace(NS).withName("waypoint-7d9f-abcde").get() == null) {
            Deployment d = k8s.apps().deployments().inNamespace(NS).withName("waypoint").get();
            running(k8s.resource(new PodBuilder().withNewMetadata().withName("waypoint-7d9f-abcde").withNamespace(NS)
                    .withLabels(d.getSpec().getTemplate().getMetadata().getLabels()).endMetadata()
                    .withSpec(d.getSpec().getTemplate().getSpec()).editSpec().withNodeName("node-a").endSpec().build()).create(), WAYPOINT_IP);
        }
        endpoints("waypoint", 15008, Map.of("waypoint-7d9f-abcde", WAYPOINT_IP));
        endpoints("camunda-zeebe-gateway-grpc", 26500, GATEWAY_PODS);
    }

    @Test
    @Order(1)
    void istiodAcceptsTheWaypointAndShapesItsDeploymentByOurDefaults() {
        awaitLeader();
        Eventually.await(() -> isTrue(condition(status(gateway()), "Accepted")), 60, "istiod accepts the waypoint Gateway");
        Map<String, Object> accepted = condition(status(gateway()), "Accepted").orElseThrow();
        assertEquals("Accepted", accepted.get("reason"), accepted.toString());

        waypointRunning();
        Deployment d = k8s.apps().deployments().inNamespace(NS).withName("waypoint").get();
        var podSpec = d.getSpec().getTemplate().getSpec();
        assertEquals(Map.of("cloud.google.com/gke-nodepool", "pool-c4-standard-32"), podSpec.getNodeSelector(),
                "nodeSelector from our defaults ConfigMap");
        var proxy = podSpec.getContainers().stream().filter(c -> c.getName().equals("istio-proxy")).findFirst().orElseThrow();
        assertEquals("100m", proxy.getResources().getRequests().get("cpu").toString());
        assertEquals("128Mi", proxy.getResources().getRequests().get("memory").toString());
        assertEquals("2Gi", proxy.getResources().getLimits().get("memory").toString());
        assertEquals("32", proxy.getResources().getLimits().get("cpu").toString());
        assertEquals("waypoint", d.getMetadata().getOwnerReferences().get(0).getName(), "istiod owns it through the Gateway");

        // Programmed once the waypoint Service has an endpoint; the seed's "Troubleshooting" checks
        Eventually.await(() -> isTrue(condition(status(gateway()), "Programmed")), 60, "istiod programs the waypoint");
        var svc = k8s.services().inNamespace(NS).withName("camunda-zeebe-gateway-grpc").get();
        assertEquals("waypoint", svc.getMetadata().getLabels().get("istio.io/use-waypoint"), "Service labelled for the waypoint");
        Eventually.await(() -> k8s.services().inNamespace(NS).withName("camunda-zeebe-gateway-grpc").get().getStatus().getConditions()
                .stream().anyMatch(c -> "istio.io/WaypointBound".equals(c.getType()) && "True".equals(c.getStatus())), 60,
                "istiod binds the gRPC Service to the waypoint (WaypointBound=True)");
        var dr = k8s.genericKubernetesResources("networking.istio.io/v1", "DestinationRule").inNamespace(NS)
                .withName("camunda-zeebe-gateway-grpc").get();
        assertEquals(GRPC_HOST, ((Map<?, ?>) dr.getAdditionalProperties().get("spec")).get("host"), "DestinationRule host");

        // what istiod set, as the enforcer reports it
        Eventually.await(() -> Endpoints.management().get("/status").jsonPath().getBoolean("bootstrap.gateways[0].programmed"), 30,
                "/status shows the Gateway programmed");
        List<String> addresses = Endpoints.management().get("/status").jsonPath().getList("bootstrap.gateways[0].addresses");
        assertTrue(addresses.contains("waypoint." + NS + ".svc.cluster.local"), addresses.toString());
        String health = Endpoints.management().get("/q/health/group/bootstrap").jsonPath().getString("checks[0].data.'Gateway camunda/waypoint'");
        assertNotNull(health);
        assertTrue(health.startsWith("programmed by istiod: "), health);
    }

    @Test
    @Order(2)
    void theWaypointBalancesTheGrpcServicePerRequestAsHttp2() throws Exception {
        awaitLeader();
        waypointRunning();
        Eventually.await(() -> cluster(waypointCds(), WAYPOINT_CLUSTER).isPresent(), 60, "istiod sends the waypoint our Service's cluster");
        JsonNode c = cluster(waypointCds(), WAYPOINT_CLUSTER).orElseThrow();
        assertEquals("LEAST_REQUEST", c.path("lb_policy").asText(), c.toString());
        assertTrue(http2(c), "HTTP/2 to the gateways: " + c);
        // LEAST_REQUEST is also Istio's default: the DestinationRule is proven applied by istiod's own reference to it
        assertEquals("/apis/networking.istio.io/v1/namespaces/camunda/destination-rule/camunda-zeebe-gateway-grpc",
                c.at("/metadata/filter_metadata/istio/config").asText(), c.toString());
        JsonNode eds = istiod.xds("waypoint", WAYPOINT_IP, "waypoint-7d9f-abcde", NS, "eds", WAYPOINT_CLUSTER);
        List<String> endpoints = eds.findValues("socket_address").stream()
                .map(a -> a.path("address").asText() + ":" + a.path("port_value").asInt()).sorted().toList();
        assertEquals(GATEWAY_PODS.values().stream().map(ip -> ip + ":26500").sorted().toList(), endpoints,
                "the waypoint balances over the gateway pods: " + eds);
    }

    @Test
    @Order(3)
    void ztunnelSeesTheServiceBehindTheWaypointAndTheLabelledClientAsHbone() throws Exception {
        awaitLeader();
        waypointRunning();
        KubeTestCluster.get().registerWebhook("zeebe-ambient-enforcer", Endpoints.MUTATE_URL, "Ignore");
        String off = "istio-apps-off";
        KubeTestCluster.get().namespace(off, Map.of()); // did not opt in
        Eventually.await(() -> "ambient".equals(k8s.pods().inNamespace(APPS).resource(Pods.pod("probe", true).build()).dryRun()
                .create().getMetadata().getLabels().get("istio.io/dataplane-mode")), 60, "the API server calls the webhook");
        Pod labelled = running(k8s.pods().inNamespace(APPS).resource(Pods.pod("worker", true).build()).create(), "10.244.7.30");
        Pod unlabelled = running(k8s.pods().inNamespace(off).resource(Pods.pod("worker", true).build()).create(), "10.244.7.31");
        assertEquals("ambient", labelled.getMetadata().getLabels().get("istio.io/dataplane-mode"), "the webhook labelled it");
        assertNull(unlabelled.getMetadata().getLabels() == null ? null : unlabelled.getMetadata().getLabels().get("istio.io/dataplane-mode"));

        // istio-cni's own decision (its enablement selectors), then istiod's view for ztunnel
        assertTrue(istiod.cniCapture(APPS, "worker"), "istio-cni captures the labelled pod");
        assertFalse(istiod.cniCapture(off, "worker"), "istio-cni leaves the same pod without the label alone");
        Eventually.await(() -> "HBONE".equals(workload(APPS, "worker").path("tunnelProtocol").asText()), 30,
                "istiod tells ztunnel the labelled client speaks HBONE");
        Eventually.await(() -> !workload(off, "worker").isMissingNode(), 30, "the unlabelled pod is a workload too");
        assertFalse("HBONE".equals(workload(off, "worker").path("tunnelProtocol").asText()), workload(off, "worker").toString());

        JsonNode svc = StreamSupport.stream(istiod.debug("ambientz").path("services").spliterator(), false)
                .filter(s -> "camunda-zeebe-gateway-grpc".equals(s.path("name").asText()) && NS.equals(s.path("namespace").asText()))
                .findFirst().orElseThrow();
        assertEquals("waypoint." + NS + ".svc.cluster.local", svc.at("/waypoint/hostname/hostname").asText(), svc.toString());
        k8s.pods().inNamespace(off).withName("worker").delete();
        k8s.pods().inNamespace(APPS).withName("worker").delete();
    }

    @Test
    @Order(4)
    void istioctlAnalyzeFindsNothingWrongWithOurObjectsAndFlagsABrokenVariant() throws Exception {
        awaitLeader();
        waypointRunning();
        Eventually.await(() -> isTrue(condition(status(gateway()), "Programmed")), 60, "programmed");
        for (String ns : List.of(NS, "istio-system")) {
            Istiod.Result r = istiod.istioctl("analyze", "--use-kube", "--failure-threshold", "Warning", "-n", ns);
            assertEquals(0, r.exit(), r.output());
            List<String> findings = r.output().lines().filter(l -> l.startsWith("Error") || l.startsWith("Warning")).toList();
            assertTrue(findings.isEmpty(), "istioctl analyze -n " + ns + ":\n" + r.output());
        }
        // the same gRPC Service pointing at a waypoint that does not exist (a typo in enforcer.bootstrap.waypoint-name)
        String broken = "camunda-zeebe-gateway-grpc-broken";
        java.util.concurrent.atomic.AtomicReference<String> last = new java.util.concurrent.atomic.AtomicReference<>();
        k8s.resource(new ServiceBuilder().withNewMetadata().withName(broken).withNamespace(NS)
                .addToLabels("istio.io/use-waypoint", "waypiont").endMetadata().withNewSpec()
                .addToSelector("app.kubernetes.io/component", "zeebe-gateway").addNewPort().withName("grpc").withPort(26500)
                .withAppProtocol("kubernetes.io/h2c").endPort().endSpec().build()).serverSideApply();
        try {
            Eventually.await(() -> {
                try {
                    Istiod.Result r = istiod.istioctl("analyze", "--use-kube", "--failure-threshold", "Warning", "-n", NS);
                    last.set(r.output());
                    return r.exit() != 0 && r.output().contains("Warning [IST0171] (Service " + NS + "/" + broken + ")");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, 60, "istioctl analyze flags a Service bound to a missing waypoint");
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("istioctl analyze:\n" + last.get() + "\nService status: "
                    + k8s.services().inNamespace(NS).withName(broken).get().getStatus(), e);
        } finally {
            k8s.services().inNamespace(NS).withName(broken).delete();
        }
    }

    @Test
    @Order(5)
    void withoutAppProtocolTheWaypointNoLongerSpeaksHttp2ToTheGateways() throws Exception {
        awaitLeader();
        waypointRunning();
        Eventually.await(() -> cluster(waypointCds(), WAYPOINT_CLUSTER).isPresent(), 60, "http2 cluster first");
        leadership.end(); // the enforcer would repair the drift at once
        try {
            // the chart's way: no appProtocol, a port name that says nothing about the protocol
            k8s.services().inNamespace(NS).withName("camunda-zeebe-gateway-grpc").patch(PatchContext.of(PatchType.JSON),
                    "[{\"op\":\"remove\",\"path\":\"/spec/ports/0/appProtocol\"},{\"op\":\"replace\",\"path\":\"/spec/ports/0/name\",\"value\":\"gateway\"}]");
            Eventually.await(() -> cluster(waypointCds(), "inbound-vip|26500|tcp|" + GRPC_HOST).isPresent(), 60,
                    "a plain TCP cluster without appProtocol");
            JsonNode http = cluster(waypointCds(), WAYPOINT_CLUSTER).orElseThrow();
            assertFalse(http2(http), "no explicit HTTP/2 any more (the protocol is sniffed per connection): " + http);
        } finally {
            leadership.begin();
        }
        // a hand edit of fields the enforcer applies is a conflict it reports, not a fight it starts
        Eventually.await(() -> "conflict".equals(Endpoints.management().get("/status").jsonPath().getString("bootstrap.phase")), 30,
                "the enforcer reports the conflicting edit");
        // deleting the edited Service lets the enforcer write it again; istiod follows
        k8s.services().inNamespace(NS).withName("camunda-zeebe-gateway-grpc").delete();
        Eventually.await(() -> cluster(waypointCds(), WAYPOINT_CLUSTER).map(IstioInTheLoopTest::http2).orElse(false)
                && cluster(waypointCds(), "inbound-vip|26500|tcp|" + GRPC_HOST).isEmpty(), 60, "recreated: HTTP/2 again");
    }

    @Test
    @Order(6)
    void cleanupRemovesWhatTheEnforcerCreatedAlthoughIstiodWritesOnIt() {
        awaitLeader();
        waypointRunning();
        // a Service only the enforcer and istiod (its status) wrote to: earlier tests edited ours as an admin
        k8s.services().inNamespace(NS).withName("camunda-zeebe-gateway-grpc").delete();
        Eventually.await(() -> k8s.services().inNamespace(NS).withName("camunda-zeebe-gateway-grpc").get() != null, 30, "recreated");
        Eventually.await(() -> isTrue(condition(status(gateway()), "Programmed")), 60, "programmed");
        Eventually.await(() -> k8s.services().inNamespace(NS).withName("camunda-zeebe-gateway-grpc").get().getStatus().getConditions()
                .stream().anyMatch(c -> "istio.io/WaypointBound".equals(c.getType())), 60, "istiod wrote the Service's status");
        var managers = gateway().getMetadata().getManagedFields().stream().map(f -> f.getManager()).collect(Collectors.toSet());
        assertTrue(managers.size() > 1, "istiod co-owns the Gateway (its status): " + managers);
        leadership.end(); // README: scale the enforcer down first
        try {
            Map<String, String> results = new Cleanup(app, config).run().stream()
                    .collect(Collectors.toMap(Cleanup.Outcome::ref, o -> o.result().tag()));
            assertEquals(Map.of("Gateway camunda/waypoint", "deleted", "Service camunda/camunda-zeebe-gateway-grpc", "deleted",
                    "DestinationRule camunda/camunda-zeebe-gateway-grpc", "deleted",
                    "ConfigMap istio-system/zeebe-ambient-enforcer-waypoint-defaults", "deleted"), results);
            assertNull(gateway(), "the waypoint Gateway is gone");
        } finally {
            leadership.begin();
        }
        Eventually.await(() -> gateway() != null, 30, "the running enforcer puts it back");
    }

    List<JsonNode> waypointCds() {
        try {
            JsonNode cds = istiod.xds("waypoint", WAYPOINT_IP, "waypoint-7d9f-abcde", NS, "cds", null).path("cds");
            List<JsonNode> out = new ArrayList<>();
            cds.forEach(out::add);
            return out;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static Optional<JsonNode> cluster(List<JsonNode> cds, String name) {
        return cds.stream().filter(c -> name.equals(c.path("name").asText())).findFirst();
    }

    static boolean http2(JsonNode cluster) {
        return cluster.at("/typed_extension_protocol_options/envoy.extensions.upstreams.http.v3.HttpProtocolOptions/explicit_http_config")
                .has("http2_protocol_options");
    }

    static JsonNode workload(String ns, String name) {
        try {
            return StreamSupport.stream(istiod.debug("ambientz").path("workloads").spliterator(), false)
                    .filter(w -> name.equals(w.path("name").asText()) && ns.equals(w.path("namespace").asText()))
                    .findFirst().orElse(com.fasterxml.jackson.databind.node.MissingNode.getInstance());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
