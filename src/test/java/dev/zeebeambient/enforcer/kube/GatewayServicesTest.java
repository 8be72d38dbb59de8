package dev.zeebeambient.enforcer.kube;

import dev.zeebeambient.enforcer.detection.Target;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Which Services' clients bypass the waypoint, for the Service shapes the Camunda charts render. */
class GatewayServicesTest {

    static final Target TARGET = Target.parse("camunda/camunda-zeebe-gateway-grpc:26500");
    static final Set<String> SERVERS = Set.of("zeebe-gateway", "zeebe-broker", "orchestration");

    static Service service(String name, Map<String, String> selector, Object... namesAndPorts) {
        ServiceBuilder b = new ServiceBuilder().withNewMetadata().withName(name).withNamespace("camunda").endMetadata()
                .withNewSpec().withSelector(selector).endSpec();
        for (int i = 0; i < namesAndPorts.length; i += 2) {
            b.editSpec().addNewPort().withName((String) namesAndPorts[i]).withPort((Integer) namesAndPorts[i + 1]).endPort().endSpec();
        }
        return b.build();
    }

    static Map<String, String> chartSelector(String component) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("app", "camunda-platform");
        m.put("app.kubernetes.io/name", "camunda-platform");
        m.put("app.kubernetes.io/instance", "camunda");
        m.put("app.kubernetes.io/part-of", "camunda-platform");
        m.put("app.kubernetes.io/component", component);
        return m;
    }

    @Test
    void chart83to87GatewayServiceOnItsGatewayPort() {
        List<Service> cluster = List.of(
                service("camunda-zeebe-gateway", chartSelector("zeebe-gateway"), "http", 9600, "gateway", 26500, "rest", 8080),
                service("camunda-zeebe-gateway-grpc", chartSelector("zeebe-gateway"), "grpc", 26500),
                service("camunda-zeebe", chartSelector("zeebe-broker"), "http", 9600, "internal", 26502, "command", 26501),
                service("camunda-elasticsearch", Map.of("app.kubernetes.io/component", "master"), "http", 9200));
        assertEquals(List.of(Target.parse("camunda/camunda-zeebe-gateway:26500")),
                GatewayServices.derive(cluster, List.of(TARGET), Map.of(TARGET, chartSelector("zeebe-gateway")), SERVERS));
    }

    /** 8.8+: the gateway runs in the broker StatefulSet; the chart Service selects component zeebe-broker. */
    @Test
    void chart88GatewayServiceSelectsBrokerPods() {
        List<Service> cluster = List.of(
                service("camunda-zeebe-gateway", chartSelector("zeebe-broker"), "server", 9600, "http", 8080, "grpc", 26500),
                service("camunda-zeebe", chartSelector("zeebe-broker"), "server", 9600, "internal", 26502, "command", 26501));
        assertEquals(List.of(Target.parse("camunda/camunda-zeebe-gateway:26500")),
                GatewayServices.derive(cluster, List.of(TARGET), Map.of(), SERVERS), "the headless Service has no gRPC port");
    }

    /** fullnameOverride: camunda renders camunda-gateway and a headless camunda; no component label needed when the selector matches the target's. */
    @Test
    void servicesSelectingTheTargetsPodsCountWhateverTheirName() {
        Map<String, String> podLabels = Map.of("app", "zeebe", "release", "camunda");
        List<Service> cluster = List.of(service("camunda-gateway", Map.of("app", "zeebe"), "grpc", 26500),
                service("unrelated", Map.of("app", "web"), "grpc", 26500));
        assertEquals(List.of(Target.parse("camunda/camunda-gateway:26500")),
                GatewayServices.derive(cluster, List.of(TARGET), Map.of(TARGET, podLabels), SERVERS));
    }

    /** The gateway pods directly: their headless Service's pod DNS names, on the gateway port of the pods. */
    @Test
    void headlessBrokerServiceMakesSinglePodAddressesKnown() {
        Service headless = service("camunda-zeebe", chartSelector("zeebe-broker"), "server", 9600, "internal", 26502);
        headless.getSpec().setClusterIP("None");
        List<Service> cluster = List.of(headless, service("camunda-zeebe-gateway", chartSelector("zeebe-broker"), "grpc", 26500));
        assertEquals(List.of(Target.parse("camunda/camunda-zeebe:26500")),
                GatewayServices.derivePodsOf(cluster, List.of(TARGET), Map.of(), SERVERS));
        var decider = new dev.zeebeambient.enforcer.decision.EnrollmentDecider(dev.zeebeambient.enforcer.testsupport.TestConfig.rules());
        for (String address : List.of("camunda-zeebe-0.camunda-zeebe.camunda.svc.cluster.local:26500", "camunda-zeebe-1.camunda-zeebe.camunda:26500")) {
            var d = decider.decide(new dev.zeebeambient.enforcer.decision.PodContext(dev.zeebeambient.enforcer.testsupport.Pods.pod("w", false)
                    .editSpec().editFirstContainer().addNewEnv().withName("ZEEBE_ADDRESS").withValue(address).endEnv().endContainer()
                    .endSpec().build(), "apps", Map.of("zeebe-ambient-enforcer.io/enabled", "true"), Map.of(),
                    dev.zeebeambient.enforcer.detection.ResolvedSources.NONE, List.of(),
                    GatewayServices.derivePodsOf(cluster, List.of(TARGET), Map.of(), SERVERS)));
            assertEquals(dev.zeebeambient.enforcer.decision.Reason.BYPASSES_WAYPOINT, d.reason(), address + ": " + d.detail());
        }
        var other = decider.decide(new dev.zeebeambient.enforcer.decision.PodContext(dev.zeebeambient.enforcer.testsupport.Pods.pod("w", false)
                .editSpec().editFirstContainer().addNewEnv().withName("ZEEBE_ADDRESS").withValue("camunda-zeebe-0.camunda-zeebe.camunda:26502")
                .endEnv().endContainer().endSpec().build(), "apps", Map.of("zeebe-ambient-enforcer.io/enabled", "true"), Map.of(),
                dev.zeebeambient.enforcer.detection.ResolvedSources.NONE, List.of(), List.of(Target.parse("camunda/camunda-zeebe:26500"))));
        assertEquals(dev.zeebeambient.enforcer.decision.Reason.NOT_A_CLIENT, other.reason(), "the broker's internal port is not the gateway");
    }
}
