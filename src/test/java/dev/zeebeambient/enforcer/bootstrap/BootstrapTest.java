package dev.zeebeambient.enforcer.bootstrap;

import dev.zeebeambient.enforcer.testsupport.Endpoints;
import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.leader.Leadership;
import dev.zeebeambient.enforcer.testsupport.KubeApiServerResource;
import dev.zeebeambient.enforcer.testsupport.Eventually;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import java.time.Duration;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bootstrapper against the real API server with the real Gateway API and Istio CRDs. */
@QuarkusTest
@WithTestResource(KubeApiServerResource.class)
@TestProfile(BootstrapTest.Enabled.class)
class BootstrapTest {

    public static class Enabled implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            // passes are driven by the tests; the periodic one would only repeat them
            return Map.of("enforcer.bootstrap.enabled", "true", "enforcer.bootstrap.resync-period", "1h");
        }
    }

    static final String DR = "networking.istio.io/v1";
    static final String GW = "gateway.networking.k8s.io/v1";
    static KubernetesClient k8s;

    @Inject
    Bootstrapper bootstrapper;
    @Inject
    EnforcerConfig config;
    @Inject
    Leadership leadership;
    /** The application's own client: the shipped ServiceAccount (k8s is the fixtures' admin). */
    @Inject
    KubernetesClient app;
    @Inject
    dev.zeebeambient.enforcer.kube.Watches watches;

    @BeforeAll
    static void cluster() throws Exception {
        KubeTestCluster c = KubeTestCluster.get();
        k8s = c.client();
        c.installCrds();
        c.waypointGatewayClass();
        c.namespace("camunda", Map.of());
        c.namespace("istio-system", Map.of());
        // the Helm chart's gateway Service: the gRPC Service copies its selector
        k8s.resource(new ServiceBuilder().withNewMetadata().withName("camunda-zeebe-gateway").withNamespace("camunda").endMetadata()
                .withNewSpec().addToSelector(Map.of("app.kubernetes.io/component", "zeebe-gateway", "app.kubernetes.io/instance", "camunda"))
                .addNewPort().withName("grpc").withPort(26500).endPort().endSpec().build()).serverSideApply();
    }

    /** Every test starts from a cluster without our objects (and with the CRDs), whatever ran before it. */
    @BeforeEach
    void cleanSlate() throws Exception {
        KubeTestCluster.get().installCrds();
        for (String[] o : List.of(new String[] {DR, "DestinationRule", "camunda", "camunda-zeebe-gateway-grpc"},
                new String[] {GW, "Gateway", "camunda", "waypoint"}, new String[] {GW, "Gateway", "camunda", "their-waypoint"},
                new String[] {"v1", "Service", "camunda", "camunda-zeebe-gateway-grpc"},
                new String[] {"v1", "ConfigMap", "istio-system", "zeebe-ambient-enforcer-waypoint-defaults"})) {
            k8s.genericKubernetesResources(o[0], o[1]).inNamespace(o[2]).withName(o[3]).delete();
        }
        k8s.discovery().v1().endpointSlices().inNamespace("camunda").withName("camunda-zeebe-gateway-grpc-abc").delete();
    }

    BootstrapStatus pass() {
        awaitLeader();
        return bootstrapper.passOnce();
    }

    void awaitLeader() {
        Eventually.await(leadership::isLeader, 30, "the only replica becomes leader");
    }

    static GenericKubernetesResource get(String apiVersion, String kind, String ns, String name) {
        return k8s.genericKubernetesResources(apiVersion, kind).inNamespace(ns).withName(name).get();
    }

    static Map<String, String> resourceVersions() {
        return List.of(get(GW, "Gateway", "camunda", "waypoint"), get("v1", "Service", "camunda", "camunda-zeebe-gateway-grpc"),
                get(DR, "DestinationRule", "camunda", "camunda-zeebe-gateway-grpc"),
                get("v1", "ConfigMap", "istio-system", "zeebe-ambient-enforcer-waypoint-defaults")).stream()
                .collect(Collectors.toMap(r -> r.getKind(), r -> r.getMetadata().getResourceVersion()));
    }


    @Test
    @SuppressWarnings("unchecked")
    void emptyClusterGetsAllObjectsValidAgainstTheRealSchemas() {
        BootstrapStatus s = pass();
        assertEquals("converged", s.phase().tag(), s.error());
        assertEquals(4, s.resources().size());
        s.resources().forEach(r -> assertTrue(r.exists() && Boolean.TRUE.equals(r.inSync()), r.toString()));

        GenericKubernetesResource gw = get(GW, "Gateway", "camunda", "waypoint");
        assertEquals("service", gw.getMetadata().getLabels().get("istio.io/waypoint-for"));
        assertEquals("zeebe-ambient-enforcer", gw.getMetadata().getLabels().get("app.kubernetes.io/managed-by"));
        Map<String, Object> spec = (Map<String, Object>) gw.getAdditionalProperties().get("spec");
        assertEquals("istio-waypoint", spec.get("gatewayClassName"));
        assertEquals(List.of(Map.of("name", "mesh", "port", 15008, "protocol", "HBONE",
                "allowedRoutes", Map.of("namespaces", Map.of("from", "Same")))), spec.get("listeners"));

        var svc = k8s.services().inNamespace("camunda").withName("camunda-zeebe-gateway-grpc").get();
        assertEquals("waypoint", svc.getMetadata().getLabels().get("istio.io/use-waypoint"));
        assertFalse(svc.getMetadata().getLabels().containsKey("istio.io/dataplane-mode"), "no effect on a Service");
        assertEquals(Map.of("app.kubernetes.io/component", "zeebe-gateway", "app.kubernetes.io/instance", "camunda"),
                svc.getSpec().getSelector());
        assertEquals("grpc", svc.getSpec().getPorts().get(0).getName());
        assertEquals(26500, svc.getSpec().getPorts().get(0).getPort());
        assertEquals(26500, svc.getSpec().getPorts().get(0).getTargetPort().getIntVal());
        assertEquals("kubernetes.io/h2c", svc.getSpec().getPorts().get(0).getAppProtocol());
        assertTrue(s.selectors().get(0).source().contains("camunda/camunda-zeebe-gateway"), s.selectors().toString());

        GenericKubernetesResource dr = get(DR, "DestinationRule", "camunda", "camunda-zeebe-gateway-grpc");
        Map<String, Object> drSpec = (Map<String, Object>) dr.getAdditionalProperties().get("spec");
        assertEquals("camunda-zeebe-gateway-grpc.camunda.svc.cluster.local", drSpec.get("host"));
        assertEquals(Map.of("loadBalancer", Map.of("simple", "LEAST_REQUEST")), drSpec.get("trafficPolicy"));

        var cm = k8s.configMaps().inNamespace("istio-system").withName("zeebe-ambient-enforcer-waypoint-defaults").get();
        assertEquals("istio-waypoint", cm.getMetadata().getLabels().get("gateway.istio.io/defaults-for-class"));
        assertEquals(List.of("deployment"), List.copyOf(cm.getData().keySet()), "only keys istiod allows");
        assertEquals("""
                spec:
                  template:
                    spec:
                      containers:
                      - name: istio-proxy
                        resources:
                          limits:
                            memory: 2Gi
                          requests:
                            cpu: 100m
                            memory: 128Mi
                """, cm.getData().get("deployment"));
        // istiod's own objects are never created
        assertNull(k8s.apps().deployments().inNamespace("camunda").withName("waypoint").get());
        assertNull(k8s.services().inNamespace("camunda").withName("waypoint").get());
    }

    @Test
    void convergedStateCostsZeroWrites() {
        // After a Gateway is created, the first re-apply writes once: the API server persists the
        // CRD's defaulted status (the watch may make that re-apply itself). From then on an apply is a no-op.
        Eventually.await(() -> !pass().wrote(), 10, "a pass that writes nothing");
        Map<String, String> before = resourceVersions();
        Eventually.stays(() -> before.equals(resourceVersions()), Duration.ofSeconds(2), "nothing rewrites a converged object");
        BootstrapStatus again = pass();
        assertFalse(again.wrote());
        again.resources().forEach(r -> assertEquals("unchanged", r.result().tag(), r.ref()));
        assertEquals(before, resourceVersions());
    }

    @Test
    void deletedOrStrippedObjectsAreRestored() {
        assertEquals("converged", pass().phase().tag());
        bootstrapper.stop(); // no watch: only the pass itself may repair (the watch has its own test)
        BootstrapStatus s;
        try {
            k8s.genericKubernetesResources(DR, "DestinationRule").inNamespace("camunda").withName("camunda-zeebe-gateway-grpc").delete();
            // someone removes the waypoint binding from the Service
            k8s.services().inNamespace("camunda").withName("camunda-zeebe-gateway-grpc").edit(svc -> {
                svc.getMetadata().getLabels().remove("istio.io/use-waypoint");
                return svc;
            });
            assertNull(get(DR, "DestinationRule", "camunda", "camunda-zeebe-gateway-grpc"));
            s = pass();
        } finally {
            bootstrapper.start();
        }
        assertEquals("converged", s.phase().tag(), s.error());
        assertTrue(s.wrote(), "the pass restored them");
        assertNotNull(get(DR, "DestinationRule", "camunda", "camunda-zeebe-gateway-grpc"));
        assertEquals("waypoint", k8s.services().inNamespace("camunda").withName("camunda-zeebe-gateway-grpc").get()
                .getMetadata().getLabels().get("istio.io/use-waypoint"));
    }

    @Test
    void aDeletedObjectIsRestoredByTheWatchWithoutWaitingForTheResync() {
        assertEquals("converged", pass().phase().tag());
        String uid = get(DR, "DestinationRule", "camunda", "camunda-zeebe-gateway-grpc").getMetadata().getUid();
        k8s.genericKubernetesResources(DR, "DestinationRule").inNamespace("camunda").withName("camunda-zeebe-gateway-grpc").delete();
        // the resync period is 1 h in this profile: only the watch can bring it back (a new object: a new uid)
        Eventually.await(() -> {
            GenericKubernetesResource r = get(DR, "DestinationRule", "camunda", "camunda-zeebe-gateway-grpc");
            return r != null && !r.getMetadata().getUid().equals(uid);
        }, 20, "restored by the watch");
        GenericKubernetesResource back = get(DR, "DestinationRule", "camunda", "camunda-zeebe-gateway-grpc");
        assertEquals("zeebe-ambient-enforcer", back.getMetadata().getLabels().get("app.kubernetes.io/managed-by"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void foreignManagerOwningAFieldIsReportedNotForced() {
        GenericKubernetesResource theirs = new GenericKubernetesResourceBuilder().withApiVersion(DR).withKind("DestinationRule")
                .withNewMetadata().withName("camunda-zeebe-gateway-grpc").withNamespace("camunda").endMetadata()
                .addToAdditionalProperties("spec", Map.of("host", "camunda-zeebe-gateway-grpc.camunda.svc.cluster.local",
                        "trafficPolicy", Map.of("loadBalancer", Map.of("simple", "ROUND_ROBIN"))))
                .build();
        k8s.resource(theirs).fieldManager("platform-team").forceConflicts().serverSideApply();

        BootstrapStatus s = pass();
        assertEquals("conflict", s.phase().tag());
        var dr = s.resources().stream().filter(r -> r.ref().startsWith("DestinationRule")).findFirst().orElseThrow();
        assertEquals("conflict", dr.result().tag());
        assertTrue(dr.message().contains("field .spec.trafficPolicy.loadBalancer.simple: conflict with \"platform-team\""),
                dr.message());
        assertTrue(dr.message().contains("enforcer.bootstrap.force-conflicts=true"), dr.message());
        Map<String, Object> spec = (Map<String, Object>) get(DR, "DestinationRule", "camunda", "camunda-zeebe-gateway-grpc")
                .getAdditionalProperties().get("spec");
        assertEquals("ROUND_ROBIN", ((Map<String, Map<String, Object>>) spec.get("trafficPolicy")).get("loadBalancer").get("simple"),
                "nothing forced");
        Endpoints.management().get("/q/health/group/bootstrap").then().statusCode(503)
                .body("checks[0].data.phase", equalTo("conflict"));

        // forcing is explicit: the same apply with force takes the field back
        ApplyOutcome forced = new Applier(app, config.bootstrap().fieldManager(), true)
                .apply(DesiredState.destinationRule(config.bootstrap(), config.targets().get(0), config.clusterDomain()));
        assertEquals("updated", forced.result().tag());
        assertEquals("converged", pass().phase().tag());
    }

    @Test
    void gatewayProgrammedAndServiceEndpointsAreReported() {
        assertEquals("converged", pass().phase().tag());
        k8s.genericKubernetesResources(GW, "Gateway").inNamespace("camunda").withName("waypoint").subresource("status")
                .patch(PatchContext.of(PatchType.JSON_MERGE), """
                        {"status":{"addresses":[{"type":"IPAddress","value":"10.0.0.42"}],
                          "conditions":[{"type":"Programmed","status":"True","reason":"Programmed","message":"ok",
                            "observedGeneration":1,"lastTransitionTime":"2026-11-26T10:00:00Z"},
                           {"type":"Accepted","status":"True","reason":"Accepted","message":"ok",
                            "observedGeneration":1,"lastTransitionTime":"2026-11-26T10:00:00Z"}]}}""");
        k8s.resource(new EndpointSliceBuilder().withNewMetadata().withName("camunda-zeebe-gateway-grpc-abc").withNamespace("camunda")
                .addToLabels("kubernetes.io/service-name", "camunda-zeebe-gateway-grpc").endMetadata()
                .withAddressType("IPv4")
                .addNewEndpoint().withAddresses("10.1.0.1").withNewConditions().withReady(true).endConditions().endEndpoint()
                .addNewEndpoint().withAddresses("10.1.0.2").withNewConditions().withReady(true).endConditions().endEndpoint()
                .addNewEndpoint().withAddresses("10.1.0.3").withNewConditions().withReady(false).endConditions().endEndpoint()
                .addNewPort().withName("grpc").withPort(26500).endPort().build()).create();

        BootstrapStatus s = pass();
        assertEquals("converged", s.phase().tag(), s.error());
        assertTrue(s.gateways().get(0).programmed());
        assertEquals(List.of("10.0.0.42"), s.gateways().get(0).addresses());
        assertEquals(2, s.services().get(0).readyEndpoints());

        Endpoints.management().get("/status").then().statusCode(200)
                .body("leader.isLeader", equalTo(true))
                .body("leader.identity", notNullValue())
                .body("bootstrap.phase", equalTo("converged"))
                .body("bootstrap.preconditions.crds.'gateways.gateway.networking.k8s.io'", equalTo(true))
                .body("bootstrap.preconditions.gatewayClasses.istio-waypoint", equalTo(true))
                .body("bootstrap.gateways[0].programmed", equalTo(true))
                .body("bootstrap.gateways[0].addresses", hasItem("10.0.0.42"))
                .body("bootstrap.services[0].readyEndpoints", equalTo(2))
                .body("bootstrap.resources.result", hasItem("unchanged"));
        Endpoints.management().get("/q/health/group/bootstrap").then().statusCode(200);
        Endpoints.management().get("/q/health/ready").then().statusCode(200);
    }

    @Test
    void twoInstancesOnlyTheLeaderWrites() {
        awaitLeader();
        Leadership other = new Leadership(app, config, null);
        other.begin();
        Bootstrapper otherBootstrapper = new Bootstrapper(app, config, other, watches);
        try {
            // the contender tries for a while; the app renews its Lease
            Eventually.stays(() -> leadership.isLeader() ^ other.isLeader(), Duration.ofMillis(1500), "exactly one leader");
            assertTrue(leadership.isLeader() ^ other.isLeader(), "exactly one leader");
            // each replica's own bootstrapper decides from its own Leadership whether it may write
            Bootstrapper follower = leadership.isLeader() ? otherBootstrapper : bootstrapper;
            Bootstrapper leader = leadership.isLeader() ? bootstrapper : otherBootstrapper;
            // resync is 1 h and the watch may restore it at any time: stop the app's watch from racing us
            bootstrapper.stop();
            k8s.genericKubernetesResources(DR, "DestinationRule").inNamespace("camunda").withName("camunda-zeebe-gateway-grpc").delete();
            awaitGone(DR, "DestinationRule", "camunda", "camunda-zeebe-gateway-grpc");
            BootstrapStatus observed = follower.passOnce();
            assertEquals("observing", observed.phase().tag());
            assertFalse(observed.wrote(), "the follower writes nothing");
            observed.resources().forEach(r -> assertEquals("not-leader", r.result().tag(), r.ref()));
            assertNull(get(DR, "DestinationRule", "camunda", "camunda-zeebe-gateway-grpc"), "not restored by the follower");
            BootstrapStatus led = leader.passOnce();
            assertEquals("converged", led.phase().tag());
            assertTrue(led.wrote(), "the leader restores it");
            assertNotNull(get(DR, "DestinationRule", "camunda", "camunda-zeebe-gateway-grpc"));
        } finally {
            otherBootstrapper.stop();
            other.end();
            bootstrapper.start();
        }
    }

    static void awaitGone(String apiVersion, String kind, String ns, String name) {
        Eventually.await(() -> get(apiVersion, kind, ns, name) == null, 10, kind + " " + ns + "/" + name + " deleted");
    }

    @Test
    void missingCrdGivesAClearStatusThenConverges() throws Exception {
        k8s.apiextensions().v1().customResourceDefinitions().withName("destinationrules.networking.istio.io").delete();
        k8s.apiextensions().v1().customResourceDefinitions().withName("destinationrules.networking.istio.io")
                .waitUntilCondition(c -> c == null, 60, TimeUnit.SECONDS);
        BootstrapStatus s = pass();
        assertEquals("waiting-for-preconditions", s.phase().tag());
        assertFalse(s.preconditions().crds().get("destinationrules.networking.istio.io"));
        assertTrue(s.error().contains("Istio CRDs") && s.error().contains("istioctl install --set profile=ambient"), s.error());
        Endpoints.management().get("/q/health/group/bootstrap").then().statusCode(503)
                .body("checks[0].data.message", org.hamcrest.Matchers.containsString("istioctl install"));
        // the webhook is unaffected
        Endpoints.management().get("/q/health/ready").then().statusCode(200);

        KubeTestCluster.get().reinstallCrds();
        BootstrapStatus after = pass();
        assertEquals("converged", after.phase().tag(), after.error());
        assertNotNull(get(DR, "DestinationRule", "camunda", "camunda-zeebe-gateway-grpc"));
    }

    @Test
    void cleanupRemovesOnlyOurs() {
        assertEquals("converged", pass().phase().tag());
        leadership.end(); // the running enforcer must not repair what cleanup removes (README: scale it down first)
        try {
            cleanupSteps();
        } finally {
            leadership.begin();
        }
    }

    void cleanupSteps() {
        // a foreign waypoint next to ours, and another manager that only labels our Service
        k8s.resource(new GenericKubernetesResourceBuilder().withApiVersion(GW).withKind("Gateway")
                .withNewMetadata().withName("their-waypoint").withNamespace("camunda").endMetadata()
                .addToAdditionalProperties("spec", Map.of("gatewayClassName", "istio-waypoint", "listeners",
                        List.of(Map.of("name", "mesh", "port", 15008, "protocol", "HBONE")))).build())
                .fieldManager("platform-team").serverSideApply();
        k8s.resource(new ServiceBuilder().withNewMetadata().withName("camunda-zeebe-gateway-grpc").withNamespace("camunda")
                .addToLabels("team", "platform").endMetadata().build()).fieldManager("platform-team").serverSideApply();

        Map<String, String> results = cleanup();
        assertEquals(Map.of("Gateway camunda/waypoint", "deleted",
                "Service camunda/camunda-zeebe-gateway-grpc", "kept",
                "DestinationRule camunda/camunda-zeebe-gateway-grpc", "deleted",
                "ConfigMap istio-system/zeebe-ambient-enforcer-waypoint-defaults", "deleted"), results);
        assertNotNull(get(GW, "Gateway", "camunda", "their-waypoint"), "foreign object kept");
        assertNotNull(k8s.services().inNamespace("camunda").withName("camunda-zeebe-gateway").get(), "chart Service untouched");

        // a Service the other manager really co-owns (the seed's hand-applied one): only our fields go
        assertEquals("converged", new Convergence(app, config).pass(true).phase().tag());
        k8s.resource(new ServiceBuilder().withNewMetadata().withName("camunda-zeebe-gateway-grpc").withNamespace("camunda")
                .addToLabels("team", "platform").endMetadata().withNewSpec()
                .addToSelector(Map.of("app.kubernetes.io/component", "zeebe-gateway", "app.kubernetes.io/instance", "camunda"))
                .addNewPort().withName("grpc").withPort(26500).withProtocol("TCP").withNewTargetPort(26500).endPort().endSpec().build())
                .fieldManager("platform-team").serverSideApply();
        assertEquals("released", cleanup().get("Service camunda/camunda-zeebe-gateway-grpc"));
        var svc = k8s.services().inNamespace("camunda").withName("camunda-zeebe-gateway-grpc").get();
        assertEquals("platform", svc.getMetadata().getLabels().get("team"));
        assertFalse(svc.getMetadata().getLabels().containsKey("istio.io/use-waypoint"), "our fields released");
        assertFalse(svc.getMetadata().getLabels().containsKey("app.kubernetes.io/managed-by"));
        // a second cleanup finds nothing of ours
        new Cleanup(app, config).run().forEach(o -> assertTrue(o.result() == Cleanup.Result.ABSENT || o.result() == Cleanup.Result.KEPT, o.toString()));
    }

    Map<String, String> cleanup() {
        return new Cleanup(app, config).run().stream().collect(Collectors.toMap(Cleanup.Outcome::ref, o -> o.result().tag()));
    }
}
