package dev.zeebeambient.enforcer.bootstrap;

import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.decision.Decision;
import dev.zeebeambient.enforcer.decision.EnrollmentDecider;
import dev.zeebeambient.enforcer.decision.PodContext;
import dev.zeebeambient.enforcer.decision.Reason;
import dev.zeebeambient.enforcer.decision.Rules;
import dev.zeebeambient.enforcer.detection.ResolvedSources;
import dev.zeebeambient.enforcer.leader.Leadership;
import dev.zeebeambient.enforcer.testsupport.Eventually;
import dev.zeebeambient.enforcer.testsupport.KubeApiServerResource;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import dev.zeebeambient.enforcer.testsupport.Pods;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13 §2: {@code bind-chart-service} puts the chart's existing gateway Service behind the
 * waypoint with only our fields, next to Helm's; a later client-side apply (as {@code helm upgrade}
 * does) keeps them; cleanup releases only ours. The app runs with the overlay's RBAC.
 */
@QuarkusTest
@WithTestResource(value = KubeApiServerResource.class,
        initArgs = @ResourceArg(name = KubeApiServerResource.IDENTITY, value = "overlays/bind-chart-service"))
@TestProfile(BindChartServiceTest.Bind.class)
class BindChartServiceTest {

    public static class Bind implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("enforcer.bootstrap.enabled", "true", "enforcer.bootstrap.resync-period", "1h",
                    "enforcer.bootstrap.bind-chart-service", "true");
        }
    }

    static final String CHART = "camunda-zeebe-gateway";

    @Inject
    Bootstrapper bootstrapper;
    @Inject
    Leadership leadership;
    @Inject
    EnforcerConfig config;
    @Inject
    KubernetesClient app;

    /** As Helm renders the 8.3–8.7 chart Service (port name `gateway`: TCP to Istio), applied client-side like Helm does. */
    static String chartService(String extraLabel) {
        return """
                apiVersion: v1
                kind: Service
                metadata:
                  name: camunda-zeebe-gateway
                  namespace: camunda
                  labels:
                    app.kubernetes.io/managed-by: Helm
                    app.kubernetes.io/component: zeebe-gateway
                    %s
                spec:
                  selector:
                    app.kubernetes.io/component: zeebe-gateway
                    app.kubernetes.io/instance: camunda
                  ports:
                  - name: http
                    port: 9600
                  - name: gateway
                    port: 26500
                """.formatted(extraLabel);
    }

    static void kubectlApply(String yaml) throws Exception {
        KubeTestCluster c = KubeTestCluster.get();
        Process p = new ProcessBuilder(c.kubectl().toString(), "--kubeconfig", c.kubeconfig().toString(), "apply", "-f", "-")
                .redirectErrorStream(true).start();
        p.getOutputStream().write(yaml.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
    }

    /** The CRDs, the waypoint GatewayClass, the chart's Service as Helm applies it, and this replica leading. */
    void chartInstalledAndLeading() throws Exception {
        KubeTestCluster.get().installCrds();
        KubeTestCluster.get().waypointGatewayClass();
        kubectlApply(chartService("helm.sh/chart: camunda-platform-10.0.0"));
        Eventually.await(leadership::isLeader, 30, "leadership");
    }

    static Service chart() {
        return KubeTestCluster.get().client().services().inNamespace("camunda").withName(CHART).get();
    }

    static ServicePort port(Service s, int port) {
        return s.getSpec().getPorts().stream().filter(p -> p.getPort() == port).findFirst().orElseThrow();
    }

    @AfterAll
    static void removeTheChartService() {
        KubeTestCluster.get().client().services().inNamespace("camunda").withName(CHART).delete();
    }

    @Test
    void chartServiceIsBoundNextToHelmAndReleasedByCleanup() throws Exception {
        KubeTestCluster cluster = KubeTestCluster.get();
        KubernetesClient admin = cluster.client();
        chartInstalledAndLeading();

        BootstrapStatus s = bootstrapper.passOnce();
        assertEquals("converged", s.phase().tag(), s.error());
        Service bound = chart();
        assertEquals("waypoint", bound.getMetadata().getLabels().get("istio.io/use-waypoint"));
        assertEquals("kubernetes.io/h2c", port(bound, 26500).getAppProtocol(), "`gateway` is TCP to Istio: h2c added");
        assertNull(port(bound, 9600).getAppProtocol(), "other ports untouched");
        assertEquals("Helm", bound.getMetadata().getLabels().get("app.kubernetes.io/managed-by"), "Helm's fields stay Helm's");
        GenericKubernetesResource dr = admin.genericKubernetesResources("networking.istio.io/v1", "DestinationRule")
                .inNamespace("camunda").withName(CHART).get();
        assertNotNull(dr, "a DestinationRule for the chart Service's host");
        assertEquals("camunda-zeebe-gateway.camunda.svc.cluster.local", ((Map<?, ?>) dr.getAdditionalProperties().get("spec")).get("host"));

        // helm upgrade: a client-side apply of the chart's manifest keeps our fields
        kubectlApply(chartService("helm.sh/chart: camunda-platform-10.0.1"));
        Service upgraded = chart();
        assertEquals("camunda-platform-10.0.1", upgraded.getMetadata().getLabels().get("helm.sh/chart"));
        assertEquals("waypoint", upgraded.getMetadata().getLabels().get("istio.io/use-waypoint"));
        assertEquals("kubernetes.io/h2c", port(upgraded, 26500).getAppProtocol());
        // (the Gateway may be rewritten once after creation, see BootstrapTest; the chart Service must not be)
        bootstrapper.passOnce();
        assertEquals("unchanged", bootstrapper.passOnce().resources().stream().filter(r -> r.ref().equals("Service camunda/" + CHART))
                .findFirst().orElseThrow().result().tag(), "nothing to repair on the chart Service after the upgrade");

        // clients of the chart Service are clients of a target now
        Decision d = new EnrollmentDecider(Rules.from(config)).decide(new PodContext(Pods.pod("w", false).editSpec()
                .editFirstContainer().addNewEnv().withName("ZEEBE_ADDRESS").withValue("camunda-zeebe-gateway.camunda:26500").endEnv()
                .endContainer().endSpec().build(), "apps", Map.of("zeebe-ambient-enforcer.io/enabled", "true"), Map.of(),
                ResolvedSources.NONE));
        assertEquals(Reason.ZEEBE_CLIENT, d.reason(), d.detail());

        // cleanup: our fields go, the chart's Service stays with Helm's
        leadership.end();
        try {
            Map<String, String> results = new Cleanup(app, config).run().stream()
                    .collect(Collectors.toMap(Cleanup.Outcome::ref, o -> o.result().tag(), (a, b) -> a + "," + b));
            assertEquals("released", results.get("Service camunda/" + CHART), results.toString());
            assertEquals("deleted", results.get("DestinationRule camunda/" + CHART), results.toString());
            Service after = chart();
            assertNotNull(after, "never deleted");
            assertFalse(after.getMetadata().getLabels().containsKey("istio.io/use-waypoint"));
            assertNull(port(after, 26500).getAppProtocol());
            assertEquals("camunda-platform-10.0.1", after.getMetadata().getLabels().get("helm.sh/chart"));
            assertEquals(List.of(9600, 26500), after.getSpec().getPorts().stream().map(ServicePort::getPort).toList());
        } finally {
            leadership.begin();
        }
    }

    static boolean bound() {
        Service s = chart();
        return s != null && "waypoint".equals(s.getMetadata().getLabels().get("istio.io/use-waypoint"));
    }

    static Map<String, Cleanup.Outcome> byRef(List<Cleanup.Outcome> outcomes) {
        return outcomes.stream().collect(Collectors.toMap(Cleanup.Outcome::ref, o -> o, (a, b) -> a));
    }

    /**
     * Our binding on the chart's Service is released on its own: when the feature is turned off (next
     * pass), and by cleanup even without the DestinationRule CRD. Without the component's RBAC it
     * cannot be, and cleanup says so and keeps the waypoint the Service still points at.
     */
    @Test
    void theBindingIsReleasedOnItsOwn() throws Exception {
        KubeTestCluster cluster = KubeTestCluster.get();
        KubernetesClient admin = cluster.client();
        chartInstalledAndLeading();
        String svc = "Service camunda/" + CHART;

        // 1. turned off: the next pass releases the binding and removes the chart host's DestinationRule
        assertEquals("converged", bootstrapper.passOnce().phase().tag());
        assertTrue(bound());
        EnforcerConfig off = dev.zeebeambient.enforcer.testsupport.TestConfig.with(Map.of("enforcer.bootstrap.enabled", "true",
                "enforcer.bootstrap.bind-chart-service", "false"));
        leadership.end(); // this app's own bootstrapper (feature on) would repair at once what the pass with the feature off removes
        try {
            BootstrapStatus s = new Convergence(app, off).pass(true);
            assertFalse(bound(), "released when the feature is off");
            assertNull(port(chart(), 26500).getAppProtocol());
            assertEquals("Helm", chart().getMetadata().getLabels().get("app.kubernetes.io/managed-by"));
            assertNull(admin.genericKubernetesResources("networking.istio.io/v1", "DestinationRule").inNamespace("camunda")
                    .withName(CHART).get(), "the chart host's DestinationRule removed");
            assertTrue(s.resources().stream().anyMatch(r -> r.ref().equals(svc) && r.message().contains("bind-chart-service is off")),
                    String.valueOf(s.resources()));
            assertTrue(new Convergence(app, off).pass(true).resources().stream().noneMatch(r -> r.ref().equals(svc)),
                    "nothing of ours left: nothing more to do");
        } finally {
            leadership.begin();
        }

        // 2. cleanup without the DestinationRule CRD still releases the Service
        Eventually.await(leadership::isLeader, 30, "leadership");
        assertEquals("converged", bootstrapper.passOnce().phase().tag());
        assertTrue(bound());
        admin.apiextensions().v1().customResourceDefinitions().withName("destinationrules.networking.istio.io").delete();
        Eventually.await(() -> admin.apiextensions().v1().customResourceDefinitions().withName("destinationrules.networking.istio.io")
                .get() == null, 30, "CRD gone");
        leadership.end();
        try {
            Map<String, Cleanup.Outcome> r = byRef(new Cleanup(app, config).run());
            assertEquals(Cleanup.Result.RELEASED, r.get(svc).result(), r.toString());
            assertFalse(bound());
        } finally {
            cluster.reinstallCrds();
            leadership.begin();
        }

        // 3. without the component's RBAC: a clear error, and the waypoint it points at is kept
        Eventually.await(leadership::isLeader, 30, "leadership");
        assertEquals("converged", bootstrapper.passOnce().phase().tag());
        assertTrue(bound());
        cluster.installEnforcerIdentity("base");
        leadership.end();
        try {
            Map<String, Cleanup.Outcome> r = byRef(new Cleanup(app, config).run());
            assertEquals(Cleanup.Result.ERROR, r.get(svc).result(), r.toString());
            assertTrue(r.get(svc).detail().contains("HTTP 403") && r.get(svc).detail().contains("kubectl -n camunda label service "
                    + CHART + " istio.io/use-waypoint-"), r.get(svc).detail());
            assertEquals(Cleanup.Result.KEPT, r.get("Gateway camunda/waypoint").result(), r.toString());
            assertNotNull(admin.genericKubernetesResources("gateway.networking.k8s.io/v1", "Gateway").inNamespace("camunda")
                    .withName("waypoint").get(), "the waypoint the chart Service points at stays");
            assertTrue(bound());
        } finally {
            cluster.installEnforcerIdentity("overlays/bind-chart-service");
            leadership.begin();
        }
    }
}
