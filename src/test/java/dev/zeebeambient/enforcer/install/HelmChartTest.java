package dev.zeebeambient.enforcer.install;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.testsupport.Helm;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import dev.zeebeambient.enforcer.testsupport.TestConfig;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The Helm chart cannot drift from kustomize nor from the configuration: every mode renders the same objects as its
 * overlay; the enforcer, reading the env the chart gives its container, renders exactly the webhook, policies and
 * Roles the chart installs; the files the chart carries are webhook-config/'s; helm lint --strict passes, the values
 * schema refuses what it must, and the API server accepts every profile (server-side dry run).
 */
class HelmChartTest {

    static final String NS = "zeebe-ambient-enforcer";

    /** Values profiles: name -> --set/-f arguments. */
    static final Map<String, List<String>> PROFILES = new LinkedHashMap<>();

    static {
        PROFILES.put("defaults", List.of());
        PROFILES.put("audit", List.of("--set", "enforcer.mode=audit"));
        PROFILES.put("self-managed-tls", List.of("--set", "tls.mode=selfManaged"));
        PROFILES.put("read-secrets", List.of("--set", "enforcer.readSecrets=true"));
        PROFILES.put("restart-workloads", List.of("--set", "enforcer.backstop.restartWorkloads=true"));
        PROFILES.put("bind-chart-service", List.of("--set", "enforcer.bootstrap.bindChartService=true"));
        PROFILES.put("another-configuration", List.of("--set", "enforcer.targets={zeebe-prod/gw-grpc:26600}",
                "--set", "enforcer.namespaceOptInLabel=team.example.com/zeebe=on", "--set", "enforcer.podEnrollKey=team.example.com/enroll",
                "--set", "enforcer.reasonAnnotation=team.example.com/why", "--set", "enforcer.bootstrap.waypointName=wp",
                "--set", "enforcer.bootstrap.istioNamespace=mesh-system", "--set", "enforcer.bootstrap.waypointDefaults.name=wp-defaults",
                "--set", "enforcer.clusterDomain=corp.example", "--set", "enforcer.knownGatewayServices={legacy/zeebe:26500}",
                "--set", "enforcer.excludedNamespaces={kube-system,mesh-system}"));
        PROFILES.put("three-targets", List.of("--set",
                "enforcer.targets={camunda/camunda-zeebe-gateway-grpc:26500,c8-prod/c8-zeebe-gateway-grpc:26600,camunda/other-grpc:26500}",
                "--set", "enforcer.bootstrap.waypointDefaults.enabled=false", "--set", "tls.mode=secret", "--set", "tls.secretName=my-tls",
                "--set", "tls.caBundle=Y2E="));
        PROFILES.put("no-enroll-policy", List.of("--set", "enforcer.enrollPolicy=false"));
        PROFILES.put("camunda-example", List.of("-f", Helm.CHART.resolve("examples/camunda-values.yaml").toString()));
        PROFILES.put("everything-on", List.of("--set", "metrics.serviceMonitor.enabled=true", "--set", "metrics.prometheusRule.enabled=true",
                "--set", "metrics.dashboard.enabled=true", "--set", "cleanupOnUninstall=true", "--set", "replicaCount=3",
                "--set", "image.digest=sha256:" + "a".repeat(64), "--set", "priorityClassName=system-cluster-critical",
                "--set", "nodeSelector.pool=system", "--set", "podAnnotations.team=platform", "--set", "extraEnv[0].name=X",
                "--set", "extraEnv[0].value=y"));
    }

    /** Each chart mode and the overlay that offers the same. */
    static final Map<String, String> OVERLAYS = Map.of("defaults", "overlays/cert-manager", "audit", "overlays/audit",
            "self-managed-tls", "overlays/self-managed-tls", "read-secrets", "overlays/read-secrets",
            "restart-workloads", "overlays/restart-workloads", "bind-chart-service", "overlays/bind-chart-service");

    static List<ObjectNode> render(String profile) throws Exception {
        return Helm.documents(Helm.template("zeebe-ambient-enforcer", NS, PROFILES.get(profile)));
    }

    @Test
    void everyModeRendersWhatItsOverlayInstalls() throws Exception {
        for (Map.Entry<String, String> o : OVERLAYS.entrySet()) {
            Map<String, String> env = new TreeMap<>();
            Map<String, ObjectNode> chart = Helm.normalised(render(o.getKey()), env);
            Map<String, ObjectNode> kustomize = Helm.normalised(Helm.kustomize(Path.of("webhook-config", o.getValue())), new HashMap<>());
            kustomize.keySet().removeIf(k -> k.startsWith("Namespace/")); // Helm: --create-namespace (README says which label to add)
            kustomize = clusterScopedWithoutNamespace(kustomize);
            var onlyKustomize = new java.util.TreeSet<>(kustomize.keySet());
            onlyKustomize.removeAll(chart.keySet());
            var onlyChart = new java.util.TreeSet<>(chart.keySet());
            onlyChart.removeAll(kustomize.keySet());
            assertEquals("only in kustomize: [] only in the chart: []", "only in kustomize: " + onlyKustomize + " only in the chart: " + onlyChart,
                    "chart (" + o.getKey() + ") vs webhook-config/" + o.getValue());
            for (String k : kustomize.keySet()) {
                assertSame(collapsed(kustomize.get(k)), collapsed(chart.get(k)), "chart (" + o.getKey() + ") vs webhook-config/" + o.getValue() + ": " + k);
            }
            // what the chart states and kustomize leaves to the image: the enforcer's own defaults
            EnforcerConfig stated = TestConfig.fromEnv(env);
            assertEquals(InstallManifest.render(TestConfig.defaults()), InstallManifest.render(stated), o.getKey());
            assertEquals(TestConfig.defaults().bootstrap().enabled(), stated.bootstrap().enabled());
        }
    }

    /**
     * The enforcer reads its configuration from the env the chart gives its container; from that configuration it renders
     * the webhook, the pod-patch policy, the bootstrap Roles and the enroll policies: the chart installs exactly those.
     */
    @Test
    void theChartInstallsWhatTheEnforcerRendersForItsConfiguration() throws Exception {
        for (String profile : PROFILES.keySet()) {
            List<ObjectNode> docs = render(profile);
            Map<String, String> env = new TreeMap<>();
            Map<String, ObjectNode> chart = Helm.normalised(docs, env);
            EnforcerConfig config = TestConfig.fromEnv(withOwnNamespace(Helm.deploymentEnv(docs)));
            Map<String, ObjectNode> java = new TreeMap<>();
            for (String yaml : InstallManifest.render(config).values()) {
                for (ObjectNode d : Helm.documents(yaml)) {
                    java.put(Helm.key(d), d);
                }
            }
            boolean enrollPolicy = !profile.equals("no-enroll-policy");
            boolean bind = config.bootstrap().bindChartService();
            for (Map.Entry<String, ObjectNode> j : java.entrySet()) {
                boolean enrollObject = j.getValue().path("metadata").path("name").asText().startsWith(EnrollPolicy.NAME);
                if (enrollObject && !enrollPolicy) {
                    assertFalse(chart.containsKey(j.getKey()), profile + ": enrollPolicy=false still renders " + j.getKey());
                    continue;
                }
                if (bind && j.getKey().startsWith("Role/")) {
                    continue; // bind-chart-service adds rules kustomize's component adds too (everyModeRendersWhatItsOverlayInstalls)
                }
                ObjectNode c = chart.get(j.getKey());
                assertTrue(c != null, profile + ": the enforcer renders " + j.getKey() + ", the chart does not (it has " + chart.keySet() + ")");
                ObjectNode cc = c.deepCopy();
                ((ObjectNode) cc.get("metadata")).with("labels").remove("app.kubernetes.io/part-of");
                if (j.getKey().startsWith("MutatingWebhookConfiguration/")) { // the TLS mode's: cert-manager's annotation or a given caBundle
                    ((ObjectNode) cc.get("metadata")).remove("annotations");
                    cc.path("webhooks").forEach(w -> ((ObjectNode) w.path("clientConfig")).remove("caBundle"));
                }
                assertSame(j.getValue(), cc, profile + ": " + j.getKey());
            }
            // and no generated kind the enforcer does not render
            for (String k : chart.keySet()) {
                if ((k.startsWith("MutatingAdmissionPolicy") || k.startsWith("MutatingWebhookConfiguration")
                        || k.contains("/zeebe-ambient-enforcer-bootstrap") || k.contains("/zeebe-ambient-enforcer-waypoint-defaults")
                        || k.contains("enforcer-enroll") || k.contains("pod-patches"))) {
                    assertTrue(java.containsKey(k), profile + ": the chart renders " + k + ", the enforcer does not for this configuration");
                }
            }
        }
    }

    /**
     * kubectl's kustomize does not know the admission policy kinds as cluster-scoped and gives them the base's
     * namespace; the API server drops a namespace on a cluster-scoped object, so the comparison does too.
     */
    private static Map<String, ObjectNode> clusterScopedWithoutNamespace(Map<String, ObjectNode> objects) {
        Map<String, ObjectNode> out = new TreeMap<>();
        for (ObjectNode o : objects.values()) {
            if (java.util.Set.of("MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding", "ValidatingAdmissionPolicy",
                    "ValidatingAdmissionPolicyBinding", "MutatingWebhookConfiguration", "ClusterRole", "ClusterRoleBinding")
                    .contains(o.path("kind").asText())) {
                ((ObjectNode) o.get("metadata")).remove("namespace");
            }
            out.put(Helm.key(o), o);
        }
        return out;
    }

    /**
     * Runs of whitespace in strings as one space: kubectl's kustomize re-folds a {@code >-} scalar with more-indented
     * lines into a different line-break count (CEL ignores it; every other character is compared).
     */
    static JsonNode collapsed(JsonNode n) {
        if (n.isTextual()) {
            return com.fasterxml.jackson.databind.node.TextNode.valueOf(n.asText().replaceAll("\\s+", " ").trim());
        }
        if (n instanceof ObjectNode o) {
            ObjectNode c = o.objectNode();
            o.fields().forEachRemaining(e -> c.set(e.getKey(), collapsed(e.getValue())));
            return c;
        }
        if (n instanceof com.fasterxml.jackson.databind.node.ArrayNode a) {
            var c = a.arrayNode();
            a.forEach(x -> c.add(collapsed(x)));
            return c;
        }
        return n;
    }

    private static Map<String, String> withOwnNamespace(Map<String, String> env) {
        Map<String, String> m = new HashMap<>(env);
        m.put("ENFORCER_OWN_NAMESPACE", NS); // the fieldRef, as the kubelet resolves it
        return m;
    }

    @Test
    void theCamundaExampleDerivesTheTargetFromAnotherReleaseName() throws Exception {
        EnforcerConfig c = TestConfig.fromEnv(withOwnNamespace(Helm.deploymentEnv(render("camunda-example"))));
        assertEquals("c8-prod/c8-zeebe-gateway-grpc:26500", c.targets().get(0).toString());
        assertEquals("c8-zeebe-gateway", c.chartServiceName(c.targets().get(0)));
        assertTrue(c.bootstrap().bindChartService());
        String yaml = Helm.template("zeebe-ambient-enforcer", NS, PROFILES.get("camunda-example"));
        assertFalse(yaml.contains("camunda-zeebe-gateway"), "nothing of the default release name is left");
    }

    /** The files the chart carries are webhook-config/'s (Helm cannot read outside its chart). */
    @Test
    void theChartsFilesAreWebhookConfigs() throws IOException {
        Map<String, String> copies = Map.of("files/prometheusrule.yaml", "components/alerts/prometheusrule.yaml",
                "files/dashboard.json", "components/dashboard/zeebe-ambient-enforcer.json",
                "files/workload-restart-policy.yaml", "components/restart-workloads/workload-restart-policy.yaml",
                "files/webhook-ca-policy.yaml", "overlays/self-managed-tls/webhook-ca-policy.yaml");
        for (Map.Entry<String, String> c : copies.entrySet()) {
            assertEquals(Files.readString(Path.of("webhook-config", c.getValue())), Files.readString(Helm.CHART.resolve(c.getKey())),
                    c.getKey() + " must be a copy of webhook-config/" + c.getValue() + ": cp webhook-config/" + c.getValue() + " "
                            + Helm.CHART.resolve(c.getKey()));
        }
        try (var files = Files.list(Helm.CHART.resolve("files"))) {
            assertEquals(copies.size(), files.count(), "every file in the chart's files/ is checked here");
        }
    }

    @Test
    void lintStrictPassesForEveryProfile() throws Exception {
        for (Map.Entry<String, List<String>> p : PROFILES.entrySet()) {
            List<String> args = new ArrayList<>(List.of("lint", "--strict", Helm.CHART.toString(), "-n", NS));
            args.addAll(p.getValue());
            Helm.Result r = Helm.run(Map.of(), args);
            assertEquals(0, r.exit(), p.getKey() + ":\n" + r.output());
            assertTrue(r.output().contains("1 chart(s) linted, 0 chart(s) failed"), r.output());
        }
    }

    /** Helm 4 (apiVersion v2 charts unchanged): lint --strict passes and every profile renders the same objects as with Helm 3. */
    @Test
    void helm4RendersTheSameObjects() throws Exception {
        java.nio.file.Path helm4 = Helm.helm4();
        for (Map.Entry<String, List<String>> p : PROFILES.entrySet()) {
            List<String> lint = new ArrayList<>(List.of("lint", "--strict", Helm.CHART.toString(), "-n", NS));
            lint.addAll(p.getValue());
            Helm.Result linted = Helm.run(helm4, Map.of(), lint);
            assertEquals(0, linted.exit(), p.getKey() + ":\n" + linted.output());
            List<String> template = new ArrayList<>(List.of("template", "zeebe-ambient-enforcer", Helm.CHART.toString(), "-n", NS));
            template.addAll(p.getValue());
            Helm.Result rendered = Helm.run(helm4, Map.of(), template);
            assertEquals(0, rendered.exit(), p.getKey() + ":\n" + rendered.output());
            assertEquals(Helm.byKey(render(p.getKey())), Helm.byKey(Helm.documents(rendered.output())), p.getKey() + ": Helm 4 vs Helm 3");
        }
        Helm.Result refused = Helm.run(helm4, Map.of(), List.of("template", "x", Helm.CHART.toString(), "--set", "enforcer.mdoe=audit"));
        assertTrue(refused.exit() != 0 && refused.output().contains("additional properties 'mdoe' not allowed"), refused.output());
    }

    /** Wrong types, unknown keys and bad values are refused with a message that names the key. */
    @Test
    void theSchemaAndTheTemplatesRefuseBadValues() throws Exception {
        Map<List<String>, String> bad = new LinkedHashMap<>();
        bad.put(List.of("--set", "enforcer.mdoe=audit"), "additional properties 'mdoe' not allowed");
        bad.put(List.of("--set", "replicaCount=two"), "/replicaCount': got string, want integer");
        bad.put(List.of("--set", "enforcer.mode=report"), "/enforcer/mode");
        bad.put(List.of("--set", "enforcer.targets={camunda/gateway}"), "/enforcer/targets/0");
        bad.put(List.of("--set", "enforcer.targets=null"), "enforcer.targets: at least one target");
        bad.put(List.of("--set", "enforcer.namespaceOptInLabel=enabled"), "/enforcer/namespaceOptInLabel");
        bad.put(List.of("--set", "tls.mode=manual"), "/tls/mode");
        bad.put(List.of("--set", "image.digest=latest"), "/image/digest");
        bad.put(List.of("--set", "metrics.serviceMonitor.enabled=yes"), "/metrics/serviceMonitor/enabled");
        bad.put(List.of("--set", "metrics.serviceMonitor.enabled=true", "--set", "metrics.podMonitor.enabled=true"), "choose one");
        bad.put(List.of("--set", "tls.mode=secret"), "tls.secretName");
        bad.put(List.of("--set", "tls.mode=secret", "--set", "tls.secretName=my-tls"), "tls.caBundle");
        bad.put(List.of("--set", "enforcer.camundaRelease.name=c8"), "enforcer.camundaRelease.namespace");
        bad.put(List.of("--set", "podDisruptionBudget.enable=true"), "additional properties 'enable' not allowed");
        for (Map.Entry<List<String>, String> b : bad.entrySet()) {
            List<String> args = new ArrayList<>(List.of("template", "x", Helm.CHART.toString(), "-n", NS));
            args.addAll(b.getKey());
            Helm.Result r = Helm.run(Map.of(), args);
            assertNotEquals(0, r.exit(), b.getKey() + " was accepted");
            assertTrue(r.output().contains(b.getValue()), b.getKey() + ": expected '" + b.getValue() + "' in:\n" + r.output());
            assertFalse(r.output().contains("panic") || r.output().contains("goroutine"), r.output());
        }
    }

    /** A changed configuration rolls the pods; the same one does not. */
    @Test
    void theConfigChecksumFollowsTheConfiguration() throws Exception {
        String enforce = checksum(render("defaults"));
        assertEquals(enforce, checksum(render("defaults")));
        assertNotEquals(enforce, checksum(render("audit")));
        assertNotEquals(enforce, checksum(render("another-configuration")));
        assertNotEquals(enforce, checksum(render("self-managed-tls")));
    }

    static String checksum(List<ObjectNode> docs) {
        return docs.stream().filter(d -> d.path("kind").asText().equals("Deployment")).findFirst().orElseThrow()
                .path("spec").path("template").path("metadata").path("annotations").path("checksum/config").asText();
    }

    /** The API server accepts every object of every profile (server-side dry-run create, as admin; CRD kinds need their CRDs). */
    @Test
    void theApiServerAcceptsEveryProfile() throws Exception {
        KubeTestCluster cluster = KubeTestCluster.get();
        KubernetesClient admin = cluster.client();
        cluster.installCrds();
        StubCrds.install(admin);
        for (Map.Entry<String, List<String>> p : PROFILES.entrySet()) {
            List<ObjectNode> docs = render(p.getKey());
            for (ObjectNode d : docs) {
                String ns = d.path("metadata").path("namespace").asText("");
                if (!ns.isEmpty()) {
                    cluster.namespace(ns, Map.of());
                }
            }
            List<String> refused = new ArrayList<>();
            for (ObjectNode d : docs) {
                GenericKubernetesResource r = Helm.YAML.treeToValue(d, GenericKubernetesResource.class);
                dryRunName(r);
                try {
                    admin.resource(r).dryRun().create();
                } catch (RuntimeException e) {
                    refused.add(Helm.key(d) + ": " + e.getMessage());
                }
            }
            assertEquals(List.of(), refused, p.getKey());
        }
    }

    /**
     * Would a fresh install be accepted: a dry-run create under a name of its own (an apply would merge with whatever
     * other tests left under our names, e.g. a webhook with a url, where url and service exclude each other).
     */
    static void dryRunName(HasMetadata o) {
        o.getMetadata().setName(o.getMetadata().getName() + "-dry-run");
    }

    private static void assertSame(JsonNode expected, JsonNode actual, String what) throws IOException {
        if (!expected.equals(actual)) {
            fail(what + " differs:\n--- expected\n" + Helm.YAML.writeValueAsString(expected) + "--- actual\n"
                    + Helm.YAML.writeValueAsString(actual));
        }
    }

    /** Minimal CRDs for the kinds the chart can render beyond Kubernetes' and Istio's (cert-manager, Prometheus Operator). */
    static final class StubCrds {
        static void install(KubernetesClient admin) {
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

    @SuppressWarnings("unused")
    private static String keys(Map<String, ?> m) {
        return m.keySet().stream().collect(Collectors.joining("\n"));
    }
}
