package dev.zeebeambient.enforcer.bootstrap;

import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.detection.Target;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The desired state is data: checked here for configurations other than the defaults. */
class DesiredStateTest {

    static EnforcerConfig config(Map<String, String> props) {
        SmallRyeConfig c = new SmallRyeConfigBuilder().withMapping(EnforcerConfig.class)
                .withConverter(java.time.Duration.class, 200, new io.quarkus.runtime.configuration.DurationConverter())
                .withDefaultValues(props).build();
        return c.getConfigMapping(EnforcerConfig.class);
    }

    static List<String> refs(List<GenericKubernetesResource> rs) {
        return rs.stream().map(DesiredState::ref).toList();
    }

    @Test
    void defaultsReproduceTheSeedWithoutItsNodePool() {
        EnforcerConfig c = config(Map.of());
        Target t = c.targets().get(0);
        var rs = DesiredState.build(c, Map.of(t, Map.of("app", "gw")));
        assertEquals(List.of("Gateway camunda/waypoint", "Service camunda/camunda-zeebe-gateway-grpc",
                "DestinationRule camunda/camunda-zeebe-gateway-grpc",
                "ConfigMap istio-system/zeebe-ambient-enforcer-waypoint-defaults"), refs(rs));
        String deployment = ((Map<String, String>) rs.get(3).getAdditionalProperties().get("data")).get("deployment");
        assertTrue(!deployment.contains("nodeSelector") && !deployment.contains("cpu: \"32\""), deployment);
    }

    @Test
    void severalTargetsCustomDomainNodeSelectorAndLimits() {
        EnforcerConfig c = config(Map.of(
                "enforcer.targets", "camunda/camunda-zeebe-gateway-grpc:26500,camunda/second-gateway:26600,prod/zeebe-gw:26500",
                "enforcer.cluster-domain", "corp.example",
                "enforcer.bootstrap.waypoint-defaults.node-selector.\"cloud.google.com/gke-nodepool\"", "pool-c4-standard-32",
                "enforcer.bootstrap.waypoint-defaults.cpu-limit", "32",
                "enforcer.bootstrap.waypoint-name", "zeebe-waypoint"));
        Map<Target, Map<String, String>> selectors = Map.of(c.targets().get(0), Map.of("a", "b"), c.targets().get(2), Map.of("c", "d"));
        var rs = DesiredState.build(c, selectors);
        assertEquals(List.of("Gateway camunda/zeebe-waypoint", "Service camunda/camunda-zeebe-gateway-grpc",
                "DestinationRule camunda/camunda-zeebe-gateway-grpc",
                // no selector known for the second target: its Service is not written, its DestinationRule is
                "DestinationRule camunda/second-gateway",
                "Gateway prod/zeebe-waypoint", "Service prod/zeebe-gw", "DestinationRule prod/zeebe-gw",
                "ConfigMap istio-system/zeebe-ambient-enforcer-waypoint-defaults"), refs(rs));
        Map<String, Object> drSpec = (Map<String, Object>) rs.get(6).getAdditionalProperties().get("spec");
        assertEquals("zeebe-gw.prod.svc.corp.example", drSpec.get("host"));
        Map<String, Object> svcSpec = (Map<String, Object>) rs.get(5).getAdditionalProperties().get("spec");
        assertEquals(List.of(Map.of("name", "grpc", "port", 26500, "targetPort", 26500, "protocol", "TCP",
                "appProtocol", "kubernetes.io/h2c")), svcSpec.get("ports"));
        assertEquals("zeebe-waypoint", rs.get(5).getMetadata().getLabels().get("istio.io/use-waypoint"));
        String deployment = ((Map<String, String>) rs.get(7).getAdditionalProperties().get("data")).get("deployment");
        assertEquals("""
                spec:
                  template:
                    spec:
                      containers:
                      - name: istio-proxy
                        resources:
                          limits:
                            cpu: "32"
                            memory: 2Gi
                          requests:
                            cpu: 100m
                            memory: 128Mi
                      nodeSelector:
                        cloud.google.com/gke-nodepool: pool-c4-standard-32
                """, deployment);
    }

    @Test
    void waypointDefaultsCanBeLeftToTheOperator() {
        EnforcerConfig c = config(Map.of("enforcer.bootstrap.waypoint-defaults.enabled", "false"));
        assertTrue(refs(DesiredState.build(c, Map.of())).stream().noneMatch(r -> r.startsWith("ConfigMap")));
    }

    @Test
    void badTargetFailsConfigurationWithItsName() {
        var e = assertThrows(RuntimeException.class, () -> config(Map.of("enforcer.targets", "camunda-zeebe-gateway-grpc")).targets());
        String all = e.toString() + (e.getCause() == null ? "" : e.getCause().toString());
        assertTrue(all.contains("invalid target 'camunda-zeebe-gateway-grpc'"), all);
    }

    /** bind-chart-service: h2c only where Istio would not see gRPC/HTTP2 already; never over someone else's appProtocol. */
    @org.junit.jupiter.api.Test
    void chartBindingAddsAppProtocolOnlyWhereNeeded() {
        var cfg = dev.zeebeambient.enforcer.testsupport.TestConfig.defaults().bootstrap();
        java.util.function.Function<io.fabric8.kubernetes.api.model.ServicePort, io.fabric8.kubernetes.api.model.Service> svc = p ->
                new io.fabric8.kubernetes.api.model.ServiceBuilder().withNewMetadata().withName("camunda-zeebe-gateway")
                        .withNamespace("camunda").endMetadata().withNewSpec().addToPorts(p).endSpec().build();
        var chart87 = DesiredState.chartBinding(cfg, svc.apply(new io.fabric8.kubernetes.api.model.ServicePortBuilder()
                .withName("gateway").withPort(26500).build()), 26500);
        org.junit.jupiter.api.Assertions.assertEquals(java.util.Map.of("istio.io/use-waypoint", "waypoint"), chart87.getMetadata().getLabels());
        org.junit.jupiter.api.Assertions.assertEquals(java.util.Map.of("ports", java.util.List.of(java.util.Map.of("port", 26500,
                "protocol", "TCP", "appProtocol", "kubernetes.io/h2c"))), chart87.getAdditionalProperties().get("spec"));
        var chart88 = DesiredState.chartBinding(cfg, svc.apply(new io.fabric8.kubernetes.api.model.ServicePortBuilder()
                .withName("grpc").withPort(26500).build()), 26500);
        org.junit.jupiter.api.Assertions.assertNull(chart88.getAdditionalProperties().get("spec"), "8.8+: `grpc` is gRPC to Istio");
        var theirs = DesiredState.chartBinding(cfg, svc.apply(new io.fabric8.kubernetes.api.model.ServicePortBuilder()
                .withName("gateway").withPort(26500).withAppProtocol("grpc").build()), 26500);
        org.junit.jupiter.api.Assertions.assertNull(theirs.getAdditionalProperties().get("spec"), "someone else's appProtocol is kept");
        var ours = DesiredState.chartBinding(cfg, svc.apply(new io.fabric8.kubernetes.api.model.ServicePortBuilder()
                .withName("gateway").withPort(26500).withAppProtocol("kubernetes.io/h2c").build()), 26500);
        org.junit.jupiter.api.Assertions.assertNotNull(ours.getAdditionalProperties().get("spec"), "ours is applied again, not dropped");
    }
}
