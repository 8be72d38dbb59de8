package dev.zeebeambient.enforcer.bootstrap;

import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.detection.Target;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the cluster must hold for each target, as data (the hand-applied istio-grpc-load-balancer manifests, with their
 * weaknesses fixed): the waypoint Gateway, the gateway gRPC Service bound to it, the
 * DestinationRule in the Service's namespace with the FQDN host, and one waypoint defaults
 * ConfigMap. Pure: selectors are resolved by the caller. istiod creates the waypoint's own
 * Deployment and Service; they are never listed here.
 */
public final class DesiredState {

    public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
    static final String USE_WAYPOINT = "istio.io/use-waypoint";
    static final String WAYPOINT_FOR = "istio.io/waypoint-for";
    static final String DEFAULTS_FOR_CLASS = "gateway.istio.io/defaults-for-class";
    static final String WAYPOINT_CLASS = "istio-waypoint";

    private DesiredState() {
    }

    public static List<GenericKubernetesResource> build(EnforcerConfig config, Map<Target, Map<String, String>> selectors) {
        EnforcerConfig.Bootstrap b = config.bootstrap();
        List<GenericKubernetesResource> out = new ArrayList<>();
        List<String> waypointNamespaces = new ArrayList<>();
        for (Target t : config.targets()) {
            if (!waypointNamespaces.contains(t.namespace())) {
                waypointNamespaces.add(t.namespace());
                out.add(waypoint(b, t.namespace()));
            }
            Map<String, String> selector = selectors.get(t);
            if (selector != null && !selector.isEmpty()) {
                out.add(grpcService(b, t, selector));
            }
            out.add(destinationRule(b, t, config.clusterDomain()));
        }
        if (b.waypointDefaults().enabled()) {
            out.add(waypointDefaults(b));
        }
        return out;
    }

    static GenericKubernetesResource waypoint(EnforcerConfig.Bootstrap b, String namespace) {
        return resource("gateway.networking.k8s.io/v1", "Gateway", namespace, b.waypointName(), b.fieldManager(),
                Map.of(WAYPOINT_FOR, "service"),
                Map.of("gatewayClassName", WAYPOINT_CLASS,
                        "listeners", List.of(Map.of("name", "mesh", "port", 15008, "protocol", "HBONE",
                                "allowedRoutes", Map.of("namespaces", Map.of("from", "Same"))))));
    }

    static GenericKubernetesResource grpcService(EnforcerConfig.Bootstrap b, Target t, Map<String, String> selector) {
        // istio.io/dataplane-mode is not set here: Istio reads it only on Pods and Namespaces.
        return resource("v1", "Service", t.namespace(), t.name(), b.fieldManager(),
                Map.of(USE_WAYPOINT, b.waypointName()),
                Map.of("selector", new LinkedHashMap<>(selector),
                        "ports", List.of(Map.of("name", "grpc", "port", t.port(), "targetPort", t.port(),
                                "protocol", "TCP", "appProtocol", "kubernetes.io/h2c"))));
    }

    static GenericKubernetesResource destinationRule(EnforcerConfig.Bootstrap b, Target t, String clusterDomain) {
        // FQDN host: a short host would be expanded with the rule's namespace, not the Service's.
        return resource("networking.istio.io/v1", "DestinationRule", t.namespace(), t.name(), b.fieldManager(), Map.of(),
                Map.of("host", t.name() + "." + t.namespace() + ".svc." + clusterDomain,
                        "trafficPolicy", Map.of("loadBalancer", Map.of("simple", "LEAST_REQUEST"))));
    }

    static GenericKubernetesResource waypointDefaults(EnforcerConfig.Bootstrap b) {
        EnforcerConfig.WaypointDefaults d = b.waypointDefaults();
        Map<String, Object> resources = new LinkedHashMap<>();
        resources.put("requests", Map.of("cpu", d.cpuRequest(), "memory", d.memoryRequest()));
        Map<String, String> limits = new LinkedHashMap<>();
        d.cpuLimit().ifPresent(c -> limits.put("cpu", c));
        limits.put("memory", d.memoryLimit());
        resources.put("limits", limits);
        Map<String, Object> podSpec = new LinkedHashMap<>();
        if (!d.nodeSelector().isEmpty()) {
            podSpec.put("nodeSelector", new LinkedHashMap<>(d.nodeSelector()));
        }
        podSpec.put("containers", List.of(Map.of("name", "istio-proxy", "resources", resources)));
        String deployment = Yaml.write(Map.of("spec", Map.of("template", Map.of("spec", podSpec))));
        GenericKubernetesResource cm = resource("v1", "ConfigMap", b.istioNamespace(), d.name(), b.fieldManager(),
                Map.of(DEFAULTS_FOR_CLASS, WAYPOINT_CLASS), null);
        // "deployment" is one of the keys istiod accepts (any other key is an error)
        cm.setAdditionalProperty("data", Map.of("deployment", deployment));
        return cm;
    }

    private static GenericKubernetesResource resource(String apiVersion, String kind, String namespace, String name,
            String manager, Map<String, String> labels, Map<String, Object> spec) {
        Map<String, String> allLabels = new LinkedHashMap<>(labels);
        allLabels.put(MANAGED_BY, manager);
        GenericKubernetesResource r = new GenericKubernetesResource();
        r.setApiVersion(apiVersion);
        r.setKind(kind);
        r.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).withLabels(allLabels).build());
        if (spec != null) {
            r.setAdditionalProperty("spec", spec);
        }
        return r;
    }

    /**
     * With {@code bind-chart-service}: only the fields that put the chart's existing Service behind
     * the waypoint, for a server-side apply that shares the object with Helm. No managed-by label
     * (Helm owns the object; ours are only these fields): the waypoint binding, and
     * {@code appProtocol: kubernetes.io/h2c} on the gRPC port when Istio would not already treat it as
     * gRPC/HTTP2 (8.3–8.7 name it {@code gateway}, which Istio sees as TCP; 8.8+ {@code grpc} is fine).
     */
    static GenericKubernetesResource chartBinding(EnforcerConfig.Bootstrap b, Service live, int grpcPort) {
        GenericKubernetesResource r = new GenericKubernetesResource();
        r.setApiVersion("v1");
        r.setKind("Service");
        r.setMetadata(new ObjectMetaBuilder().withNamespace(live.getMetadata().getNamespace()).withName(live.getMetadata().getName())
                .withLabels(Map.of(USE_WAYPOINT, b.waypointName())).build());
        for (ServicePort p : live.getSpec().getPorts() == null ? List.<ServicePort>of() : live.getSpec().getPorts()) {
            if (p.getPort() != null && p.getPort() == grpcPort && !recognisedAsHttp2(p)) {
                r.setAdditionalProperty("spec", Map.of("ports", List.of(Map.of("port", grpcPort,
                        "protocol", p.getProtocol() == null ? "TCP" : p.getProtocol(), "appProtocol", "kubernetes.io/h2c"))));
            }
        }
        return r;
    }

    /**
     * Istio's protocol selection: appProtocol first, else the port name's prefix (pkg/config/kube/conversion.go).
     * Our own {@code kubernetes.io/h2c} does not count: applied again each pass (a field we stop
     * applying would be removed by server-side apply).
     */
    static boolean recognisedAsHttp2(ServicePort p) {
        if (p.getAppProtocol() != null && !p.getAppProtocol().isEmpty() && !p.getAppProtocol().equals("kubernetes.io/h2c")) {
            return true; // someone chose another one: never overwritten
        }
        String name = p.getName() == null ? "" : p.getName().toLowerCase(java.util.Locale.ROOT);
        return name.equals("grpc") || name.startsWith("grpc-") || name.equals("http2") || name.startsWith("http2-");
    }

    /** {@code Kind namespace/name}, how objects are named in logs and status. */
    public static String ref(GenericKubernetesResource r) {
        return r.getKind() + " " + r.getMetadata().getNamespace() + "/" + r.getMetadata().getName();
    }
}
