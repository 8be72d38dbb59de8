package dev.zeebeambient.enforcer.bootstrap;

import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.detection.Target;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What must exist before anything is applied: the Gateway API and Istio CRDs (at the versions
 * we write), the {@code istio-waypoint} GatewayClass (istiod creates it) and the namespaces.
 * Each missing item comes with the command that installs it (as the hand-applied setup's Makefile does it).
 */
public final class Preconditions {

    static final String GATEWAY_API_INSTALL = "kubectl apply --server-side -f "
            + "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.4.0/standard-install.yaml";
    static final String ISTIO_INSTALL = "istioctl install --set profile=ambient";

    /** Presence of each checked item, and a message per missing one (serialised in /status). */
    @io.quarkus.runtime.annotations.RegisterForReflection
    public record Result(Map<String, Boolean> crds, Map<String, Boolean> gatewayClasses, Map<String, Boolean> namespaces,
            List<String> missing) {
        public boolean ok() {
            return missing.isEmpty();
        }
    }

    private Preconditions() {
    }

    public static Result check(KubernetesClient client, EnforcerConfig config) {
        List<String> missing = new ArrayList<>();
        Map<String, Boolean> crds = new LinkedHashMap<>();
        crd(client, crds, missing, "gateways.gateway.networking.k8s.io", "v1",
                "Gateway API CRDs are not installed: " + GATEWAY_API_INSTALL);
        crd(client, crds, missing, "destinationrules.networking.istio.io", "v1",
                "Istio CRDs (networking.istio.io/v1, Istio 1.22+) are not installed: " + ISTIO_INSTALL);

        Map<String, Boolean> classes = new LinkedHashMap<>();
        if (crds.get("gateways.gateway.networking.k8s.io")) {
            boolean present = client.genericKubernetesResources("gateway.networking.k8s.io/v1", "GatewayClass")
                    .withName(DesiredState.WAYPOINT_CLASS).get() != null;
            classes.put(DesiredState.WAYPOINT_CLASS, present);
            if (!present) {
                missing.add("GatewayClass istio-waypoint is missing (istiod creates it in ambient mode): " + ISTIO_INSTALL);
            }
        } else {
            classes.put(DesiredState.WAYPOINT_CLASS, false);
        }

        Set<String> wanted = new LinkedHashSet<>();
        config.targets().stream().map(Target::namespace).forEach(wanted::add);
        if (config.bootstrap().waypointDefaults().enabled()) {
            wanted.add(config.bootstrap().istioNamespace());
        }
        Map<String, Boolean> namespaces = new LinkedHashMap<>();
        for (String ns : wanted) {
            boolean present = client.namespaces().withName(ns).get() != null;
            namespaces.put(ns, present);
            if (!present) {
                missing.add("namespace " + ns + " does not exist (install Camunda/Istio there, or fix enforcer.targets / "
                        + "enforcer.bootstrap.istio-namespace)");
            }
        }
        return new Result(crds, classes, namespaces, missing);
    }

    private static void crd(KubernetesClient client, Map<String, Boolean> crds, List<String> missing, String name,
            String version, String message) {
        CustomResourceDefinition crd = client.apiextensions().v1().customResourceDefinitions().withName(name).get();
        boolean served = crd != null && crd.getSpec().getVersions().stream()
                .anyMatch(v -> version.equals(v.getName()) && Boolean.TRUE.equals(v.getServed()))
                && crd.getStatus() != null && crd.getStatus().getConditions() != null
                && crd.getStatus().getConditions().stream()
                        .anyMatch(c -> "Established".equals(c.getType()) && "True".equals(c.getStatus()));
        crds.put(name, served);
        if (!served) {
            missing.add(message);
        }
    }
}
