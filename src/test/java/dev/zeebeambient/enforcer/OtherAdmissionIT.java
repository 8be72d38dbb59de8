package dev.zeebeambient.enforcer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.zeebeambient.enforcer.install.InstallNames;
import dev.zeebeambient.enforcer.testsupport.FaultCluster;
import dev.zeebeambient.enforcer.testsupport.Helm;
import dev.zeebeambient.enforcer.testsupport.Istiod;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import dev.zeebeambient.enforcer.testsupport.Replica;
import dev.zeebeambient.enforcer.testsupport.StandInWebhook;
import dev.zeebeambient.enforcer.testsupport.TestConfig;
import dev.zeebeambient.enforcer.testsupport.TestPki;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static dev.zeebeambient.enforcer.FailoverIT.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The product beside other mutating admission, on the newest API server (the enroll policy served): whatever another
 * webhook does to a pod after our enrollment, the pod ends enrolled exactly when the enforcer's decider, asked about
 * the final pod (our own label and annotations taken off), says it should be; a pod that becomes a client only through
 * another webhook is enrolled at admission or by the backstop, never left out. Three paths: the enroll policy only,
 * the webhook only, both. Other admission: a stand-in webhook that opts the pod out with our key, one that sets
 * {@code istio.io/dataplane-mode=none}, one that adds the gateway address from a ConfigMap (as Vault's or config
 * injectors do), and Istio's real sidecar injector served by istiod. The table goes to target/other-admission.md.
 */
class OtherAdmissionIT {

    static final String NS = KubeTestCluster.SA_NAMESPACE;
    static final String MODE = "istio.io/dataplane-mode";
    static final String BY = "zeebe-ambient-enforcer.io/enrolled-by";
    static final String REASON = "zeebe-ambient-enforcer.io/reason";
    static final ObjectMapper JSON = new ObjectMapper();
    static FaultCluster fault;
    static KubeTestCluster cluster;
    static KubernetesClient admin;
    static Replica replica;
    static Istiod istiod;
    static MutatingWebhook ours;
    static final List<StandInWebhook> standIns = new ArrayList<>();
    static final List<String> table = new ArrayList<>();
    static final List<String> wrong = new ArrayList<>();

    @BeforeAll
    static void install() throws Exception {
        fault = new FaultCluster();
        cluster = fault.cluster();
        admin = cluster.client();
        for (String ns : List.of("camunda", "istio-system", NS)) {
            cluster.namespace(ns, Map.of());
        }
        cluster.installCrds();
        cluster.waypointGatewayClass();
        cluster.chartGatewayService();
        TestPki pki = TestPki.get();
        admin.resource(new SecretBuilder().withNewMetadata().withName("enforcer-test-tls").withNamespace(NS).endMetadata()
                .withType("kubernetes.io/tls").addToStringData("tls.crt", Files.readString(pki.cert()))
                .addToStringData("tls.key", Files.readString(pki.key())).build()).create();
        helm("install");
        Map<String, String> env = new HashMap<>(admin.configMaps().inNamespace(NS).withName(InstallNames.CONFIG_MAP).get().getData());
        env.putAll(HelmIT.containerEnv(admin.apps().deployments().inNamespace(NS).withName(InstallNames.NAME).get().getSpec().getTemplate()
                .getSpec().getContainers().get(0).getEnv()));
        replica = Replica.start("other-admission", cluster.freshServiceAccountKubeconfig(), 29643, 29644,
                Map.of("enforcer.leader-election.identity", "other-admission"), env);
        await(replica::leads, 60, "the replica leads (log:\n" + replica.log() + ")");
        cluster.namespace("oa-probe", Map.of("zeebe-ambient-enforcer.io/enabled", "true"));
        workerServiceAccount("oa-probe");
        // Istio's sidecar injector, served by istiod with the test CA's certificate so that the API server can call it
        istiod = Istiod.start(cluster.kubeconfig(), List.of("--tlsCertFile", pki.cert().toString(), "--tlsKeyFile", pki.key().toString(),
                "--caCertFile", pki.caCert().toString()));
    }

    @AfterAll
    static void stop() throws Exception {
        standIns.forEach(StandInWebhook::close);
        if (replica != null) {
            replica.close();
        }
        if (istiod != null) {
            istiod.close();
        }
        if (fault != null) {
            fault.close();
        }
        Files.createDirectories(Paths.get("target"));
        String md = "| path | other admission | final pod | decider on the final pod | as the decider says |\n|---|---|---|---|---|\n"
                + String.join("\n", table) + "\n";
        Files.writeString(Paths.get("target", "other-admission.md"), md);
        System.out.println("OtherAdmissionIT:\n" + md);
    }

    static void helm(String verb, String... more) throws Exception {
        TestPki pki = TestPki.get();
        List<String> args = new ArrayList<>(List.of(verb, "zeebe-ambient-enforcer", Helm.CHART.toString(), "-n", NS,
                "--set", "tls.mode=secret", "--set", "tls.secretName=enforcer-test-tls", "--set", "tls.caBundle=" + pki.caBundle()));
        args.addAll(List.of(more));
        Helm.Result r = Helm.run(Map.of("KUBECONFIG", cluster.kubeconfig().toAbsolutePath().toString()), args);
        assertEquals(0, r.exit(), r.output());
        ours = admin.admissionRegistration().v1().mutatingWebhookConfigurations().withName(InstallNames.NAME).get().getWebhooks().get(0);
    }

    /** The API server calls the replica as it would call the chart's webhook (its selectors, conditions and reinvocation). */
    static void routeToReplica(boolean on) throws Exception {
        if (!on) {
            cluster.deregisterWebhook("other-route");
        } else {
            cluster.registerWebhook("other-route", "https://127.0.0.1:29643/mutate", "Ignore", h -> {
                h.setNamespaceSelector(ours.getNamespaceSelector());
                h.setObjectSelector(ours.getObjectSelector());
                h.setMatchConditions(ours.getMatchConditions());
                h.setReinvocationPolicy(ours.getReinvocationPolicy());
            });
        }
        // the API server picks up webhook configurations asynchronously: wait until a dry run reaches the replica, or not
        await(() -> {
            double before = dryRunCalls();
            admin.pods().inNamespace("oa-probe").resource(new PodBuilder(noAddress("probe")).editMetadata().withNamespace("oa-probe").endMetadata()
                    .editSpec().editFirstContainer().addNewEnvFrom().withNewConfigMapRef("zeebe", false).endEnvFrom().endContainer().endSpec()
                    .build()).dryRun().create();
            return (dryRunCalls() > before) == on;
        }, 30, "the API server " + (on ? "calls" : "no longer calls") + " the replica");
    }

    /** The replica's count of dry-run admission requests answered. */
    static double dryRunCalls() {
        return replica.get("/q/metrics").getValue().lines()
                .filter(l -> l.startsWith("zeebe_ambient_admission_requests_total{") && l.contains("dry_run=\"true\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    /** Another team's webhook, for one namespace only; "zz-" sorts it after ours (and the policy runs before every webhook). */
    static void otherWebhook(String name, String namespace, String url, String caBundle, String path) {
        cluster.registerWebhook(name, url, "Fail", h -> {
            h.setName(name + ".example.io");
            h.setNamespaceSelector(new io.fabric8.kubernetes.api.model.LabelSelectorBuilder()
                    .addToMatchLabels("kubernetes.io/metadata.name", namespace).build());
            h.setObjectSelector(null);
            h.setMatchConditions(null);
            h.setReinvocationPolicy("Never");
            h.setSideEffects("None");
            h.getClientConfig().setCaBundle(caBundle);
            if (path != null) {
                h.getClientConfig().setUrl(url);
            }
        });
    }

    static Pod literalClient(String name) {
        return new PodBuilder().withNewMetadata().withName(name).endMetadata().withNewSpec().withServiceAccountName("worker")
                .addNewContainer().withName("app")
                .withImage("example/worker:1").addNewEnv().withName("ZEEBE_ADDRESS").withValue("camunda-zeebe-gateway-grpc.camunda:26500")
                .endEnv().endContainer().endSpec().build();
    }

    static Pod noAddress(String name) {
        return new PodBuilder().withNewMetadata().withName(name).endMetadata().withNewSpec().withServiceAccountName("worker")
                .addNewContainer().withName("app").withImage("example/worker:1").endContainer().endSpec().build();
    }

    /** What the decider says of the final pod with our own label and annotations taken off (the same decider, via explain). */
    static String decider(Pod finalPod) throws Exception {
        Pod stripped = new PodBuilder(finalPod).build();
        Map<String, String> labels = new HashMap<>(stripped.getMetadata().getLabels() == null ? Map.of() : stripped.getMetadata().getLabels());
        Map<String, String> annotations = new HashMap<>(stripped.getMetadata().getAnnotations() == null ? Map.of()
                : stripped.getMetadata().getAnnotations());
        if (annotations.containsKey(BY) && "ambient".equals(labels.get(MODE))) {
            labels.remove(MODE);
        }
        annotations.remove(BY);
        annotations.remove(REASON);
        stripped.getMetadata().setLabels(labels);
        stripped.getMetadata().setAnnotations(annotations);
        stripped.getMetadata().setUid(null);
        stripped.getMetadata().setResourceVersion(null);
        stripped.getMetadata().setManagedFields(null);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = dev.zeebeambient.enforcer.cli.Explain.run(List.of("-f", "-", "-n", finalPod.getMetadata().getNamespace(), "-o", "json"),
                TestConfig.defaults(), admin, new ByteArrayInputStream(admin.getKubernetesSerialization().asYaml(stripped)
                        .getBytes(StandardCharsets.UTF_8)), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, exit, err.toString(StandardCharsets.UTF_8));
        JsonNode r = JSON.readTree(out.toString(StandardCharsets.UTF_8));
        return r.path("decision").asText() + " (" + r.path("reason").asText() + ")";
    }

    /**
     * One case: a namespace of its own (opted in; labelled as {@code nsLabels} say), the other admission in front of it,
     * the pod created; then the final pod (after the backstop, if the decider says enroll and admission did not).
     */
    static void measure(String path, String id, String other, Map<String, String> nsLabels, Function<String, Runnable> register, Pod pod)
            throws Exception {
        String ns = ("oa-" + path + "-" + id).replaceAll("[^a-z0-9-]", "-");
        Map<String, String> labels = new HashMap<>(nsLabels);
        labels.put("zeebe-ambient-enforcer.io/enabled", "true");
        cluster.namespace(ns, labels);
        admin.resource(new ConfigMapBuilder().withNewMetadata().withName("zeebe").withNamespace(ns).endMetadata()
                .addToData("address", "camunda-zeebe-gateway-grpc.camunda:26500").build()).create();
        workerServiceAccount(ns);
        Runnable unregister = register.apply(ns); // returns once the API server calls the other admission
        try {
            pod.getMetadata().setNamespace(ns);
            admin.resource(pod).create();
            Pod admitted = admin.pods().inNamespace(ns).withName(pod.getMetadata().getName()).get();
            String verdict = decider(admitted);
            boolean shouldEnroll = verdict.startsWith("enroll");
            if (shouldEnroll && !"ambient".equals(label(admitted))) {
                // not enrolled at admission: the backstop's turn (it labels a running pod the webhook missed)
                await(() -> "ambient".equals(label(admin.pods().inNamespace(ns).withName(pod.getMetadata().getName()).get())), 30,
                        "the backstop enrolls " + ns + "/" + pod.getMetadata().getName());
            } else {
                Thread.sleep(3000); // and the backstop changes nothing else
            }
            Pod last = admin.pods().inNamespace(ns).withName(pod.getMetadata().getName()).get();
            String state = (label(last) == null ? "no label" : MODE + "=" + label(last))
                    + (last.getMetadata().getAnnotations() != null && last.getMetadata().getAnnotations().containsKey(BY)
                            ? ", enrolled-by=" + last.getMetadata().getAnnotations().get(BY) : "")
                    + (sidecar(last) ? ", sidecar" : "");
            boolean enrolled = "ambient".equals(label(last));
            boolean agrees = enrolled == shouldEnroll && (enrolled || !last.getMetadata().getAnnotations().containsKey(BY));
            table.add("| " + path + " | " + other + " | " + state + " | " + verdict + " | " + (agrees ? "yes" : "**no**") + " |");
            if (!agrees) {
                wrong.add(path + " / " + other + ": " + state + " but the decider says " + verdict);
            }
        } finally {
            unregister.run();
        }
    }

    /**
     * A dry-run create of a pod naming no target (and asking Istio for a sidecar): the API server picks up new webhook
     * configurations asynchronously, so a case starts once this probe shows the other admission answering. Null when a
     * webhook is not reachable yet.
     */
    static Pod dryRunProbe(String ns) {
        try {
            return admin.pods().inNamespace(ns).resource(new PodBuilder(noAddress("probe")).editMetadata().withNamespace(ns)
                    .addToLabels("sidecar.istio.io/inject", "true").endMetadata().build()).dryRun().create();
        } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
            return null;
        }
    }

    static boolean sidecar(Pod p) {
        return p.getSpec().getContainers().stream().anyMatch(c -> c.getName().equals("istio-proxy"))
                || (p.getSpec().getInitContainers() != null && p.getSpec().getInitContainers().stream().anyMatch(c -> c.getName().equals("istio-proxy")));
    }

    static String label(Pod p) {
        return p == null || p.getMetadata().getLabels() == null ? null : p.getMetadata().getLabels().get(MODE);
    }

    static Function<String, Runnable> standIn(String name, Function<JsonNode, com.fasterxml.jackson.databind.node.ArrayNode> mutation) {
        return ns -> {
            try {
                StandInWebhook w = StandInWebhook.start(mutation);
                standIns.add(w);
                otherWebhook("zz-" + name, ns, w.url(), TestPki.get().caBundle(), null);
                int before = w.calls();
                await(() -> dryRunProbe(ns) != null && w.calls() > before, 30, "the API server calls " + name + " for " + ns);
                return () -> {
                    cluster.deregisterWebhook("zz-" + name);
                    w.close();
                };
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
    }

    /** Istio's own injector webhook, as istiod's chart registers it (namespace label istio-injection=enabled). */
    static Function<String, Runnable> istioInjector() {
        return ns -> {
            otherWebhook("istio-sidecar-injector", ns, "https://127.0.0.1:" + Istiod.HTTPS_PORT + "/inject", TestPki.get().caBundle(), "/inject");
            try {
                await(() -> {
                    Pod probe = dryRunProbe(ns);
                    return probe != null && sidecar(probe);
                }, 30, "istiod injects a sidecar into a pod labelled sidecar.istio.io/inject=true in " + ns);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return () -> cluster.deregisterWebhook("istio-sidecar-injector");
        };
    }

    static void allCases(String path) throws Exception {
        String key = "zeebe-ambient-enforcer.io/enroll";
        measure(path, "optout", "later webhook opts out (" + key + "=false)", Map.of(),
                standIn("opt-out-" + path.replace('+', '-'), pod -> StandInWebhook.addLabel(pod, key, "false")), literalClient("worker"));
        measure(path, "none", "later webhook sets " + MODE + "=none", Map.of(),
                standIn("none-" + path.replace('+', '-'), pod -> StandInWebhook.addLabel(pod, MODE, "none")), literalClient("worker"));
        measure(path, "env", "later webhook adds the address from a ConfigMap", Map.of(),
                standIn("env-" + path.replace('+', '-'), pod -> StandInWebhook.addEnvFromConfigMap(pod, "ZEEBE_ADDRESS", "zeebe", "address")), noAddress("worker"));
        measure(path, "elsewhere", "later webhook points ZEEBE_ADDRESS elsewhere (zeebe.example.com:26500)", Map.of(),
                standIn("elsewhere-" + path.replace('+', '-'), pod -> StandInWebhook.replaceFirstEnv(pod, "zeebe.example.com:26500", null, null)),
                literalClient("worker"));
        measure(path, "to-configmap", "later webhook moves ZEEBE_ADDRESS into a ConfigMap reference", Map.of(),
                standIn("to-configmap-" + path.replace('+', '-'), pod -> StandInWebhook.replaceFirstEnv(pod, null, "zeebe", "address")),
                literalClient("worker"));
        measure(path, "istio-ns", "Istio sidecar injector (namespace istio-injection=enabled)", Map.of("istio-injection", "enabled"),
                istioInjector(), literalClient("worker"));
        measure(path, "istio-pod", "Istio sidecar injector (pod label sidecar.istio.io/inject=true)", Map.of(), istioInjector(),
                new PodBuilder(literalClient("worker")).editMetadata().addToLabels("sidecar.istio.io/inject", "true").endMetadata().build());
    }

    /**
     * The API server orders the enroll policy and its retract companion as its informer lists them, and calls a policy
     * again only if its conditions matched on the first pass. This case fixes the order the other way round: the enroll
     * binding is taken away and a webhook enrolls the pod exactly as the policy does, so the retract policy meets the
     * pod before its enrollment every time (with a condition that asks for "enrolled by the policy", it is never called
     * again and the opted-out pod stays enrolled).
     */
    static void retractPolicyListedFirst() throws Exception {
        var binding = admin.genericKubernetesResources("admissionregistration.k8s.io/v1", "MutatingAdmissionPolicyBinding")
                .withName(InstallNames.ENROLL_POLICY);
        var enroll = binding.get();
        binding.delete();
        await(() -> label(admin.pods().inNamespace("oa-probe").resource(new PodBuilder(literalClient("probe")).editMetadata()
                .withNamespace("oa-probe").endMetadata().build()).dryRun().create()) == null, 30, "the enroll binding is gone from the API server");
        try {
            String key = "zeebe-ambient-enforcer.io/enroll";
            measure("retract-policy-first", "optout", "a webhook enrolls as the policy does, a later one opts out (" + key + "=false)", Map.of(),
                    ns -> {
                        Runnable enrolls = standIn("aa-enroll-as-policy", pod -> {
                            var ops = StandInWebhook.addLabel(pod, MODE, "ambient");
                            ops.addAll(StandInWebhook.addAnnotations(pod, Map.of(BY, "policy", REASON, "zeebe-client")));
                            return ops;
                        }).apply(ns);
                        Runnable optsOut = standIn("opt-out-retract-first", pod -> StandInWebhook.addLabel(pod, key, "false")).apply(ns);
                        return () -> {
                            optsOut.run();
                            enrolls.run();
                        };
                    }, literalClient("worker"));
        } finally {
            enroll.getMetadata().setResourceVersion(null);
            enroll.getMetadata().setUid(null);
            enroll.getMetadata().setManagedFields(null);
            enroll.getMetadata().setCreationTimestamp(null);
            admin.resource(enroll).create();
        }
    }

    /** The pods' ServiceAccount: the injected sidecar mounts a projected token, and no controller manager makes one here. */
    static void workerServiceAccount(String ns) {
        admin.serviceAccounts().inNamespace(ns).resource(new io.fabric8.kubernetes.api.model.ServiceAccountBuilder().withNewMetadata()
                .withName("worker").endMetadata().build()).create();
    }

    /** The API server's count of the retract policy's mutations dispatched ({@code apiserver_mutating_admission_policy_check_total}). */
    static long retractCalls() {
        return admin.raw("/metrics").lines()
                .filter(l -> l.startsWith("apiserver_mutating_admission_policy_check_total{") && l.contains("policy=\"" + InstallNames.ENROLL_POLICY + "-retract\""))
                .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    /**
     * The retract policy matches, on the first pass, only the pods the enroll policy's conditions match (and those it
     * enrolled): each pod it matches costs an encode and decode of the pod in the API server, for an empty patch.
     */
    static List<String> retractPolicyCost() throws Exception {
        String ns = "oa-retract-cost";
        cluster.namespace(ns, Map.of("zeebe-ambient-enforcer.io/enabled", "true"));
        workerServiceAccount(ns);
        List<String> problems = new ArrayList<>();
        long before = retractCalls();
        for (int i = 0; i < 5; i++) {
            admin.resource(new PodBuilder(noAddress("web-" + i)).editMetadata().withNamespace(ns).endMetadata().editSpec().editFirstContainer()
                    .addNewEnv().withName("LOG_LEVEL").withValue("info").endEnv().endContainer().endSpec().build()).create();
        }
        long others = retractCalls() - before;
        if (others != 0) {
            problems.add("retract policy called " + others + " times for 5 pods that name no target");
        }
        admin.resource(new PodBuilder(literalClient("client")).editMetadata().withNamespace(ns).endMetadata().build()).create();
        long client = retractCalls() - before - others;
        if (client < 1) {
            problems.add("retract policy not called for a literal client (" + client + "): it could not be called again after a later webhook");
        }
        table.add("| policy | none (cost) | retract policy calls: " + others + " for 5 pods naming no target, " + client + " for a literal client | - | "
                + (problems.isEmpty() ? "yes" : "**no**") + " |");
        return problems;
    }

    @Test
    void theFinalPodIsEnrolledExactlyWhenTheDeciderSaysSo() throws Exception {
        // both: the enroll policy (1.36+) and the webhook
        routeToReplica(true);
        allCases("policy+webhook");
        // the enroll policy only (the webhook does not answer)
        routeToReplica(false);
        allCases("policy");
        wrong.addAll(retractPolicyCost());
        retractPolicyListedFirst();
        // the webhook only (enrollPolicy=false, as on 1.30-1.35)
        helm("upgrade", "--set", "enforcer.enrollPolicy=false");
        // the API server drops the deleted policies asynchronously: until then they would enroll (and retract) instead
        await(() -> label(admin.pods().inNamespace("oa-probe").resource(new PodBuilder(literalClient("probe")).editMetadata()
                .withNamespace("oa-probe").endMetadata().build()).dryRun().create()) == null, 30, "the enroll policy is gone from the API server");
        routeToReplica(true);
        allCases("webhook");
        // the webhook path was taken: the webhook itself took each enrollment back
        String metrics = replica.get("/q/metrics").getValue();
        for (String reason : List.of("opted-out", "dataplane-mode-none", "not-a-client")) {
            if (!metrics.contains("zeebe_ambient_admission_requests_total{decision=\"retract\",dry_run=\"false\",reason=\"" + reason + "\"}")) {
                wrong.add("webhook / the webhook never took an enrollment back for " + reason);
            }
        }
        assertTrue(wrong.isEmpty(), "final pods that disagree with the decider:\n" + String.join("\n", wrong) + "\nroute: "
                + admin.admissionRegistration().v1().mutatingWebhookConfigurations().withName("other-route").get().getWebhooks().get(0)
                .getReinvocationPolicy() + "\nmetrics:\n" + replica.get("/q/metrics").getValue().lines()
                .filter(l -> l.startsWith("zeebe_ambient_admission_requests_total")).toList());
    }
}
