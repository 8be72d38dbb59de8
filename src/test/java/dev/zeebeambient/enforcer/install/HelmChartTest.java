package dev.zeebeambient.enforcer.install;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.decision.Rules;
import dev.zeebeambient.enforcer.testsupport.Chart;
import dev.zeebeambient.enforcer.testsupport.Helm;
import dev.zeebeambient.enforcer.testsupport.StubCrds;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
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
        PROFILES.put("enroll-policy", List.of("--set", "enforcer.enrollPolicy=true"));
        PROFILES.put("conventions", List.of("--set", "networkPolicy.enabled=true",
                "--set", "networkPolicy.apiServer.cidrs={10.0.0.1/32}",
                "--set", "topologySpreadConstraints[0].maxSkew=1", "--set", "topologySpreadConstraints[0].topologyKey=topology.kubernetes.io/zone",
                "--set", "topologySpreadConstraints[0].whenUnsatisfiable=ScheduleAnyway",
                "--set", "topologySpreadConstraints[0].labelSelector.matchLabels.app\\.kubernetes\\.io/name=zeebe-ambient-enforcer",
                "--set", "global.imagePullSecrets[0]=umbrella-pull", "--set", "imagePullSecrets[0].name=own-pull",
                "--set-json", "extraObjects=[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"extra-{{ .Release.Name }}\"}}]",
                "--set", "metrics.serviceMonitor.enabled=true",
                "--set", "podSecurityContext.runAsUser=null", "--set", "podSecurityContext.fsGroup=null",
                "--set", "containerSecurityContext.runAsUser=null"));
        PROFILES.put("as-a-subchart", List.of("--set", "global.imageRegistry=registry.example.com/platform", "--set", "global.umbrellaValue=x"));
        PROFILES.put("enroll-policy-audit", List.of("--set", "enforcer.enrollPolicy=true", "--set", "enforcer.mode=audit"));
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
            // Helm's uninstall hook and its Role (cleanupOnUninstall); kustomize installs uninstall with cleanup/job.yaml
            chart.keySet().removeIf(k -> k.endsWith("/zeebe-ambient-enforcer-cleanup"));
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
        }
    }

    /**
     * The enforcer reads its configuration from the ConfigMap the chart renders (envFrom); the webhook, the policies and the
     * Roles were rendered from the same values. For every profile, what the enforcer reads (its Rules, annotation names,
     * audit mode, targets) is what the objects say: opt-in label, excluded namespaces, enroll key, annotation prefix,
     * ServiceAccount, Role namespaces and names, no enrolling policy in audit mode.
     */
    @Test
    void theObjectsFollowTheConfigurationTheEnforcerReads() throws Exception {
        for (String profile : PROFILES.keySet()) {
            List<ObjectNode> docs = render(profile);
            EnforcerConfig config = Chart.config(docs);
            Rules rules = Rules.from(config);
            Map<String, ObjectNode> objects = Helm.byKey(docs);
            JsonNode hook = objects.get("MutatingWebhookConfiguration//zeebe-ambient-enforcer").path("webhooks").path(0);
            assertEquals(rules.optInValue(), hook.path("namespaceSelector").path("matchLabels").path(rules.optInKey()).asText(null),
                    profile + ": the webhook's opt-in label is the enforcer's");
            List<String> excluded = new ArrayList<>();
            hook.path("namespaceSelector").path("matchExpressions").path(0).path("values").forEach(v -> excluded.add(v.asText()));
            assertEquals(new java.util.TreeSet<>(rules.excludedNamespaces()), new java.util.TreeSet<>(excluded),
                    profile + ": the webhook skips exactly the namespaces the enforcer excludes");
            assertTrue(excluded.containsAll(List.of("kube-system", "kube-public", "kube-node-lease", config.bootstrap().istioNamespace(), NS)),
                    profile + ": system namespaces always excluded: " + excluded);
            String condition = hook.path("matchConditions").path(0).path("expression").asText();
            assertTrue(condition.contains("'" + rules.enrollKey() + "' in object.metadata.labels"), profile + ": enroll key in " + condition);
            JsonNode podPatches = objects.get("ValidatingAdmissionPolicy//zeebe-ambient-enforcer-pod-patches").path("spec");
            assertEquals("request.userInfo.username == 'system:serviceaccount:" + NS + ":zeebe-ambient-enforcer'",
                    podPatches.path("matchConditions").path(0).path("expression").asText());
            String prefix = config.reasonAnnotation().substring(0, config.reasonAnnotation().indexOf('/') + 1);
            assertTrue(podPatches.toString().contains("k.startsWith('" + prefix + "')"), profile + ": the enforcer's annotation prefix");
            java.util.Set<String> roleNamespaces = new java.util.TreeSet<>();
            for (ObjectNode d : docs) {
                if (d.path("kind").asText().equals("Role") && d.path("metadata").path("name").asText().equals("zeebe-ambient-enforcer-bootstrap")) {
                    roleNamespaces.add(d.path("metadata").path("namespace").asText());
                    assertTrue(d.path("rules").path(0).path("resourceNames").toString().contains(
                            "\"" + config.targets().stream().filter(t -> t.namespace().equals(d.path("metadata").path("namespace").asText()))
                                    .findFirst().orElseThrow().name() + "\""), profile + ": the Role names the target's Service");
                }
            }
            assertEquals(config.targets().stream().map(dev.zeebeambient.enforcer.detection.Target::namespace)
                    .collect(java.util.stream.Collectors.toCollection(java.util.TreeSet::new)), roleNamespaces, profile);
            ObjectNode map = objects.get("MutatingAdmissionPolicy//" + InstallNames.ENROLL_POLICY);
            if (config.audit()) {
                assertTrue(map == null, profile + ": audit mode (as the enforcer reads it) with an enrolling policy");
            }
            if (map != null) {
                String mutation = map.path("spec").path("mutations").toString();
                String by = prefix + dev.zeebeambient.enforcer.enrollment.Enrollment.ORIGIN_NAME;
                assertTrue(mutation.contains(config.reasonAnnotation()) && mutation.contains(by), profile + ": the policy writes the enforcer's annotations");
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

    /**
     * The chart's defaults are the enforcer's (EnforcerConfig's @WithDefault): a default changed in one place only fails
     * here. Compared as the drift report compares an installed object's settings with the running configuration.
     */
    @Test
    void theChartsDefaultsAreTheEnforcersDefaults() throws Exception {
        List<ObjectNode> docs = render("defaults");
        Map<String, String> data = Chart.configMap(docs);
        EnforcerConfig defaults = dev.zeebeambient.enforcer.testsupport.TestConfig.with(Map.of("enforcer.own-namespace", NS));
        assertEquals(List.of(), InstalledConfiguration.compare("the chart's ConfigMap", data, defaults));
        assertTrue(data.keySet().containsAll(List.of("ENFORCER_TARGETS", "ENFORCER_NAMESPACE_OPT_IN_LABEL", "ENFORCER_EXCLUDED_NAMESPACES",
                "ENFORCER_POD_ENROLL_KEY", "ENFORCER_REASON_ANNOTATION", "ENFORCER_CLUSTER_DOMAIN", "ENFORCER_AUDIT")), data.toString());
        EnforcerConfig read = Chart.config(docs);
        assertEquals(defaults.bootstrap().enabled(), read.bootstrap().enabled());
        assertEquals(defaults.bootstrap().waypointName(), read.bootstrap().waypointName());
        assertEquals(defaults.bootstrap().istioNamespace(), read.bootstrap().istioNamespace());
        assertEquals(defaults.bootstrap().bindChartService(), read.bootstrap().bindChartService());
        assertEquals(defaults.bootstrap().waypointDefaults().enabled(), read.bootstrap().waypointDefaults().enabled());
        assertEquals(defaults.bootstrap().waypointDefaults().name(), read.bootstrap().waypointDefaults().name());
        assertEquals(defaults.detection().readSecrets(), read.detection().readSecrets());
        assertEquals(defaults.backstop().restartWorkloads(), read.backstop().restartWorkloads());
    }

    /** One rule: for each value, the chart refuses to render exactly when the enforcer refuses to start. */
    @Test
    void theChartAndTheEnforcerRefuseTheSameValues() throws Exception {
        String longName = "x".repeat(64);
        Map<String[], Boolean> cases = new LinkedHashMap<>();
        for (String target : List.of("camunda/gw-grpc:26500", "Camunda/GW-grpc:26500", "camunda/gw-grpc:65535", "camunda/gw-grpc:99999",
                "camunda/gw-grpc:0", "camunda/gw-grpc", "camunda-gw-grpc:26500", "camunda/gw_grpc:26500", "-camunda/gw:1")) {
            cases.put(new String[] {"enforcer.targets", "targets", target}, null);
        }
        for (String key : List.of("example.io/why", "why", "example.io/", "Example.io/why", "example.io/Why_1", "a.b.c/x", "example.io/" + longName,
                "example.io/-x", "/why")) {
            cases.put(new String[] {"enforcer.reason-annotation", "reasonAnnotation", key}, null);
            cases.put(new String[] {"enforcer.pod-enroll-key", "podEnrollKey", key}, null);
        }
        List<String> disagree = new ArrayList<>();
        int refused = 0;
        for (String[] c : cases.keySet()) {
            boolean java;
            try {
                java = dev.zeebeambient.enforcer.config.ConfigRules.problems(dev.zeebeambient.enforcer.testsupport.TestConfig.with(
                        Map.of(c[0], c[2]))).isEmpty();
            } catch (RuntimeException e) {
                java = false;
            }
            String set = c[1].equals("targets") ? "enforcer.targets={" + c[2] + "}" : "enforcer." + c[1] + "=" + c[2];
            Helm.Result r = Helm.run(Map.of(), List.of("template", "x", Helm.CHART.toString(), "-n", NS, "--set-string", set));
            boolean chart = r.exit() == 0;
            refused += chart ? 0 : 1;
            if (java != chart) {
                disagree.add(c[0] + "=" + c[2] + ": enforcer " + (java ? "accepts" : "refuses") + ", chart " + (chart ? "accepts" : "refuses: " + r.output().trim()));
            }
        }
        assertEquals(List.of(), disagree);
        assertTrue(refused >= 10, "refused: " + refused);
    }

    /** Under an umbrella chart (Camunda's): global is accepted and global.imageRegistry prefixes the image. */
    @Test
    void globalValuesOfAnUmbrellaChartAreAccepted() throws Exception {
        List<String> images = new ArrayList<>();
        for (ObjectNode d : render("as-a-subchart")) {
            d.findValues("image").forEach(i -> images.add(i.asText()));
        }
        assertTrue(!images.isEmpty() && images.stream().allMatch(i -> i.startsWith("registry.example.com/platform/zeebe-ambient-enforcer:")),
                images.toString());
    }

    /**
     * As the anchors write charts: a NetworkPolicy (off by default), topologySpreadConstraints, pull secrets (own and the
     * umbrella chart's), extraObjects rendered with tpl, security contexts as values (OpenShift: no fixed UID when told),
     * the component label, prometheus.io annotations only without a ServiceMonitor.
     */
    @Test
    void theChartOffersWhatComparableChartsOffer() throws Exception {
        Map<String, ObjectNode> defaults = Helm.byKey(render("defaults"));
        Map<String, ObjectNode> c = Helm.byKey(render("conventions"));
        assertFalse(defaults.keySet().stream().anyMatch(k -> k.startsWith("NetworkPolicy/")), "no NetworkPolicy by default");
        JsonNode np = c.get("NetworkPolicy/" + NS + "/zeebe-ambient-enforcer").path("spec");
        assertEquals(8443, np.path("ingress").path(0).path("ports").path(0).path("port").asInt(), np.toString());
        assertEquals(9000, np.path("ingress").path(1).path("ports").path(0).path("port").asInt(), np.toString());
        assertEquals("10.0.0.1/32", np.path("egress").path(0).path("to").path(0).path("ipBlock").path("cidr").asText(), np.toString());
        JsonNode pod = c.get("Deployment/" + NS + "/zeebe-ambient-enforcer").path("spec").path("template");
        assertEquals("topology.kubernetes.io/zone", pod.path("spec").path("topologySpreadConstraints").path(0).path("topologyKey").asText());
        assertEquals("[{\"name\":\"own-pull\"},{\"name\":\"umbrella-pull\"}]", pod.path("spec").path("imagePullSecrets").toString());
        assertTrue(c.containsKey("ConfigMap/" + NS + "/extra-zeebe-ambient-enforcer") || c.containsKey("ConfigMap//extra-zeebe-ambient-enforcer"),
                "extraObjects, rendered with tpl: " + c.keySet());
        assertFalse(pod.path("metadata").path("annotations").has("prometheus.io/scrape"), "scraped by the ServiceMonitor only");
        JsonNode defaultPod = defaults.get("Deployment/" + NS + "/zeebe-ambient-enforcer").path("spec").path("template");
        assertEquals("true", defaultPod.path("metadata").path("annotations").path("prometheus.io/scrape").asText());
        assertEquals(185, defaultPod.path("spec").path("securityContext").path("runAsUser").asInt(), "defaults unchanged");
        assertEquals(185, defaultPod.path("spec").path("containers").path(0).path("securityContext").path("runAsUser").asInt());
        assertFalse(pod.path("spec").path("securityContext").has("runAsUser") || pod.path("spec").path("securityContext").has("fsGroup")
                || pod.path("spec").path("containers").path(0).path("securityContext").has("runAsUser"), "OpenShift: no fixed UID when told");
        assertTrue(pod.path("spec").path("containers").path(0).path("securityContext").path("runAsNonRoot").asBoolean());
        assertEquals("admission-webhook", c.get("Deployment/" + NS + "/zeebe-ambient-enforcer").path("metadata").path("labels")
                .path("app.kubernetes.io/component").asText());
        assertFalse(pod.path("spec").toString().contains("app.kubernetes.io/component") && c.get("Deployment/" + NS + "/zeebe-ambient-enforcer")
                .path("spec").path("selector").toString().contains("component"), "the selector is unchanged (immutable on upgrade)");
    }

    /** excludedNamespaces only adds: the system namespaces, Istio's and the release's stay excluded, in every selector and policy. */
    @Test
    void excludedNamespacesOnlyAdd() throws Exception {
        List<ObjectNode> docs = Helm.documents(Helm.template("zeebe-ambient-enforcer", NS, List.of("--set", "enforcer.excludedNamespaces={legacy}",
                "--set", "enforcer.enrollPolicy=true")));
        List<String> expected = List.of("istio-system", "kube-node-lease", "kube-public", "kube-system", "legacy", NS);
        int selectors = 0;
        for (ObjectNode d : docs) {
            for (JsonNode sel : d.findValues("namespaceSelector")) {
                List<String> values = new ArrayList<>();
                sel.path("matchExpressions").path(0).path("values").forEach(v -> values.add(v.asText()));
                assertEquals(expected, values, Helm.key(d));
                selectors++;
            }
        }
        assertTrue(selectors >= 3, "the webhook and the policy bindings: " + selectors);
        assertEquals(new java.util.TreeSet<>(expected), new java.util.TreeSet<>(Rules.from(Chart.config(docs)).excludedNamespaces()),
                "and the enforcer reads the same");
        String podPatches = Helm.byKey(docs).get("ValidatingAdmissionPolicy//zeebe-ambient-enforcer-pod-patches").toString();
        assertTrue(podPatches.contains("['istio-system', 'kube-node-lease', 'kube-public', 'kube-system', 'legacy', '" + NS + "']"), podPatches);
    }

    /**
     * enrollPolicy auto (the default) follows the cluster: the policy is rendered where the API server serves
     * admissionregistration.k8s.io/v1 MutatingAdmissionPolicy and is 1.36+, and NOTES say which path decides pods.
     */
    @Test
    void theEnrollPolicyFollowsTheCluster() throws Exception {
        String map = "admissionregistration.k8s.io/v1/MutatingAdmissionPolicy";
        assertFalse(hasEnrollPolicy(List.of()), "offline, helm's own API list has no MutatingAdmissionPolicy: the webhook decides");
        assertTrue(hasEnrollPolicy(List.of("--api-versions", map)), "an API server that serves it (1.37)");
        assertFalse(hasEnrollPolicy(List.of("--api-versions", map, "--kube-version", "1.34.4")), "1.34");
        assertTrue(hasEnrollPolicy(List.of("--set", "enforcer.enrollPolicy=true")), "true: always");
        assertFalse(hasEnrollPolicy(List.of("--api-versions", map, "--set", "enforcer.enrollPolicy=false")), "false: never");
        // NOTES, against the suite's API server (its discovery serves the kind)
        StubCrds.install(KubeTestCluster.get().client()); // cert-manager's kinds, for the default TLS mode
        Map<String, String> kubeconfig = Map.of("KUBECONFIG", KubeTestCluster.get().kubeconfig().toAbsolutePath().toString());
        Helm.Result current = Helm.run(kubeconfig, List.of("install", "notes", Helm.CHART.toString(), "-n", NS, "--dry-run=server",
                "--take-ownership")); // other tests' installs of the base own the names; a dry run changes nothing
        assertEquals(0, current.exit(), current.output());
        assertTrue(current.output().contains("Admission path: the enroll policy (MutatingAdmissionPolicy) enrolls"), current.output());
        Helm.Result off = Helm.run(kubeconfig, List.of("install", "notes", Helm.CHART.toString(), "-n", NS, "--dry-run=server",
                "--take-ownership", "--set", "enforcer.enrollPolicy=false"));
        assertEquals(0, off.exit(), off.output());
        assertTrue(off.output().contains("Admission path: the webhook decides every pod (the enroll policy is off)"), off.output());
    }

    private static boolean hasEnrollPolicy(List<String> args) throws Exception {
        return Helm.template("zeebe-ambient-enforcer", NS, args).contains("kind: MutatingAdmissionPolicy\n");
    }

    @Test
    void theCamundaExampleDerivesTheTargetFromAnotherReleaseName() throws Exception {
        EnforcerConfig c = Chart.config(render("camunda-example"));
        assertEquals("c8-prod/c8-zeebe-gateway-grpc:26500", c.targets().get(0).toString());
        assertEquals("c8-zeebe-gateway", c.chartServiceName(c.targets().get(0)));
        assertTrue(c.bootstrap().bindChartService());
        String yaml = Helm.template("zeebe-ambient-enforcer", NS, PROFILES.get("camunda-example"));
        assertFalse(yaml.contains("camunda-zeebe-gateway"), "nothing of the default release name is left");
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
        bad.put(List.of("--set", "enforcer.targets={camunda/gateway}"), "enforcer.targets: \"camunda/gateway\" is not <namespace>/<service>:<port>");
        // the drift cases: one rule, in the chart as in the enforcer
        bad.put(List.of("--set", "enforcer.targets={camunda/gw-grpc:99999}"), "enforcer.targets: \"camunda/gw-grpc:99999\" is not <namespace>/<service>:<port> with port 1..65535");
        bad.put(List.of("--set", "enforcer.targets={camunda/gw-grpc:0}"), "with port 1..65535");
        bad.put(List.of("--set", "enforcer.knownGatewayServices={legacy/zeebe}"), "enforcer.knownGatewayServices: \"legacy/zeebe\"");
        bad.put(List.of("--set", "enforcer.reasonAnnotation=zeebe-enrolled-because"),
                "enforcer.reasonAnnotation: \"zeebe-enrolled-because\" is not a key with a prefix");
        bad.put(List.of("--set", "enforcer.podEnrollKey=enroll"), "enforcer.podEnrollKey: \"enroll\" is not a key with a prefix");
        bad.put(List.of("--set", "extraEnv[0].name=ENFORCER_AUDIT", "--set-string", "extraEnv[0].value=true"),
                "extraEnv: ENFORCER_AUDIT is rendered by the chart (the admission objects are rendered from the same value); set enforcer.mode instead");
        bad.put(List.of("--set", "extraEnv[0].name=ENFORCER_EXCLUDED_NAMESPACES", "--set", "extraEnv[0].value=legacy"),
                "set enforcer.excludedNamespaces instead");
        bad.put(List.of("--set", "extraEnv[0].name=enforcer.pod-enroll-key", "--set", "extraEnv[0].value=x.io/y"),
                "set enforcer.podEnrollKey instead");
        bad.put(List.of("--set", "extraEnv[0].name=ENFORCER_TARGETS", "--set", "extraEnv[0].value=a/b:1"), "set enforcer.targets");
        bad.put(List.of("--set", "enforcer.enrollPolicy=maybe"), "/enforcer/enrollPolicy");
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

    @SuppressWarnings("unused")
    private static String keys(Map<String, ?> m) {
        return m.keySet().stream().collect(Collectors.joining("\n"));
    }

    /**
     * enforcer.camundaRelease names the gateway Service exactly as Camunda's chart does (its helpers, copied verbatim from
     * camunda-platform 8.8-8.10 into src/test/resources/camunda-helper, rendered by the same helm): the chart's Service is
     * what bindChartService binds, the target is that name + "-grpc".
     */
    @Test
    void camundaReleaseNamesTheGatewayAsCamundasHelperDoes() throws Exception {
        record Case(String release, String nameOverride, String fullnameOverride) {
        }
        for (Case c : List.of(new Case("camunda", "", ""), new Case("my-zeebe", "", ""), new Case("prod-camunda-platform", "", ""),
                new Case("zeebe", "", ""), new Case("c8-zeebe-prod", "", ""), new Case("x", "", "foo"), new Case("x", "core", ""),
                new Case("core-x", "core", ""), new Case("a".repeat(50) + "-x", "", ""))) {
            List<String> camundaArgs = new java.util.ArrayList<>(List.of("template", c.release(), Path.of("src", "test", "resources",
                    "camunda-helper").toString()));
            List<String> ours = new java.util.ArrayList<>(List.of("--set", "enforcer.camundaRelease.name=" + c.release(),
                    "--set", "enforcer.camundaRelease.namespace=c8", "--show-only", "templates/configmap.yaml"));
            if (!c.nameOverride().isEmpty()) {
                camundaArgs.addAll(List.of("--set", "orchestration.nameOverride=" + c.nameOverride()));
                ours.addAll(List.of("--set", "enforcer.camundaRelease.nameOverride=" + c.nameOverride()));
            }
            if (!c.fullnameOverride().isEmpty()) {
                camundaArgs.addAll(List.of("--set", "orchestration.fullnameOverride=" + c.fullnameOverride()));
                ours.addAll(List.of("--set", "enforcer.camundaRelease.fullnameOverride=" + c.fullnameOverride()));
            }
            Helm.Result camunda = Helm.run(Map.of(), camundaArgs);
            assertEquals(0, camunda.exit(), camunda.output());
            String gateway = camunda.output().lines().filter(l -> l.startsWith("gateway: ")).findFirst().orElseThrow().substring(9).trim();
            String data = Helm.template("zeebe-ambient-enforcer", NS, ours);
            var target = java.util.regex.Pattern.compile("ENFORCER_TARGETS: \"c8/([^:]+):26500\"").matcher(data);
            assertTrue(target.find(), data);
            assertEquals(gateway + "-grpc", target.group(1), c + ": Camunda's Service is " + gateway);
        }
    }
}
