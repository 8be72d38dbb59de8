package dev.zeebeambient.enforcer.testsupport;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;

import java.util.List;
import java.util.Map;

/** Minimal CRDs for the kinds the chart can render beyond Kubernetes' and Istio's (cert-manager, Prometheus Operator). */
public final class StubCrds {
    public static void install(KubernetesClient admin) {
        for (String[] c : List.of(new String[] {"cert-manager.io", "Certificate", "certificates"},
                new String[] {"cert-manager.io", "Issuer", "issuers"},
                new String[] {"monitoring.coreos.com", "ServiceMonitor", "servicemonitors"},
                new String[] {"monitoring.coreos.com", "PodMonitor", "podmonitors"},
                new String[] {"monitoring.coreos.com", "PrometheusRule", "prometheusrules"})) {
            String name = c[2] + "." + c[0];
            Map<String, Object> schema = Map.of("type", "object", "x-kubernetes-preserve-unknown-fields", true);
            GenericKubernetesResource crd = new io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder()
                    .withApiVersion("apiextensions.k8s.io/v1").withKind("CustomResourceDefinition")
                    .withNewMetadata().withName(name).endMetadata()
                    .addToAdditionalProperties("spec", Map.of("group", c[0], "scope", "Namespaced",
                            "names", Map.of("kind", c[1], "plural", c[2], "singular", c[1].toLowerCase(java.util.Locale.ROOT)),
                            "versions", List.of(Map.of("name", "v1", "served", true, "storage", true,
                                    "schema", Map.of("openAPIV3Schema", schema)))))
                    .build();
            admin.resource(crd).fieldManager("helm-chart-test").forceConflicts().serverSideApply();
            admin.apiextensions().v1().customResourceDefinitions().withName(name).waitUntilCondition(x -> x != null
                    && x.getStatus() != null && x.getStatus().getConditions() != null && x.getStatus().getConditions().stream()
                            .anyMatch(k -> "Established".equals(k.getType()) && "True".equals(k.getStatus())),
                    60, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    private StubCrds() {
    }
}

