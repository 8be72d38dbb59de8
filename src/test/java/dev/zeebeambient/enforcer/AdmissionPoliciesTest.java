package dev.zeebeambient.enforcer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.zeebeambient.enforcer.testsupport.Eventually;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodTemplateSpecBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The shipped ValidatingAdmissionPolicies, probed field by field with the ServiceAccount's real
 * token on the real API server: what RBAC grants broadly ({@code patch} on every Deployment and
 * StatefulSet with restart-workloads), the policies narrow to exactly what the feature writes.
 */
class AdmissionPoliciesTest {

    static final ObjectMapper M = new ObjectMapper();
    static final String RESTART_POLICY = "zeebe-ambient-enforcer-workload-restarts";
    static final String RESTARTED_AT = "kubectl.kubernetes.io/restartedAt";
    static KubeTestCluster cluster;
    static KubernetesClient admin;

    @BeforeAll
    static void cluster() {
        cluster = KubeTestCluster.get();
        admin = cluster.client();
    }

    @AfterAll
    static void restoreBaseIdentity() {
        cluster.resetEnforcerIdentity();
    }

    static PodTemplateSpecBuilder template(String app) {
        return new PodTemplateSpecBuilder().withNewMetadata().addToLabels("app", app).addToAnnotations("team", "a").endMetadata()
                .withNewSpec().addNewContainer().withName("app").withImage("app:1").endContainer().endSpec();
    }

    /** Each change the ServiceAccount must not make to any workload, as a JSON merge patch. */
    static Map<String, String> forbiddenForBoth(String uid) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("an invented owner (the garbage collector would delete the workload)", "{\"metadata\":{\"ownerReferences\":[{\"apiVersion\":"
                + "\"v1\",\"kind\":\"ConfigMap\",\"name\":\"gone\",\"uid\":\"" + uid + "\"}]}}");
        m.put("a finalizer", "{\"metadata\":{\"finalizers\":[\"example.com/block\"]}}");
        m.put("a workload label", "{\"metadata\":{\"labels\":{\"x\":\"y\"}}}");
        m.put("a workload annotation", "{\"metadata\":{\"annotations\":{\"x\":\"y\"}}}");
        m.put("replicas", "{\"spec\":{\"replicas\":5}}");
        m.put("minReadySeconds", "{\"spec\":{\"minReadySeconds\":30}}");
        m.put("revisionHistoryLimit", "{\"spec\":{\"revisionHistoryLimit\":0}}");
        m.put("a pod-template label", "{\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"x\":\"y\"}}}}}");
        m.put("another pod-template annotation", "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"team\":\"b\"}}}}}");
        m.put("a removed pod-template annotation", "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"team\":null}}}}}");
        m.put("the pod spec", "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"evil:1\"}]}}}}");
        return m;
    }

    @Test
    void workloadRestartPolicyAllowsTheRestartAnnotationAndNothingElse() {
        String ns = "policy-workloads";
        cluster.installEnforcerIdentity("overlays/restart-workloads");
        cluster.namespace(ns, Map.of("zeebe-ambient-enforcer.io/enabled", "true"));
        admin.resource(new DeploymentBuilder().withNewMetadata().withName("worker").withNamespace(ns).endMetadata()
                .withNewSpec().withNewSelector().addToMatchLabels("app", "worker").endSelector()
                .withTemplate(template("worker").build()).endSpec().build()).serverSideApply();
        admin.resource(new StatefulSetBuilder().withNewMetadata().withName("broker").withNamespace(ns).endMetadata()
                .withNewSpec().withServiceName("broker").withNewSelector().addToMatchLabels("app", "broker").endSelector()
                .withTemplate(template("broker").build()).endSpec().build()).serverSideApply();
        String uid = admin.apps().deployments().inNamespace(ns).withName("worker").get().getMetadata().getUid();

        Map<String, String> deployment = new LinkedHashMap<>(forbiddenForBoth(uid));
        deployment.put("the rollout strategy", "{\"spec\":{\"strategy\":{\"type\":\"Recreate\",\"rollingUpdate\":null}}}");
        deployment.put("paused", "{\"spec\":{\"paused\":true}}");
        deployment.put("progressDeadlineSeconds", "{\"spec\":{\"progressDeadlineSeconds\":3600}}");
        Map<String, String> statefulSet = new LinkedHashMap<>(forbiddenForBoth(uid));
        statefulSet.put("the update strategy", "{\"spec\":{\"updateStrategy\":{\"type\":\"OnDelete\",\"rollingUpdate\":null}}}");
        statefulSet.put("the PVC retention policy (Delete: broker data lost on scale-down)",
                "{\"spec\":{\"persistentVolumeClaimRetentionPolicy\":{\"whenScaled\":\"Delete\",\"whenDeleted\":\"Delete\"}}}");
        statefulSet.put("the ordinals", "{\"spec\":{\"ordinals\":{\"start\":5}}}");

        List<String> allowed = new ArrayList<>();
        try (KubernetesClient sa = cluster.serviceAccountClient()) {
            probe("Deployment", (p, dry) -> sa.apps().deployments().inNamespace(ns).withName("worker").dryRun(dry)
                    .patch(PatchContext.of(PatchType.JSON_MERGE), p), deployment, RESTART_POLICY, allowed);
            probe("StatefulSet", (p, dry) -> sa.apps().statefulSets().inNamespace(ns).withName("broker").dryRun(dry)
                    .patch(PatchContext.of(PatchType.JSON_MERGE), p), statefulSet, RESTART_POLICY, allowed);
            // what the restart itself sends still works
            String restart = "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"" + RESTARTED_AT + "\":\"2026-12-02T00:00:00Z\"}}}}}";
            sa.apps().deployments().inNamespace(ns).withName("worker").patch(PatchContext.of(PatchType.STRATEGIC_MERGE), restart);
            sa.apps().statefulSets().inNamespace(ns).withName("broker").patch(PatchContext.of(PatchType.STRATEGIC_MERGE), restart);
        }
        assertEquals(List.of(), allowed, "changes the ServiceAccount could make");
        assertEquals("2026-12-02T00:00:00Z", admin.apps().deployments().inNamespace(ns).withName("worker").get().getSpec().getTemplate()
                .getMetadata().getAnnotations().get(RESTARTED_AT));
        assertEquals("a", admin.apps().statefulSets().inNamespace(ns).withName("broker").get().getSpec().getTemplate()
                .getMetadata().getAnnotations().get("team"));
        // the policy binds the ServiceAccount only
        admin.apps().deployments().inNamespace(ns).withName("worker").patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"paused\":true}}");
        assertEquals(Boolean.TRUE, admin.apps().deployments().inNamespace(ns).withName("worker").get().getSpec().getPaused());
    }

    /**
     * RBAC grants {@code deployments, statefulsets: patch} cluster-wide: the policy limits restarts to namespaces that
     * opted in and are not excluded, so a leaked token cannot keep rolling istiod, CoreDNS or the Zeebe brokers.
     */
    @Test
    void workloadRestartsAreLimitedToOptedInNamespaces() {
        cluster.installEnforcerIdentity("overlays/restart-workloads");
        cluster.namespace("policy-not-opted-in", Map.of());
        cluster.namespace("camunda", Map.of());
        String restart = "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"" + RESTARTED_AT + "\":\"2026-12-07T00:00:00Z\"}}}}}";
        for (String ns : List.of("policy-not-opted-in", "kube-system", "camunda")) {
            admin.resource(new DeploymentBuilder().withNewMetadata().withName("not-ours").withNamespace(ns).endMetadata()
                    .withNewSpec().withNewSelector().addToMatchLabels("app", "not-ours").endSelector()
                    .withTemplate(template("not-ours").build()).endSpec().build()).serverSideApply();
        }
        try (KubernetesClient sa = cluster.serviceAccountClient()) {
            for (String ns : List.of("policy-not-opted-in", "kube-system", "camunda")) {
                Eventually.await(() -> {
                    try {
                        sa.apps().deployments().inNamespace(ns).withName("not-ours").dryRun().patch(PatchContext.of(PatchType.STRATEGIC_MERGE), restart);
                        return false;
                    } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
                        return e.getCode() == 403 && e.getMessage().contains("the enforcer may only restart workloads in namespaces that opted in");
                    }
                }, 30, "a restart in " + ns + " is denied by " + RESTART_POLICY);
            }
            // and an opted-in namespace is still allowed (the restart the backstop sends)
            cluster.namespace("policy-not-opted-in", Map.of("zeebe-ambient-enforcer.io/enabled", "true"));
            Eventually.await(() -> {
                try {
                    sa.apps().deployments().inNamespace("policy-not-opted-in").withName("not-ours").dryRun()
                            .patch(PatchContext.of(PatchType.STRATEGIC_MERGE), restart);
                    return true;
                } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
                    return false;
                }
            }, 30, "the restart allowed once the namespace opted in");
        }
    }

    /**
     * Sends each forbidden patch; each must be a 403 from {@code policy}. The ones that went through are added to
     * {@code allowed}. First waits until the API server enforces a policy just installed (it loads policies
     * asynchronously): the first forbidden patch, sent as a dry run, is denied.
     */
    static void probe(String kind, java.util.function.BiConsumer<String, Boolean> patch, Map<String, String> forbidden, String policy,
            List<String> allowed) {
        String first = forbidden.values().iterator().next();
        String[] last = {"allowed"};
        try {
            dev.zeebeambient.enforcer.testsupport.Eventually.await(() -> {
                try {
                    patch.accept(first, true);
                    last[0] = "allowed";
                    return false;
                } catch (KubernetesClientException e) {
                    last[0] = e.getMessage();
                    return e.getCode() == 403 && e.getMessage().contains(policy);
                }
            }, 15, policy + " in force");
        } catch (RuntimeException notInForce) {
            fail(policy + " not in force after 15 s: " + first + " -> " + last[0], notInForce);
        }
        forbidden.forEach((what, p) -> {
            try {
                patch.accept(p, false);
                allowed.add(kind + ": " + what);
            } catch (KubernetesClientException e) {
                assertEquals(403, e.getCode(), kind + " " + what + ": " + e.getMessage());
                assertTrue(e.getMessage().contains(policy), kind + " " + what + ": denied by the policy: " + e.getMessage());
            }
        });
    }

    /** A leaked token may enroll pods only where a namespace opted in, never in a system namespace. */
    @Test
    void podPatchPolicyAllowsEnrollmentOnlyInOptedInNamespaces() {
        cluster.resetEnforcerIdentity();
        String enroll = "{\"metadata\":{\"labels\":{\"istio.io/dataplane-mode\":\"ambient\"}}}";
        Map<String, Map<String, String>> namespaces = new LinkedHashMap<>();
        namespaces.put("policy-not-opted-in", Map.of());
        namespaces.put("policy-opted-out", Map.of("zeebe-ambient-enforcer.io/enabled", "false"));
        namespaces.put("kube-system", Map.of("zeebe-ambient-enforcer.io/enabled", "true"));
        namespaces.put("istio-system", Map.of("zeebe-ambient-enforcer.io/enabled", "true"));
        namespaces.put("policy-opted-in", Map.of("zeebe-ambient-enforcer.io/enabled", "true"));
        List<String> allowed = new ArrayList<>();
        try (KubernetesClient sa = cluster.serviceAccountClient()) {
            namespaces.forEach((ns, labels) -> {
                if (!ns.endsWith("-system")) {
                    cluster.namespace(ns, labels);
                } else {
                    admin.namespaces().withName(ns).edit(n -> new io.fabric8.kubernetes.api.model.NamespaceBuilder(n).editMetadata()
                            .addToLabels(labels).endMetadata().build());
                }
                admin.resource(new io.fabric8.kubernetes.api.model.PodBuilder().withNewMetadata().withName("policy-probe").withNamespace(ns)
                        .endMetadata().withNewSpec().addNewContainer().withName("w").withImage("w:1").endContainer().endSpec().build())
                        .serverSideApply();
            });
            Map<String, String> patches = new LinkedHashMap<>();
            namespaces.keySet().forEach(ns -> patches.put(ns, ns));
            // resource(live): no GET first (the ServiceAccount may not get pods), as the backstop patches
            probe("pod in", (ns, dry) -> sa.pods().inNamespace(ns).resource(admin.pods().inNamespace(ns).withName("policy-probe").get())
                    .dryRun(dry).patch(PatchContext.of(PatchType.JSON_MERGE), enroll), patches, "zeebe-ambient-enforcer-pod-patches", allowed);
        } finally {
            for (String ns : List.of("kube-system", "istio-system")) {
                admin.pods().inNamespace(ns).withName("policy-probe").delete();
                admin.namespaces().withName(ns).edit(n -> new io.fabric8.kubernetes.api.model.NamespaceBuilder(n).editMetadata()
                        .removeFromLabels("zeebe-ambient-enforcer.io/enabled").endMetadata().build());
            }
        }
        assertEquals(List.of("pod in: policy-opted-in"), allowed);
        assertEquals("ambient", admin.pods().inNamespace("policy-opted-in").withName("policy-probe").get().getMetadata().getLabels()
                .get("istio.io/dataplane-mode"));
    }

    /**
     * CEL cannot compare "every field but one" of a typed object, so the policy lists the fields:
     * every property the API server's own schema gives a Deployment's and a StatefulSet's spec and
     * an ObjectMeta must be compared by it (except what only the API server sets), or this fails
     * (a new Kubernetes version with a new field).
     */
    @Test
    void workloadRestartPolicyComparesEveryFieldTheApiServerKnows() throws Exception {
        String policy = Files.readString(Path.of("webhook-config/helm/zeebe-ambient-enforcer/files/workload-restart-policy.yaml"));
        JsonNode schemas = M.readTree(admin.raw("/openapi/v3/apis/apps/v1")).path("components").path("schemas");
        JsonNode meta = M.readTree(admin.raw("/openapi/v3/api/v1")).path("components").path("schemas")
                .path("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta").path("properties");
        assertTrue(meta.size() > 10, "ObjectMeta from the API server");
        Set<String> missing = new TreeSet<>();
        for (String spec : List.of("io.k8s.api.apps.v1.DeploymentSpec", "io.k8s.api.apps.v1.StatefulSetSpec")) {
            JsonNode props = schemas.path(spec).path("properties");
            assertTrue(props.size() > 5, spec + " from the API server");
            props.fieldNames().forEachRemaining(f -> {
                if (!f.equals("template") && !policy.contains("object.spec." + f + " == oldObject.spec." + f)) {
                    missing.add(spec + "." + f);
                }
            });
        }
        Set<String> serverSet = Set.of("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp", "resourceVersion",
                "generation", "managedFields", "selfLink");
        meta.fieldNames().forEachRemaining(f -> {
            if (serverSet.contains(f)) {
                return;
            }
            if (!policy.contains("object.metadata." + f + " == oldObject.metadata." + f)) {
                missing.add("metadata." + f);
            }
            if (!f.equals("annotations") && !policy.contains("object.spec.template.metadata." + f + " == oldObject.spec.template.metadata." + f)) {
                missing.add("spec.template.metadata." + f);
            }
        });
        assertNotNull(schemas.get("io.k8s.api.apps.v1.DeploymentSpec"));
        if (!missing.isEmpty()) {
            fail("fields the workload-restart policy does not compare: " + missing);
        }
    }

    static final String CA_POLICY = "zeebe-ambient-enforcer-webhook-ca";

    /** Self-managed TLS: the ServiceAccount may inject the caBundle of its webhook, and re-point nothing. */
    @Test
    void selfManagedTlsMayChangeOnlyTheCaBundleOfItsWebhook() {
        cluster.installEnforcerIdentity("overlays/self-managed-tls");
        cluster.registerWebhook("zeebe-ambient-enforcer", dev.zeebeambient.enforcer.testsupport.Endpoints.MUTATE_URL, "Ignore");
        String ca = java.util.Base64.getEncoder().encodeToString("x".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        Map<String, String> forbidden = new LinkedHashMap<>();
        forbidden.put("another URL", "[{\"op\":\"replace\",\"path\":\"/webhooks/0/clientConfig/url\",\"value\":\"https://evil.example:443/\"}]");
        forbidden.put("failurePolicy Fail (block every pod)", "[{\"op\":\"replace\",\"path\":\"/webhooks/0/failurePolicy\",\"value\":\"Fail\"}]");
        forbidden.put("another namespaceSelector", "[{\"op\":\"replace\",\"path\":\"/webhooks/0/namespaceSelector\",\"value\":{}}]");
        forbidden.put("other rules", "[{\"op\":\"replace\",\"path\":\"/webhooks/0/rules/0/operations\",\"value\":[\"CREATE\",\"UPDATE\"]}]");
        forbidden.put("another timeout", "[{\"op\":\"replace\",\"path\":\"/webhooks/0/timeoutSeconds\",\"value\":30}]");
        forbidden.put("no matchConditions", "[{\"op\":\"remove\",\"path\":\"/webhooks/0/matchConditions\"}]");
        forbidden.put("a label", "[{\"op\":\"add\",\"path\":\"/metadata/labels/x\",\"value\":\"y\"}]");
        forbidden.put("a second webhook", "[{\"op\":\"copy\",\"from\":\"/webhooks/0\",\"path\":\"/webhooks/1\"},"
                + "{\"op\":\"replace\",\"path\":\"/webhooks/1/name\",\"value\":\"second.example.com\"}]");
        List<String> allowed = new ArrayList<>();
        try (KubernetesClient sa = cluster.serviceAccountClient()) {
            var mwc = sa.admissionRegistration().v1().mutatingWebhookConfigurations().withName("zeebe-ambient-enforcer");
            mwc.patch(PatchContext.of(PatchType.JSON), "[{\"op\":\"add\",\"path\":\"/webhooks/0/clientConfig/caBundle\",\"value\":\""
                    + ca + "\"}]");
            probe("webhook", (p, dry) -> mwc.dryRun(dry).patch(PatchContext.of(PatchType.JSON), p), forbidden, CA_POLICY, allowed);
        } finally {
            // whatever got through (a second webhook, other rules) must not stay for the tests after this one
            admin.admissionRegistration().v1().mutatingWebhookConfigurations().withName("zeebe-ambient-enforcer").delete();
            cluster.registerWebhook("zeebe-ambient-enforcer", dev.zeebeambient.enforcer.testsupport.Endpoints.MUTATE_URL, "Ignore");
            cluster.resetEnforcerIdentity();
        }
        assertEquals(List.of(), allowed, "changes the ServiceAccount could make to its webhook");
    }

    @Test
    void webhookCaPolicyComparesEveryWebhookFieldTheApiServerKnows() throws Exception {
        String policy = Files.readString(Path.of("webhook-config/helm/zeebe-ambient-enforcer/files/webhook-ca-policy.yaml"));
        JsonNode schemas = M.readTree(admin.raw("/openapi/v3/apis/admissionregistration.k8s.io/v1")).path("components").path("schemas");
        Set<String> missing = new TreeSet<>();
        JsonNode hook = schemas.path("io.k8s.api.admissionregistration.v1.MutatingWebhook").path("properties");
        assertTrue(hook.size() > 8, "MutatingWebhook from the API server");
        hook.fieldNames().forEachRemaining(f -> {
            if (!Set.of("name", "clientConfig").contains(f) && !policy.contains("w." + f + " == o." + f)) {
                missing.add("webhooks[]." + f);
            }
        });
        JsonNode cc = schemas.path("io.k8s.api.admissionregistration.v1.WebhookClientConfig").path("properties");
        assertTrue(cc.has("caBundle"), "WebhookClientConfig from the API server");
        cc.fieldNames().forEachRemaining(f -> {
            if (!f.equals("caBundle") && !policy.contains("w.clientConfig." + f + " == o.clientConfig." + f)) {
                missing.add("webhooks[].clientConfig." + f);
            }
        });
        if (!missing.isEmpty()) {
            fail("webhook fields the webhook-ca policy does not compare: " + missing);
        }
    }

    /**
     * The manifests repeat values of the configuration (the opt-in label, the excluded namespaces, the
     * enforcer's namespace and ServiceAccount, the annotation prefix, the targets' namespace, the enroll
     * key); each copy must equal the mapping's default, or this fails.
     */
    @Test
    void theManifestsRepeatTheConfigurationsDefaultsExactly() throws Exception {
        var config = dev.zeebeambient.enforcer.testsupport.TestConfig.defaults();
        String[] optIn = config.namespaceOptInLabel().split("=", 2);
        Set<String> excluded = new TreeSet<>(dev.zeebeambient.enforcer.config.ConfigRules.excludedNamespaces(config));
        String user = "system:serviceaccount:" + config.ownNamespace() + ":zeebe-ambient-enforcer";
        String prefix = config.reasonAnnotation().substring(0, config.reasonAnnotation().indexOf('/') + 1);
        List<HasMetadata> base = cluster.render("base");

        var hook = base.stream().filter(o -> o instanceof io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration)
                .map(o -> ((io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration) o).getWebhooks().get(0))
                .findFirst().orElseThrow();
        assertEquals(Map.of(optIn[0], optIn[1]), hook.getNamespaceSelector().getMatchLabels());
        assertEquals(excluded, new TreeSet<>(hook.getNamespaceSelector().getMatchExpressions().stream()
                .filter(e -> e.getKey().equals("kubernetes.io/metadata.name")).findFirst().orElseThrow().getValues()));
        assertEquals(config.ownNamespace(), hook.getClientConfig().getService().getNamespace());
        String condition = hook.getMatchConditions().get(0).getExpression();
        Set<String> targetNamespaces = new TreeSet<>();
        config.targets().forEach(t -> targetNamespaces.add(t.namespace()));
        targetNamespaces.forEach(ns -> assertTrue(condition.contains("request.namespace == '" + ns + "'"), condition));
        assertTrue(condition.contains("'" + config.podEnrollKey() + "' in object.metadata.labels"), condition);

        String podPolicy = Files.readString(Path.of("webhook-config/base/pod-patch-policy.yaml"));
        assertTrue(podPolicy.contains("'" + optIn[0] + "' in namespaceObject.metadata.labels"), "opt-in key");
        assertTrue(podPolicy.contains("namespaceObject.metadata.labels['" + optIn[0] + "'] == '" + optIn[1] + "'"), "opt-in value");
        java.util.regex.Matcher list = java.util.regex.Pattern.compile("namespaceObject\\.metadata\\.name in \\[([^\\]]*)]").matcher(podPolicy);
        assertTrue(list.find(), "excluded namespaces in the pod-patch policy");
        assertEquals(excluded, new TreeSet<>(java.util.Arrays.stream(list.group(1).split(",")).map(x -> x.trim().replace("'", "")).toList()));
        assertTrue(podPolicy.contains("k.startsWith('" + prefix + "')"), "annotation prefix " + prefix);

        for (String policy : List.of("webhook-config/base/pod-patch-policy.yaml",
                "webhook-config/helm/zeebe-ambient-enforcer/files/workload-restart-policy.yaml",
                "webhook-config/helm/zeebe-ambient-enforcer/files/webhook-ca-policy.yaml")) {
            String yaml = Files.readString(Path.of(policy));
            java.util.regex.Matcher users = java.util.regex.Pattern.compile("request\\.userInfo\\.username == '([^']*)'").matcher(yaml);
            assertTrue(users.find(), policy);
            assertEquals(user, users.group(1), policy);
        }
    }
}
