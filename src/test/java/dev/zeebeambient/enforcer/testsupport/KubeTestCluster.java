package dev.zeebeambient.enforcer.testsupport;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfigurationBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * One real kube-apiserver + etcd per test JVM (start-up costs seconds), from the binaries that
 * src/test/kube/build-binaries.sh built (Maven runs it before the tests). Also: an admin client,
 * a kubeconfig file for kubectl, and helpers for CRDs, namespaces and webhook registration.
 */
public final class KubeTestCluster {

    private static KubeTestCluster instance;

    private final KubernetesClient client;
    private final String kubeconfigYaml;
    private final Path kubeconfig;
    private final Path kubectl;
    private final Path crdDir;
    private boolean crdsInstalled;

    private KubeTestCluster(String info) throws IOException {
        String[] parts = info.split("\\|");
        kubeconfig = Paths.get(parts[0]);
        kubectl = Paths.get(parts[1]);
        crdDir = Paths.get(parts[2]);
        kubeconfigYaml = Files.readString(kubeconfig);
        client = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(kubeconfigYaml)).build();
    }

    /** The JVM's one API server (started by the system class loader's {@link ApiServerProcess}). */
    public static synchronized KubeTestCluster get() {
        if (instance == null) {
            try {
                String info = System.getProperty(ApiServerProcess.PROPERTY);
                if (info == null) {
                    Class<?> holder;
                    try {
                        holder = ClassLoader.getSystemClassLoader().loadClass(ApiServerProcess.class.getName());
                    } catch (ClassNotFoundException notOnTheClassPath) {
                        holder = ApiServerProcess.class; // e.g. `mvn exec:java` (run-local, benchmarks): one class loader anyway
                    }
                    info = (String) holder.getMethod("start").invoke(null);
                }
                instance = new KubeTestCluster(info);
            } catch (Exception e) {
                throw new IllegalStateException("cannot start the test API server", e);
            }
        }
        return instance;
    }

    public KubernetesClient client() {
        return client;
    }

    public Config config() {
        return Config.fromKubeconfig(kubeconfigYaml);
    }

    public Path kubeconfig() {
        return kubeconfig;
    }

    public Path kubectl() {
        return kubectl;
    }

    /** Gateway API (standard) and Istio CRDs, as extracted from their Go modules; waits until served. */
    public synchronized void installCrds() throws IOException {
        if (!crdsInstalled) {
            reinstallCrds();
        }
    }

    /** Applies the CRDs again (after a test deleted one) and waits until they are served. */
    public synchronized void reinstallCrds() throws IOException {
        try (Stream<Path> files = Files.list(crdDir)) {
            for (Path f : files.filter(x -> x.toString().endsWith(".yaml")).sorted().toList()) {
                try (InputStream in = Files.newInputStream(f)) {
                    for (HasMetadata crd : client.load(in).items()) {
                        client.resource(crd).forceConflicts().fieldManager("enforcer-tests").serverSideApply();
                    }
                }
            }
        }
        for (String crd : List.of("gateways.gateway.networking.k8s.io", "gatewayclasses.gateway.networking.k8s.io",
                "destinationrules.networking.istio.io")) {
            client.apiextensions().v1().customResourceDefinitions().withName(crd)
                    .waitUntilCondition(c -> c != null && c.getStatus() != null && c.getStatus().getConditions() != null
                            && c.getStatus().getConditions().stream().anyMatch(
                                    x -> "Established".equals(x.getType()) && "True".equals(x.getStatus())),
                            60, java.util.concurrent.TimeUnit.SECONDS);
        }
        crdsInstalled = true;
    }

    /** The GatewayClass istiod would install for ambient waypoints (there is no istiod here). */
    public void waypointGatewayClass() {
        client.resource(new io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder()
                .withApiVersion("gateway.networking.k8s.io/v1").withKind("GatewayClass")
                .withNewMetadata().withName("istio-waypoint").endMetadata()
                .addToAdditionalProperties("spec", Map.of("controllerName", "istio.io/mesh-controller",
                        "description", "The default Istio waypoint GatewayClass"))
                .build()).forceConflicts().fieldManager("enforcer-tests").serverSideApply();
    }

    public void namespace(String name, Map<String, String> labels) {
        client.resource(new NamespaceBuilder().withNewMetadata().withName(name).withLabels(labels).endMetadata().build())
                .serverSideApply();
    }

    /** A MutatingWebhookConfiguration calling {@code url} the way webhook-config/ does. */
    public MutatingWebhookConfiguration registerWebhook(String name, String url, String failurePolicy) {
        MutatingWebhookConfiguration mwc = new MutatingWebhookConfigurationBuilder()
                .withNewMetadata().withName(name).endMetadata()
                .addNewWebhook()
                .withName("pods.zeebe-ambient-enforcer.io")
                .withAdmissionReviewVersions("v1")
                .withSideEffects("None")
                .withFailurePolicy(failurePolicy)
                .withTimeoutSeconds(5)
                .withNewClientConfig().withUrl(url).withCaBundle(TestPki.get().caBundle()).endClientConfig()
                .addNewRule().withApiGroups("").withApiVersions("v1").withOperations("CREATE")
                .withResources("pods").withScope("Namespaced").endRule()
                .withNewNamespaceSelector()
                .addToMatchLabels("zeebe-ambient-enforcer.io/enabled", "true")
                .addNewMatchExpression().withKey("kubernetes.io/metadata.name").withOperator("NotIn")
                .withValues("kube-system", "kube-public", "kube-node-lease", "istio-system", "zeebe-ambient-enforcer")
                .endMatchExpression()
                .endNamespaceSelector()
                .withNewObjectSelector()
                .addNewMatchExpression().withKey("istio.io/dataplane-mode").withOperator("DoesNotExist").endMatchExpression()
                .endObjectSelector()
                .endWebhook()
                .build();
        return client.resource(mwc).forceConflicts().fieldManager("enforcer-tests").serverSideApply();
    }
}
