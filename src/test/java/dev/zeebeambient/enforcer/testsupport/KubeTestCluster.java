package dev.zeebeambient.enforcer.testsupport;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.WebhookClientConfigBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;

import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;

import dev.zeebeambient.enforcer.install.InstallNames;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
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
    private final List<Path> crdDirs;
    private boolean crdsInstalled;

    private KubeTestCluster(String info) throws IOException {
        String[] parts = info.split("\\|");
        kubeconfig = Paths.get(parts[0]);
        kubectl = Paths.get(parts[1]);
        crdDirs = java.util.Arrays.stream(parts[2].split(java.io.File.pathSeparator)).map(Paths::get).toList();
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

    /** Another API server's helpers (a fault test's own: {@link FaultCluster}). */
    public static KubeTestCluster of(Path kubeconfig, Path kubectl, List<Path> crdDirs) throws IOException {
        return new KubeTestCluster(kubeconfig + "|" + kubectl + "|" + crdDirs.stream().map(Path::toString)
                .collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator)));
    }

    public List<Path> crdDirs() {
        return crdDirs;
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

    /** The CRDs of the kinds the bootstrapper writes. */
    public static final List<String> REQUIRED_CRDS = List.of("gateways.gateway.networking.k8s.io", "gatewayclasses.gateway.networking.k8s.io",
            "destinationrules.networking.istio.io");
    private final List<String> skippedCrds = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** CRDs this API server refused (none the product uses), and why. */
    public List<String> skippedCrds() {
        return List.copyOf(skippedCrds);
    }

    /** Gateway API (standard) and Istio CRDs of the Istio build ({@link IstioBuild}); waits until served. */
    public synchronized void installCrds() throws IOException {
        if (!crdsInstalled) {
            reinstallCrds();
        }
    }

    /** Applies the CRDs again (after a test deleted one) and waits until they are served. */
    public synchronized void reinstallCrds() throws IOException {
        for (Path crdDir : crdDirs) {
            try (Stream<Path> files = Files.list(crdDir)) {
                for (Path f : files.filter(x -> x.toString().endsWith(".yaml")).sorted().toList()) {
                    try (InputStream in = Files.newInputStream(f)) {
                        for (HasMetadata crd : client.load(in).items()) {
                            try {
                                client.resource(crd).forceConflicts().fieldManager("enforcer-tests").serverSideApply();
                            } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
                                // an older API server refuses a CRD the product does not use (Gateway API 1.6's TLSRoute
                                // validates with CEL's isIP, which 1.30 lacks): skipped; the three it uses must install
                                if (e.getCode() != 422 || REQUIRED_CRDS.contains(crd.getMetadata().getName())) {
                                    throw e;
                                }
                                String why = String.valueOf(e.getStatus().getMessage());
                                java.util.regex.Matcher m = java.util.regex.Pattern.compile("undeclared reference to '[^']+'").matcher(why);
                                skippedCrds.add(crd.getMetadata().getName() + " (" + (m.find() ? "CEL: " + m.group()
                                        : why.lines().findFirst().orElse("").substring(0, Math.min(120, why.lines().findFirst().orElse("").length()))) + ")");
                            }
                        }
                    }
                }
            }
        }
        for (String crd : REQUIRED_CRDS) {
            client.apiextensions().v1().customResourceDefinitions().withName(crd)
                    .waitUntilCondition(c -> c != null && c.getStatus() != null && c.getStatus().getConditions() != null
                            && c.getStatus().getConditions().stream().anyMatch(
                                    x -> "Established".equals(x.getType()) && "True".equals(x.getStatus())),
                            60, TimeUnit.SECONDS);
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

    /** The Camunda chart's gateway Service camunda/camunda-zeebe-gateway (the bootstrapper copies its selector). */
    public void chartGatewayService() {
        client.resource(new io.fabric8.kubernetes.api.model.ServiceBuilder().withNewMetadata().withName("camunda-zeebe-gateway")
                .withNamespace("camunda").endMetadata().withNewSpec()
                .addToSelector(Map.of("app.kubernetes.io/component", "zeebe-gateway", "app.kubernetes.io/instance", "camunda"))
                .addNewPort().withName("grpc").withPort(26500).endPort().endSpec().build()).serverSideApply();
    }

    /** The ServiceAccount the enforcer ships with, and the user name the API server knows it by. */
    public static final String SA_NAMESPACE = "zeebe-ambient-enforcer";
    public static final String SA_NAME = "zeebe-ambient-enforcer";
    public static final String SA_USER = "system:serviceaccount:" + SA_NAMESPACE + ":" + SA_NAME;
    private static final String PART_OF = "app.kubernetes.io/part-of=zeebe-ambient-enforcer";
    private static final Set<String> IDENTITY_KINDS = Set.of("Namespace", "ServiceAccount", "ClusterRole",
            "ClusterRoleBinding", "Role", "RoleBinding", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding");
    private String installedIdentity;
    private Path serviceAccountKubeconfig;

    /**
     * Installs the enforcer's identity exactly as {@code webhook-config/<kustomization>} ships it
     * (rendered by the real kubectl): its ServiceAccount, Roles, bindings and admission policies.
     * RBAC objects of an earlier install that this one lacks are deleted, so no test runs with an
     * overlay's extra permissions. Returns a kubeconfig that authenticates as the ServiceAccount
     * (a TokenRequest token): what the application under test uses. There is no admin fallback.
     */
    public synchronized Path installEnforcerIdentity(String kustomization) {
        try {
            if (!kustomization.equals(installedIdentity)) {
                for (String ns : List.of("camunda", "istio-system", SA_NAMESPACE)) {
                    namespace(ns, Map.of()); // the Roles of webhook-config/ live there
                }
                List<HasMetadata> identity = new ArrayList<>();
                for (HasMetadata o : render(kustomization)) {
                    // the enroll warning policy is enrollment, not identity: EnrollPolicies installs it with its policy
                    if (IDENTITY_KINDS.contains(o.getKind()) && !o.getMetadata().getName().startsWith(InstallNames.ENROLL_POLICY)) {
                        identity.add(o);
                    }
                }
                identity.sort(Comparator.comparing(o -> o.getKind().equals("Namespace") ? 0 : 1));
                Set<String> keep = new HashSet<>();
                for (HasMetadata o : identity) {
                    if (o.getKind().contains("Role") && (o.getMetadata().getLabels() == null
                            || !"zeebe-ambient-enforcer".equals(o.getMetadata().getLabels().get("app.kubernetes.io/part-of")))) {
                        // unlabelled RBAC could never be pruned: a later test would silently keep its permissions
                        throw new IllegalStateException(o.getKind() + " " + o.getMetadata().getName() + " from webhook-config/"
                                + kustomization + " lacks the label " + PART_OF);
                    }
                    client.resource(o).fieldManager("enforcer-tests").forceConflicts().serverSideApply();
                    keep.add(key(o));
                }
                prune(client.rbac().roles().inAnyNamespace().withLabel(PART_OF).list().getItems(), keep);
                prune(client.rbac().roleBindings().inAnyNamespace().withLabel(PART_OF).list().getItems(), keep);
                prune(client.rbac().clusterRoles().withLabel(PART_OF).list().getItems(), keep);
                prune(client.rbac().clusterRoleBindings().withLabel(PART_OF).list().getItems(), keep);
                installedIdentity = kustomization;
            }
            if (serviceAccountKubeconfig == null) {
                serviceAccountKubeconfig = kubeconfigFor(SA_NAMESPACE, SA_NAME);
            }
            return serviceAccountKubeconfig;
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException("cannot install the enforcer's identity from webhook-config/" + kustomization, e);
        }
    }

    /** Back to exactly {@code webhook-config/base}, pruning what anything else applied since. */
    public synchronized void resetEnforcerIdentity() {
        installedIdentity = null;
        serviceAccountKubeconfig = null; // the ServiceAccount may have been re-created (Helm): a new token
        installEnforcerIdentity("base");
    }

    /**
     * Removes every object of {@code webhook-config/base} (but its Namespace) and the enroll policies, so that another
     * installer (Helm) owns them from scratch; {@link #resetEnforcerIdentity} brings the base back afterwards.
     */
    public synchronized void removeEnforcerIdentity() throws IOException, InterruptedException {
        for (HasMetadata o : render("base")) {
            if (!o.getKind().equals("Namespace")) {
                client.resource(o).withGracePeriod(0).delete();
            }
        }
        installedIdentity = null;
        serviceAccountKubeconfig = null;
    }

    /** A kubeconfig with a new token of the enforcer's ServiceAccount, whoever installed it (Helm). */
    public Path freshServiceAccountKubeconfig() throws IOException {
        return kubeconfigFor(SA_NAMESPACE, SA_NAME);
    }

    private static String key(HasMetadata o) {
        return o.getKind() + "/" + o.getMetadata().getNamespace() + "/" + o.getMetadata().getName();
    }

    private void prune(List<? extends HasMetadata> live, Set<String> keep) {
        for (HasMetadata o : live) {
            if (!keep.contains(key(o))) {
                client.resource(o).delete();
            }
        }
    }

    /** {@code kubectl kustomize webhook-config/<kustomization>}, parsed. */
    public List<HasMetadata> render(String kustomization) throws IOException, InterruptedException {
        return render(Paths.get("webhook-config", kustomization));
    }

    public List<HasMetadata> render(Path kustomizationDir) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(kubectl.toString(), "kustomize", kustomizationDir.toString()).redirectErrorStream(true).start();
        String yaml = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("kubectl kustomize " + kustomizationDir + " failed:\n" + yaml);
        }
        return client.load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).items();
    }

    /** A client for another ServiceAccount (created if missing), e.g. one without any permission. */
    public KubernetesClient clientFor(String namespace, String serviceAccount) {
        try {
            namespace(namespace, Map.of());
            client.serviceAccounts().inNamespace(namespace).resource(new io.fabric8.kubernetes.api.model.ServiceAccountBuilder()
                    .withNewMetadata().withName(serviceAccount).endMetadata().build()).serverSideApply();
            return new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(
                    Files.readString(kubeconfigFor(namespace, serviceAccount)))).build();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A kubeconfig for a ServiceAccount: same server and CA as the admin one, a bound token (TokenRequest). */
    private Path kubeconfigFor(String namespace, String serviceAccount) throws IOException {
        String user = "system:serviceaccount:" + namespace + ":" + serviceAccount;
        String token = token(namespace, serviceAccount);
        Config admin = config();
        Path file = Files.createTempFile("enforcer-serviceaccount-kubeconfig", ".yaml");
        file.toFile().deleteOnExit();
        Files.writeString(file, """
                apiVersion: v1
                kind: Config
                clusters:
                  - name: test-apiserver
                    cluster:
                      server: %s
                      certificate-authority: %s
                users:
                  - name: %s
                    user:
                      token: %s
                contexts:
                  - name: enforcer
                    context:
                      cluster: test-apiserver
                      user: %s
                      namespace: %s
                current-context: enforcer
                """.formatted(admin.getMasterUrl(), admin.getCaCertFile(), user, token, user, namespace));
        return file;
    }

    /** A bound token of a ServiceAccount (TokenRequest, 24 h), e.g. for the in-cluster token file of a container. */
    public String token(String namespace, String serviceAccount) {
        return client.serviceAccounts().inNamespace(namespace).withName(serviceAccount)
                .tokenRequest(new TokenRequestBuilder().withNewSpec().withExpirationSeconds(24 * 3600L).endSpec().build())
                .getStatus().getToken();
    }

    /** A client acting as the shipped ServiceAccount, for tests that call application code directly. */
    public KubernetesClient serviceAccountClient() {
        try {
            Path kubeconfig = installEnforcerIdentity(installedIdentity == null ? "base" : installedIdentity);
            return new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(Files.readString(kubeconfig))).build();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public void namespace(String name, Map<String, String> labels) {
        client.resource(new NamespaceBuilder().withNewMetadata().withName(name).withLabels(labels).endMetadata().build())
                .serverSideApply();
    }

    /**
     * The shipped MutatingWebhookConfiguration ({@code webhook-config/base/mutatingwebhook.yaml}:
     * its rules, selectors, timeout), renamed and calling {@code url} with the test CA instead of
     * the in-cluster Service.
     */
    public MutatingWebhookConfiguration registerWebhook(String name, String url, String failurePolicy) {
        return registerWebhook(name, url, failurePolicy, hook -> { });
    }

    /**
     * As above, with {@code edit} changing the webhook before it is applied (e.g. another webhook
     * name, so the API server's per-webhook metrics tell it apart, or another namespaceSelector).
     */
    public MutatingWebhookConfiguration registerWebhook(String name, String url, String failurePolicy,
            java.util.function.Consumer<io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook> edit) {
        MutatingWebhookConfiguration mwc;
        try (InputStream in = Files.newInputStream(Paths.get("webhook-config", "base", "mutatingwebhook.yaml"))) {
            mwc = (MutatingWebhookConfiguration) client.load(in).items().get(0);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        mwc.getMetadata().setName(name);
        var hook = mwc.getWebhooks().get(0);
        hook.setFailurePolicy(failurePolicy);
        hook.setClientConfig(new WebhookClientConfigBuilder().withUrl(url).withCaBundle(TestPki.get().caBundle()).build());
        edit.accept(hook);
        return client.resource(mwc).forceConflicts().fieldManager("enforcer-tests").serverSideApply();
    }

    /** Deletes a registration of {@link #registerWebhook} (the API server stops calling it asynchronously). */
    public void deregisterWebhook(String name) {
        client.admissionRegistration().v1().mutatingWebhookConfigurations().withName(name).delete();
    }
}
