package dev.zeebeambient.enforcer;

import dev.zeebeambient.enforcer.testsupport.Endpoints;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every kustomization in webhook-config/ (base and overlays, rendered by the real kubectl) is
 * accepted by the real API server, and the ServiceAccount's RBAC allows exactly what the features
 * need (checked by impersonating it).
 */
class ManifestsTest {

    static KubeTestCluster cluster;
    static KubernetesClient admin;
    static Path tree;

    /** applyAndReadBack applies overlays' extra roles as admin: leave the shipped base identity behind. */
    @AfterAll
    static void restoreBaseIdentity() {
        cluster.resetEnforcerIdentity();
    }

    @BeforeAll
    static void renderPrerequisites() throws Exception {
        cluster = KubeTestCluster.get();
        admin = cluster.client();
        cluster.installCrds();
        for (String ns : List.of("camunda", "istio-system")) {
            cluster.namespace(ns, Map.of());
        }
        // a copy of webhook-config/ with certs/generate.sh's output where the static-certs overlay reads it
        tree = Files.createTempDirectory("webhook-config");
        copy(Paths.get("webhook-config"), tree.resolve("webhook-config"));
        run(List.of("bash", "certs/generate.sh", "--out",
                tree.resolve("webhook-config/overlays/static-certs/generated").toString()));
    }

    static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
    }

    static String run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", command) + ":\n" + out);
        return out;
    }

    static List<HasMetadata> render(String kustomization) throws Exception {
        String yaml = run(List.of(cluster.kubectl().toString(), "kustomize", tree.resolve("webhook-config/" + kustomization).toString()));
        return admin.load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).items();
    }

    /** Server-side apply, then read back. The webhook configuration gets a test name: the real one must not take over. */
    static List<String> applyAndReadBack(List<HasMetadata> objects) {
        List<String> applied = new ArrayList<>();
        objects.sort(Comparator.comparing(o -> o.getKind().equals("Namespace") ? 0 : 1));
        for (HasMetadata o : objects) {
            if (o.getApiVersion().startsWith("cert-manager.io/")) {
                continue; // cert-manager's CRDs are not installed here; their objects are only rendered
            }
            if (o instanceof MutatingWebhookConfiguration || o.getKind().equals("MutatingWebhookConfiguration")) {
                o.getMetadata().setName(o.getMetadata().getName() + "-manifests-test");
            }
            if (o.getMetadata().getName().startsWith(dev.zeebeambient.enforcer.install.InstallNames.ENROLL_POLICY)) {
                // the in-API-server enrollment would take pods from the webhook in every later test: validated, not stored
                // (EnrollPolicyTest installs it where it is under test)
                HasMetadata checked = admin.resource(o).dryRun().fieldManager("manifests-test").forceConflicts().serverSideApply();
                assertNotNull(checked.getMetadata().getUid(), "dry-run " + o.getKind() + " " + o.getMetadata().getName());
                applied.add(o.getKind() + " " + o.getMetadata().getName());
                continue;
            }
            HasMetadata live = admin.resource(o).fieldManager("manifests-test").forceConflicts().serverSideApply();
            assertNotNull(admin.resource(live).get(), "read back " + o.getKind() + " " + o.getMetadata().getName());
            applied.add(o.getKind() + " " + (o.getMetadata().getNamespace() == null ? "" : o.getMetadata().getNamespace() + "/")
                    + o.getMetadata().getName());
        }
        admin.admissionRegistration().v1().mutatingWebhookConfigurations().withName("zeebe-ambient-enforcer-manifests-test").delete();
        return applied;
    }

    @Test
    void everyKustomizationIsAcceptedByTheApiServer() throws Exception {
        for (String k : List.of("base", "overlays/static-certs", "overlays/cert-manager", "overlays/audit", "overlays/read-secrets",
                "overlays/bind-chart-service", "overlays/restart-workloads",
                "overlays/self-managed-tls")) {
            List<HasMetadata> objects = render(k);
            assertTrue(objects.size() >= 14, k + ": " + objects.size());
            List<String> applied = applyAndReadBack(objects);
            assertTrue(applied.contains("Deployment zeebe-ambient-enforcer/zeebe-ambient-enforcer"), applied.toString());
            assertTrue(applied.contains("Role camunda/zeebe-ambient-enforcer-bootstrap"), applied.toString());
            assertTrue(applied.contains("Role istio-system/zeebe-ambient-enforcer-waypoint-defaults"), applied.toString());
            // the overlays work on 1.30-1.35 as they are: the enroll policy is components/enroll-policy (EnrollPolicyTest)
            assertFalse(applied.contains("MutatingAdmissionPolicy zeebe-ambient-enforcer-enroll"), k + ": the enroll policy " + applied);
            assertTrue(applied.contains("ConfigMap zeebe-ambient-enforcer/zeebe-ambient-enforcer-config"), k + ": " + applied);
        }
        List<HasMetadata> job = admin.load(Files.newInputStream(Paths.get("webhook-config/cleanup/job.yaml"))).items();
        applyAndReadBack(new ArrayList<>(job));
    }

    @Test
    @SuppressWarnings("unchecked")
    void webhookConfigurationFollowsGoodPractice() throws Exception {
        MutatingWebhookConfiguration mwc = (MutatingWebhookConfiguration) render("overlays/static-certs").stream()
                .filter(o -> o instanceof MutatingWebhookConfiguration).findFirst().orElseThrow();
        var hook = mwc.getWebhooks().get(0);
        assertEquals(List.of("v1"), hook.getAdmissionReviewVersions());
        assertEquals("None", hook.getSideEffects());
        assertEquals("Ignore", hook.getFailurePolicy());
        assertTrue(hook.getTimeoutSeconds() <= 5);
        assertEquals(List.of("CREATE"), hook.getRules().get(0).getOperations());
        assertEquals(List.of("pods"), hook.getRules().get(0).getResources());
        assertEquals("true", hook.getNamespaceSelector().getMatchLabels().get("zeebe-ambient-enforcer.io/enabled"));
        assertTrue(hook.getNamespaceSelector().getMatchExpressions().get(0).getValues()
                .containsAll(List.of("kube-system", "kube-node-lease", "zeebe-ambient-enforcer")));
        // no objectSelector: a pod this webhook enrolled is sent again when a later webhook changed it (IfNeeded), so that
        // an enrollment the later change made wrong is taken back; other labelled pods are left out by a condition
        assertNull(hook.getObjectSelector());
        assertEquals("IfNeeded", hook.getReinvocationPolicy());
        assertTrue(hook.getMatchConditions().stream().anyMatch(c -> c.getName().equals("not-labelled-or-enrolled-here")
                && c.getExpression().contains("== 'admission'")), hook.getMatchConditions().toString());
        // namespace rows the API server can decide alone are not sent to us
        var rows = hook.getNamespaceSelector().getMatchExpressions().stream()
                .collect(java.util.stream.Collectors.toMap(e -> e.getKey(), e -> e.getOperator() + " " + e.getValues()));
        assertEquals("NotIn [ambient, none]", rows.get("istio.io/dataplane-mode"));
        assertNull(rows.get("istio-injection"), "injection namespaces are sent: inject=false clients there are enrolled at admission");
        // static-certs: the caBundle is the CA that signed the serving certificate
        String ca = Files.readString(tree.resolve("webhook-config/overlays/static-certs/generated/ca.crt"));
        assertEquals(ca, new String(java.util.Base64.getDecoder().decode(hook.getClientConfig().getCaBundle()), StandardCharsets.US_ASCII));
        var deployment = render("base").stream().filter(o -> o.getKind().equals("Deployment")).findFirst().orElseThrow();
        var d = (io.fabric8.kubernetes.api.model.apps.Deployment) deployment;
        assertEquals(2, d.getSpec().getReplicas());
        assertEquals("none", d.getSpec().getTemplate().getMetadata().getLabels().get("istio.io/dataplane-mode"),
                "the enforcer's own pods are never sent to it");
        var c = d.getSpec().getTemplate().getSpec().getContainers().get(0);
        assertEquals(Boolean.TRUE, c.getSecurityContext().getReadOnlyRootFilesystem());
        assertEquals(List.of("ALL"), c.getSecurityContext().getCapabilities().getDrop());
        assertEquals(Boolean.TRUE, d.getSpec().getTemplate().getSpec().getSecurityContext().getRunAsNonRoot());
        assertEquals("management", c.getReadinessProbe().getHttpGet().getPort().getStrVal(), "probes on the management port");
        assertTrue(c.getEnv().stream().noneMatch(e -> e.getName().startsWith("JAVA_")),
                "JVM flags live in Dockerfile.jvm only: JAVA_OPTS_APPEND here would replace the image's");
        assertTrue(d.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds() >= 20,
                "room for quarkus.shutdown.delay (5 s) + quarkus.shutdown.timeout (15 s)");
        assertTrue(c.getPorts().stream().anyMatch(p -> "management".equals(p.getName()) && p.getContainerPort() == 9000));
    }

    /**
     * What the ServiceAccount may do is proven by the features' own tests, which run the enforcer
     * with its token and exactly this RBAC. Here: what it must not do, with a real token.
     */
    @Test
    void serviceAccountIsDeniedWhatNoFeatureNeeds() throws Exception {
        cluster.resetEnforcerIdentity();
        String ns = "rbac-apps";
        cluster.namespace(ns, Map.of("zeebe-ambient-enforcer.io/enabled", "true"));
        admin.resource(new ConfigMapBuilder().withNewMetadata().withName("zeebe").withNamespace(ns).endMetadata()
                .addToData("address", "x").build()).serverSideApply();
        admin.resource(new SecretBuilder().withNewMetadata().withName("creds").withNamespace(ns).endMetadata()
                .addToStringData("k", "v").build()).serverSideApply();
        admin.resource(new PodBuilder().withNewMetadata().withName("worker").withNamespace(ns).endMetadata()
                .withNewSpec().addNewContainer().withName("w").withImage("w").endContainer().endSpec().build()).serverSideApply();

        cluster.registerWebhook("someone-elses-webhook", "https://localhost:1/mutate", "Ignore");
        try (KubernetesClient sa = cluster.serviceAccountClient()) {
            forbidden(() -> sa.secrets().inNamespace(ns).withName("creds").get(), "get secrets");
            forbidden(() -> sa.pods().inNamespace(ns).withName("worker").delete(), "delete pods");
            forbidden(() -> sa.pods().inNamespace(ns).withName("worker").get(), "get pods (the backstop reads its informer)");
            forbidden(() -> sa.configMaps().inNamespace(ns).list(), "list configmaps");
            forbidden(() -> sa.admissionRegistration().v1().mutatingWebhookConfigurations()
                    .resource(admin.admissionRegistration().v1().mutatingWebhookConfigurations().withName("someone-elses-webhook").get())
                    .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"metadata\":{\"labels\":{\"x\":\"y\"}}}"),
                    "update webhook configurations it does not own");
            forbidden(() -> sa.rbac().clusterRoles().resource(new ClusterRoleBuilder().withNewMetadata().withName("escalate")
                    .endMetadata().build()).create(), "create cluster roles");
            forbidden(() -> sa.resource(new NamespaceBuilder().withNewMetadata().withName("new-ns").endMetadata().build()).create(),
                    "create namespaces");
            forbidden(() -> sa.resource(new GenericKubernetesResourceBuilder().withApiVersion("networking.istio.io/v1")
                    .withKind("DestinationRule").withNewMetadata().withName("other").withNamespace("default").endMetadata()
                    .addToAdditionalProperties("spec", Map.of("host", "x")).build()).fieldManager("zeebe-ambient-enforcer")
                    .serverSideApply(), "write Istio config outside the target namespace");
            forbidden(() -> sa.genericKubernetesResources("networking.istio.io/v1", "DestinationRule").inNamespace("camunda").list(),
                    "list DestinationRules not named ours");
            forbidden(() -> sa.configMaps().inNamespace("istio-system").resource(new ConfigMapBuilder().withNewMetadata()
                    .withName("istio").endMetadata().build()).fieldManager("x").serverSideApply(), "touch istiod's own ConfigMap");
            forbidden(() -> sa.leases().inNamespace("zeebe-ambient-enforcer").resource(new io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder()
                    .withNewMetadata().withName("someone-elses-lease").withNamespace("zeebe-ambient-enforcer").endMetadata().build())
                    .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"holderIdentity\":\"me\"}}"), "take another Lease");
            forbidden(() -> sa.v1().events().inNamespace(ns).withName("x").get(), "read Events (it creates and patches its own)");
            // the in-API-server enrollment is a static manifest: the token can neither widen nor switch it off
            forbidden(() -> sa.genericKubernetesResources("admissionregistration.k8s.io/v1", "MutatingAdmissionPolicy")
                    .withName(dev.zeebeambient.enforcer.install.InstallNames.ENROLL_POLICY).delete(), "delete the enroll policy");
            forbidden(() -> sa.resource(new GenericKubernetesResourceBuilder().withApiVersion("admissionregistration.k8s.io/v1")
                    .withKind("MutatingAdmissionPolicyBinding").withNewMetadata().withName("widen").endMetadata()
                    .addToAdditionalProperties("spec", Map.of("policyName", dev.zeebeambient.enforcer.install.InstallNames.ENROLL_POLICY)).build())
                    .fieldManager("zeebe-ambient-enforcer").serverSideApply(), "bind admission policies");
            forbidden(() -> sa.admissionRegistration().v1().validatingAdmissionPolicies().withName("zeebe-ambient-enforcer-pod-patches")
                    .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"metadata\":{\"labels\":{\"x\":\"y\"}}}"),
                    "change the policy that limits its own pod patches");
        } finally {
            admin.admissionRegistration().v1().mutatingWebhookConfigurations().withName("someone-elses-webhook").delete();
        }
    }

    /**
     * RBAC cannot narrow {@code pods: patch}; the shipped ValidatingAdmissionPolicy does: the
     * ServiceAccount may add istio.io/dataplane-mode and its own annotations (the backstop's
     * patch, whose end-to-end use BackstopTest shows), nothing else. Admins are not affected.
     */
    @Test
    void podPatchPolicyLetsTheServiceAccountChangeOnlyTheEnrollment() throws Exception {
        cluster.resetEnforcerIdentity();
        String ns = "policy-apps";
        cluster.namespace(ns, Map.of("zeebe-ambient-enforcer.io/enabled", "true")); // the policy allows enrollment only where opted in
        admin.resource(new PodBuilder().withNewMetadata().withName("worker").withNamespace(ns).addToLabels("app", "worker")
                .addToAnnotations("team", "a").endMetadata()
                .withNewSpec().addNewContainer().withName("w").withImage("w:1").endContainer().endSpec().build()).serverSideApply();
        try (KubernetesClient sa = cluster.serviceAccountClient()) {
            // resource(live): fabric8 then patches without a GET first, as the backstop does from its informer
            var pod = sa.pods().inNamespace(ns).resource(admin.pods().inNamespace(ns).withName("worker").get());
            pod.patch(PatchContext.of(PatchType.JSON), "[{\"op\":\"add\",\"path\":\"/metadata/labels/istio.io~1dataplane-mode\",\"value\":\"ambient\"},"
                    + "{\"op\":\"add\",\"path\":\"/metadata/annotations/zeebe-ambient-enforcer.io~1enrolled-by\",\"value\":\"backstop\"}]");
            assertEquals("ambient", admin.pods().inNamespace(ns).withName("worker").get().getMetadata().getLabels().get("istio.io/dataplane-mode"));

            denied(() -> pod.patch(PatchContext.of(PatchType.JSON),
                    "[{\"op\":\"replace\",\"path\":\"/spec/containers/0/image\",\"value\":\"evil:1\"}]"), "change an image");
            denied(() -> pod.patch(PatchContext.of(PatchType.JSON_MERGE), "{\"metadata\":{\"labels\":{\"app\":\"other\"}}}"),
                    "change another label");
            denied(() -> pod.patch(PatchContext.of(PatchType.JSON_MERGE), "{\"metadata\":{\"labels\":{\"app\":null}}}"),
                    "remove another label");
            denied(() -> pod.patch(PatchContext.of(PatchType.JSON_MERGE), "{\"metadata\":{\"annotations\":{\"team\":\"b\"}}}"),
                    "change another annotation");
            denied(() -> pod.patch(PatchContext.of(PatchType.JSON_MERGE), "{\"metadata\":{\"finalizers\":[\"x/y\"]}}"),
                    "add a finalizer");
            denied(() -> pod.patch(PatchContext.of(PatchType.JSON_MERGE),
                    "{\"metadata\":{\"labels\":{\"istio.io/dataplane-mode\":\"none\"}}}"), "take a pod out of the mesh");
            denied(() -> pod.patch(PatchContext.of(PatchType.JSON_MERGE),
                    "{\"metadata\":{\"labels\":{\"istio.io/dataplane-mode\":null}}}"), "remove the dataplane label");
        }
        admin.pods().inNamespace(ns).withName("worker").patch(PatchContext.of(PatchType.JSON),
                "[{\"op\":\"replace\",\"path\":\"/spec/containers/0/image\",\"value\":\"w:2\"}]");
        assertEquals("w:2", admin.pods().inNamespace(ns).withName("worker").get().getSpec().getContainers().get(0).getImage(),
                "the policy binds the ServiceAccount only");
    }

    static void denied(Executable call, String what) {
        KubernetesClientException e = assertThrows(KubernetesClientException.class, call, what + " must be denied");
        assertEquals(403, e.getCode(), what + ": " + e.getMessage());
        assertTrue(e.getMessage().contains("zeebe-ambient-enforcer-pod-patches"), what + ": denied by the policy, not RBAC: "
                + e.getMessage());
    }

    @Test
    void selfManagedTlsMayTouchOnlyItsSecretAndItsWebhook() throws Exception {
        cluster.installEnforcerIdentity("overlays/self-managed-tls");
        cluster.registerWebhook("zeebe-ambient-enforcer", Endpoints.MUTATE_URL, "Ignore");
        admin.resource(new SecretBuilder().withNewMetadata().withName("other").withNamespace("zeebe-ambient-enforcer").endMetadata()
                .addToStringData("k", "v").build()).serverSideApply();
        admin.secrets().inNamespace("zeebe-ambient-enforcer").withName("zeebe-ambient-enforcer-tls").delete();
        try (KubernetesClient sa = cluster.serviceAccountClient()) {
            var secret = new SecretBuilder().withNewMetadata().withName("zeebe-ambient-enforcer-tls")
                    .withNamespace("zeebe-ambient-enforcer").endMetadata().withType("kubernetes.io/tls")
                    .addToData("tls.crt", "").addToData("tls.key", "").build();
            sa.secrets().inNamespace("zeebe-ambient-enforcer").resource(secret).create();
            var live = sa.secrets().inNamespace("zeebe-ambient-enforcer").withName("zeebe-ambient-enforcer-tls").get();
            sa.secrets().inNamespace("zeebe-ambient-enforcer").resource(live).update();
            String ca = java.util.Base64.getEncoder().encodeToString("x".getBytes(StandardCharsets.US_ASCII));
            sa.admissionRegistration().v1().mutatingWebhookConfigurations().withName("zeebe-ambient-enforcer")
                    .patch(PatchContext.of(PatchType.JSON), "[{\"op\":\"add\",\"path\":\"/webhooks/0/clientConfig/caBundle\",\"value\":\"" + ca + "\"}]");
            forbidden(() -> sa.secrets().inNamespace("zeebe-ambient-enforcer").withName("other").get(), "read another Secret");
            forbidden(() -> sa.admissionRegistration().v1().mutatingWebhookConfigurations().withName("zeebe-ambient-enforcer-manifests-test")
                    .get(), "read another webhook configuration");
        } finally {
            cluster.registerWebhook("zeebe-ambient-enforcer", Endpoints.MUTATE_URL, "Ignore"); // caBundle back
            admin.secrets().inNamespace("zeebe-ambient-enforcer").withName("zeebe-ambient-enforcer-tls").delete();
            cluster.resetEnforcerIdentity();
        }
    }

    static void forbidden(Executable call, String what) {
        KubernetesClientException e = assertThrows(KubernetesClientException.class, call, what + " must be denied");
        assertEquals(403, e.getCode(), what + ": " + e.getMessage());
    }
}
