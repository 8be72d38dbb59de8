package dev.zeebeambient.enforcer.decision;

import dev.zeebeambient.enforcer.detection.ResolvedSources;
import dev.zeebeambient.enforcer.install.InstallNames;
import dev.zeebeambient.enforcer.bench.SystemBenchmark;
import dev.zeebeambient.enforcer.testsupport.EnrollPolicies;
import dev.zeebeambient.enforcer.testsupport.Eventually;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import dev.zeebeambient.enforcer.testsupport.TestConfig;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The in-API-server enrollment ({@code webhook-config/components/enroll-policy}, a
 * MutatingAdmissionPolicy) evaluated by the real kube-apiserver: generated from the configuration,
 * it never enrolls a pod the enforcer would not (every test pod, every address form and look-alike),
 * enrolls every literal env address form, and enrolls clients while the enforcer is down.
 */
class EnrollPolicyTest {

    static final Path SHIPPED = EnrollPolicies.SHIPPED;
    static final String NS = "enroll-policy-apps";
    static final Map<String, String> OPTED_IN = Map.of("zeebe-ambient-enforcer.io/enabled", "true");
    static final String MODE = "istio.io/dataplane-mode";
    static final String BY = "zeebe-ambient-enforcer.io/enrolled-by";
    static final String REASON = "zeebe-ambient-enforcer.io/enrolled-because";

    static KubeTestCluster cluster;
    static KubernetesClient admin;

    static List<HasMetadata> install(String yaml) {
        return EnrollPolicies.install(yaml);
    }

    @BeforeAll
    static void installThePolicy() throws Exception {
        cluster = KubeTestCluster.get();
        admin = cluster.client();
        cluster.namespace(NS, OPTED_IN);
        EnrollPolicies.installShipped(NS);
    }

    @AfterAll
    static void removeThePolicy() {
        EnrollPolicies.remove(NS); // other tests expect the webhook to decide every pod
    }

    static Pod client(String name, String env, String value) {
        return new PodBuilder().withNewMetadata().withName(name).endMetadata().withNewSpec().addNewContainer().withName("app")
                .withImage("app:1").addNewEnv().withName(env).withValue(value).endEnv().endContainer().endSpec().build();
    }

    static Pod dryRun(Pod p) {
        return admin.pods().inNamespace(NS).resource(p).dryRun().create();
    }

    static Map<String, String> labels(Pod p) {
        return p.getMetadata().getLabels() == null ? Map.of() : p.getMetadata().getLabels();
    }

    static Map<String, String> annotations(Pod p) {
        return p.getMetadata().getAnnotations() == null ? Map.of() : p.getMetadata().getAnnotations();
    }

    static Decision decide(Pod p) {
        return new EnrollmentDecider(TestConfig.rules()).decide(new PodContext(p, NS, OPTED_IN, Map.of(), ResolvedSources.NONE,
                List.of()));
    }

    /** The shipped component is the chart's rendering of the default values (InstallFilesTest keeps it so; compared here as objects). */
    @Test
    void theShippedPolicyIsTheChartsForTheDefaults() throws Exception {
        assertEquals(dev.zeebeambient.enforcer.testsupport.Helm.byKey(dev.zeebeambient.enforcer.testsupport.Helm.documents(
                dev.zeebeambient.enforcer.testsupport.Chart.enrollPolicy())).keySet(),
                dev.zeebeambient.enforcer.testsupport.Helm.byKey(dev.zeebeambient.enforcer.testsupport.Helm.documents(Files.readString(SHIPPED)))
                        .keySet());
    }

    static String kubectlCreate(String ns, String yaml) throws Exception {
        Process kubectl = new ProcessBuilder(cluster.kubectl().toString(), "--kubeconfig", cluster.kubeconfig().toString(),
                "create", "-n", ns, "-f", "-").start();
        kubectl.getOutputStream().write(yaml.getBytes(StandardCharsets.UTF_8));
        kubectl.getOutputStream().close();
        String stderr = new String(kubectl.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(kubectl.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(0, kubectl.exitValue(), stderr);
        return stderr;
    }

    /** A pod as a kubectl user writes it: name, one env variable and its value. */
    static final String POD = """
            apiVersion: v1
            kind: Pod
            metadata:
              name: %s
            spec:
              containers:
              - name: worker
                image: example/worker:1
                env:
                - name: %s
                  value: %s
            """;

    /**
     * kubectl's stderr for creating {@code yaml} (pod {@code name}, recreated until then), once the API server applies
     * the warning policy {@code policy} (it loads policies asynchronously; a webhook an earlier test class left
     * registered may add its own lines).
     */
    static String createUntilWarned(String name, String yaml, String policy) {
        String[] stderr = {""};
        Eventually.await(() -> {
            try {
                admin.pods().inNamespace(NS).withName(name).delete();
                Eventually.await(() -> admin.pods().inNamespace(NS).withName(name).get() == null, 15, "deleted");
                stderr[0] = kubectlCreate(NS, yaml);
                return stderr[0].contains("ValidatingAdmissionPolicy '" + policy + "'");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, 30, policy + " in force");
        return stderr[0];
    }

    /** A kubectl user creating a pod the policy enrolled sees why, in one line of at most 119 characters, with no webhook call. */
    @Test
    void kubectlShowsWhyThePolicyEnrolledAPod() throws Exception {
        String[] stderr = {createUntilWarned("kubectl-worker", POD.formatted("kubectl-worker", "ZEEBE_GRPC_ADDRESS",
                "grpc://camunda-zeebe-gateway-grpc.camunda.svc:26500"), InstallNames.ENROLL_WARNING)};
        // the API server puts "Validation failed for ValidatingAdmissionPolicy '<name>' with binding '<name>': " in front
        String ours = "zeebe-ambient-enforcer: enrolled in ambient: ";
        assertTrue(stderr[0].contains("Warning: Validation failed for ValidatingAdmissionPolicy '" + InstallNames.ENROLL_WARNING + "'"), stderr[0]);
        assertTrue(stderr[0].contains(ours + "env ZEEBE_GRPC_ADDRESS -> camunda/camunda-zeebe-gateway-grpc:26500"), stderr[0]);
        String longName = "A_VERY_LONG_SETTING_NAME_" + "X".repeat(300);
        String longStderr = kubectlCreate(NS, POD.formatted("kubectl-long", longName, "grpc://camunda-zeebe-gateway-grpc.camunda.svc:26500"));
        String warning = longStderr.lines().filter(l -> l.contains(ours)).findFirst().orElseThrow();
        String message = warning.substring(warning.indexOf(ours));
        assertEquals(119, message.length(), warning);
        assertTrue(message.endsWith("..."), warning);
    }

    /**
     * The base (and so every overlay) works on 1.30-1.35: it has none of the policy's objects; {@code components/enroll-policy}
     * (1.36+) adds exactly the policy, its binding and the warning policies, the API server accepts them, and everything
     * else stays as it was.
     */
    @Test
    void theBaseLeavesThePolicyToTheComponent() throws Exception {
        List<HasMetadata> base = cluster.render("overlays/cert-manager");
        assertEquals(List.of(), base.stream().filter(o -> o.getMetadata().getName().startsWith(InstallNames.ENROLL_POLICY)).toList());
        Path dir = Path.of("target", "enroll-policy-kustomization");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("kustomization.yaml"), """
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                resources: [../../webhook-config/overlays/cert-manager]
                components: [../../webhook-config/components/enroll-policy]
                """);
        List<HasMetadata> with = cluster.render(dir);
        List<String> ours = with.stream().filter(o -> o.getMetadata().getName().startsWith(InstallNames.ENROLL_POLICY))
                .map(o -> o.getKind() + " " + o.getMetadata().getName()).sorted().toList();
        assertEquals(List.of("MutatingAdmissionPolicy " + InstallNames.ENROLL_POLICY, "MutatingAdmissionPolicy " + InstallNames.ENROLL_POLICY + "-retract",
                "MutatingAdmissionPolicyBinding " + InstallNames.ENROLL_POLICY, "MutatingAdmissionPolicyBinding " + InstallNames.ENROLL_POLICY + "-retract",
                "ValidatingAdmissionPolicy " + InstallNames.BYPASS_WARNING, "ValidatingAdmissionPolicy " + InstallNames.ENROLL_WARNING,
                "ValidatingAdmissionPolicyBinding " + InstallNames.BYPASS_WARNING, "ValidatingAdmissionPolicyBinding " + InstallNames.ENROLL_WARNING),
                ours);
        for (HasMetadata o : with) {
            if (o.getMetadata().getName().startsWith(InstallNames.ENROLL_POLICY)) {
                assertEquals(o.getMetadata().getName(), admin.resource(o).dryRun().fieldManager("enforcer-tests").forceConflicts()
                        .serverSideApply().getMetadata().getName());
            }
        }
        List<HasMetadata> rest = with.stream().filter(o -> !o.getMetadata().getName().startsWith(InstallNames.ENROLL_POLICY)).toList();
        assertEquals(base, rest, "everything else unchanged");
    }

    /**
     * A literal client of the chart's own Service is told it bypasses the waypoint, and what to use instead, by the
     * API server (no webhook registered for this namespace); with bind-chart-service (its clients are enrolled then)
     * the chart leaves that warning out.
     */
    @Test
    void aChartServiceClientIsToldItBypassesTheWaypoint() throws Exception {
        String ours = "zeebe-ambient-enforcer: bypasses the waypoint (no per-request balancing): camunda-zeebe-gateway.camunda:26500; "
                + "point it at camunda-zeebe-gateway-grpc.camunda:26500";
        String[] stderr = {createUntilWarned("chart-client", POD.formatted("chart-client", "ZEEBE_ADDRESS",
                "http://camunda-zeebe-gateway.camunda.svc:26500"), InstallNames.BYPASS_WARNING)};
        assertTrue(stderr[0].contains("ValidatingAdmissionPolicy '" + InstallNames.BYPASS_WARNING + "'"), stderr[0]);
        assertTrue(stderr[0].contains(ours), stderr[0]);
        assertNull(labels(admin.pods().inNamespace(NS).withName("chart-client").get()).get(MODE), "not enrolled");
        // not for a target's client, nor for an address in the chart Service's look-alikes
        for (String[] other : new String[][] {{"target-client", "camunda-zeebe-gateway-grpc.camunda:26500"},
                {"other-port", "camunda-zeebe-gateway.camunda:9600"}, {"other-ns", "camunda-zeebe-gateway.other:26500"}}) {
            String out = kubectlCreate(NS, POD.formatted(other[0], "ZEEBE_ADDRESS", other[1]));
            assertTrue(!out.contains(InstallNames.BYPASS_WARNING), other[1] + ": " + out);
        }

        // in a sidecar-injected namespace the sidecar balances per request: no such warning
        String injected = "enroll-policy-injected";
        Map<String, String> injectedLabels = new java.util.HashMap<>(OPTED_IN);
        injectedLabels.put("istio-injection", "enabled");
        cluster.namespace(injected, injectedLabels);
        String out = kubectlCreate(injected, POD.formatted("chart-client", "ZEEBE_ADDRESS", "camunda-zeebe-gateway.camunda:26500"));
        assertTrue(!out.contains(InstallNames.BYPASS_WARNING), out);

        String rendered = dev.zeebeambient.enforcer.testsupport.Chart.enrollPolicy("--set", "enforcer.bootstrap.bindChartService=true");
        assertTrue(!rendered.contains(InstallNames.BYPASS_WARNING), "bind-chart-service: no bypass warning rendered");
        assertTrue(rendered.contains(InstallNames.ENROLL_WARNING), "the rest of the enroll policy is rendered");
    }

    /** The corpus (src/test/resources/corpus): every pod shape the tests know, every address form and look-alike. */
    static Map<String, Pod> corpus() {
        return dev.zeebeambient.enforcer.testsupport.Corpus.pods();
    }

    /**
     * Through the real API server: the policy never enrolls a pod the enforcer would not (0 false
     * positives), enrolls every literal env form the enforcer enrolls, with the webhook's reason, and
     * reports how much of the enforcer's enrollments in the corpus it covers.
     */
    @Test
    void thePolicyEnrollsOnlyWhatTheEnforcerWouldAndEveryLiteralEnvForm() throws Exception {
        List<String> falsePositives = new ArrayList<>();
        List<String> missedLiterals = new ArrayList<>();
        List<String> otherReason = new ArrayList<>();
        java.util.Set<String> enrolledByPolicy = new java.util.HashSet<>();
        int enforcerEnrolls = 0;
        int policyEnrolls = 0;
        int testPodsEnforcer = 0; // the other tests' pods (shapes, match-condition corpus): not generated around the policy
        int testPodsPolicy = 0;
        Map<String, Pod> corpus = corpus();
        for (Map.Entry<String, Pod> c : corpus.entrySet()) {
            Decision d = decide(c.getValue());
            Pod admitted = dryRun(c.getValue());
            boolean byPolicy = "policy".equals(annotations(admitted).get(BY));
            if (byPolicy) {
                enrolledByPolicy.add(c.getKey());
            }
            if (byPolicy) {
                policyEnrolls++;
                assertEquals("ambient", labels(admitted).get(MODE), c.getKey());
                if (!d.enroll()) {
                    falsePositives.add(c.getKey() + " (" + d.reason().tag() + ")");
                } else if (d.evidence().map(e -> e.source().startsWith("env ") && !e.source().contains(" contains ")).orElse(false)
                        && !d.detail().equals(annotations(admitted).get(REASON))) {
                    // an address that is a whole env value (or host/port pair): the same words as the webhook; in free text the
                    // policy names the variable, command or args and the target, not the token (CEL cannot cut it out)
                    otherReason.add(c.getKey() + ": policy '" + annotations(admitted).get(REASON) + "', enforcer '" + d.detail() + "'");
                }
            }
            boolean testPod = c.getKey().startsWith("shape ") || c.getKey().startsWith("match-condition ");
            if (d.enroll() && testPod) {
                testPodsEnforcer++;
                testPodsPolicy += byPolicy ? 1 : 0;
            }
            if (d.enroll()) {
                enforcerEnrolls++;
                boolean literalEnv = (c.getKey().startsWith("env ") || c.getKey().startsWith("pair ")) && d.evidence()
                        .map(e -> e.source().startsWith("env ") && !e.source().contains(" contains ")).orElse(false);
                if (literalEnv && !byPolicy) {
                    missedLiterals.add(c.getKey());
                }
            }
        }
        System.out.printf("enroll policy parity: %d pods, the enforcer enrolls %d, the policy %d (%.0f%% of the enforcer's; of the "
                + "other tests' pods %d of %d), false positives %d, literal env forms missed %d, other reason %d%n", corpus.size(),
                enforcerEnrolls, policyEnrolls, 100.0 * policyEnrolls / enforcerEnrolls, testPodsPolicy, testPodsEnforcer,
                falsePositives.size(), missedLiterals.size(), otherReason.size());
        List<String> scanMissed = corpus.entrySet().stream().filter(c -> c.getKey().startsWith("scan ") && decide(c.getValue()).enroll())
                .map(Map.Entry::getKey).filter(k -> !enrolledByPolicy.contains(k)).toList();
        System.out.printf("enroll policy, free text: the enforcer enrolls %d scan-form pods, the policy misses %d: %s%n",
                corpus.keySet().stream().filter(k -> k.startsWith("scan ") && decide(corpus.get(k)).enroll()).count(), scanMissed.size(),
                scanMissed);
        assertEquals(List.of(), falsePositives, "the policy enrolled pods the enforcer would not");
        assertEquals(List.of(), missedLiterals, "literal env forms the enforcer enrolls and the policy does not");
        // the first evidence may differ where a pod has several (the webhook also reads ConfigMaps, args, commands)
        assertTrue(otherReason.stream().allMatch(r -> r.startsWith("shape ") || r.startsWith("match-condition ")), otherReason.toString());
        assertTrue(policyEnrolls >= 150, "policy enrollments: " + policyEnrolls);
    }

    /**
     * Property test: text assembled at random from the pieces addresses are made of (schemes, gRPC prefixes, host
     * parts in any case, ports, keys, separators, junk) as an env value under random names, a command and an args
     * word: the policy never enrolls where the enforcer does not. Seeded (the seed is printed; -Denroll-policy.seed
     * repeats a run), 400 pods per run.
     */
    @Test
    void thePolicyAgreesWithTheEnforcerOnRandomText() {
        long seed = Long.getLong("enroll-policy.seed", System.nanoTime());
        java.util.Random r = new java.util.Random(seed);
        String[] pieces = {"http://", "HTTPS://", "grpc://", "grpcs://", "zeebe://", "dns:", "DNS:", "dns:///", "dns://8.8.8.8/",
                "passthrough:///", "ftp://", "camunda-zeebe-gateway-grpc", "Camunda-Zeebe-Gateway-Grpc", "camunda-zeebe-gateway",
                ".camunda", ".CAMUNDA", ".other", ".svc", ".cluster.local", ".example.org", ".", ":26500", ":026500", ":26501", ":",
                "26500", "/", " ", "\t", ",", ";", "\"", "'", "=", "-D", "--", "key", "x", "$(A)", "$$", "{", "}", "[", "]", "0",
                "\u212A", "\u00a0", "\u000b", "\u0001"};
        String[] names = {"ZEEBE_ADDRESS", "ZEEBE_HOST", "ZEEBE_PORT", "JAVA_OPTS", "zeebe.client.broker.gateway-address", "X"};
        int enforcer = 0;
        int policy = 0;
        List<String> falsePositives = new ArrayList<>();
        int count = Integer.getInteger("enroll-policy.pods", 400);
        for (int n = 0; n < count; n++) {
            StringBuilder t = new StringBuilder();
            for (int k = 1 + r.nextInt(8); k > 0; k--) {
                t.append(pieces[r.nextInt(pieces.length)]);
            }
            if (r.nextInt(3) == 0) { // often a near-complete address, so that the interesting cases come up
                t.insert(0, pieces[r.nextInt(11)] + "camunda-zeebe-gateway-grpc.camunda" + (r.nextBoolean() ? ":26500" : ""));
            }
            String text = t.toString();
            Pod p = switch (n % 3) {
                case 0 -> client("r-" + n, names[r.nextInt(names.length)], text);
                case 1 -> new PodBuilder(client("r-" + n, "PLAIN", "x")).editSpec().editFirstContainer().withCommand("sh", "-c", text)
                        .endContainer().endSpec().build();
                default -> new PodBuilder(client("r-" + n, "PLAIN", "x")).editSpec().editFirstContainer().withArgs(text).endContainer()
                        .endSpec().build();
            };
            Decision d = decide(p);
            boolean byPolicy = "policy".equals(annotations(dryRun(p)).get(BY));
            enforcer += d.enroll() ? 1 : 0;
            policy += byPolicy ? 1 : 0;
            if (byPolicy && !d.enroll()) {
                falsePositives.add((n % 3 == 0 ? "env " + p.getSpec().getContainers().get(0).getEnv().get(0).getName() + "=" : n % 3 == 1
                        ? "command " : "args ") + text);
            }
        }
        System.out.printf("enroll policy, random text (seed %d): %d pods, the enforcer enrolls %d, the policy %d, false positives %d%n",
                seed, count, enforcer, policy, falsePositives.size());
        assertEquals(List.of(), falsePositives, "seed " + seed);
    }

    /** The enforcer down (its webhook registered, nothing answering; fail open): a literal client is still enrolled, with its reason. */
    @Test
    void aLiteralClientIsEnrolledWhileTheEnforcerIsDown() {
        String ns = "enroll-policy-down";
        cluster.namespace(ns, OPTED_IN);
        cluster.registerWebhook("enroll-policy-enforcer-down", "https://localhost:1/mutate", "Ignore", hook -> {
            hook.setName("down.zeebe-ambient-enforcer.io");
            hook.setTimeoutSeconds(2);
        });
        String hook = "down.zeebe-ambient-enforcer.io";
        try {
            // the API server picks the registration up asynchronously: wait until a pod the policy leaves to the webhook calls it
            long first = SystemBenchmark.webhookCalls(admin, hook);
            Eventually.await(() -> {
                admin.pods().inNamespace(ns).resource(client("probe", "GATEWAY", "$(HOST).camunda:26500")).dryRun().create();
                return SystemBenchmark.webhookCalls(admin, hook) > first;
            }, 30, "the API server calls the (dead) webhook");
            long before = SystemBenchmark.webhookCalls(admin, hook);
            Pod created = admin.pods().inNamespace(ns).resource(client("worker", "ZEEBE_ADDRESS",
                    "http://camunda-zeebe-gateway-grpc.camunda:26500")).create();
            assertEquals("ambient", labels(created).get(MODE));
            assertEquals("policy", annotations(created).get(BY));
            assertEquals("container app: env ZEEBE_ADDRESS -> camunda/camunda-zeebe-gateway-grpc:26500", annotations(created).get(REASON));
            assertEquals(before, SystemBenchmark.webhookCalls(admin, hook), "a literal client costs no webhook call (API server metrics)");
            // a pod whose address would need $(HOST) expanded: left to the webhook, which is down
            Pod other = admin.pods().inNamespace(ns).resource(client("web", "GATEWAY", "$(HOST).camunda:26500")).create();
            assertNull(labels(other).get(MODE), "left to the webhook: unchanged (the webhook, down, decides nothing)");
            assertEquals(before + 1, SystemBenchmark.webhookCalls(admin, hook), "a pod the policy leaves to the webhook is sent to it");
        } finally {
            cluster.deregisterWebhook("enroll-policy-enforcer-down");
        }
    }

    /** A pod near the size limits stays inside the CEL cost budget, or (failurePolicy Ignore) is admitted for the webhook to decide. */
    @Test
    void aPodNearTheSizeLimitsIsAdmitted() {
        PodBuilder b = new PodBuilder().withNewMetadata().withName("huge").endMetadata().withNewSpec().endSpec();
        for (int c = 0; c < 10; c++) {
            var container = new io.fabric8.kubernetes.api.model.ContainerBuilder().withName("c" + c).withImage("app:1")
                    .withArgs("--data=" + "x".repeat(64 * 1024 / 10));
            for (int e = 0; e < 200; e++) {
                container.addNewEnv().withName("VAR_" + e).withValue("value-" + e + "-" + "y".repeat(40)).endEnv();
            }
            if (c == 9) {
                container.addNewEnv().withName("ZEEBE_ADDRESS").withValue("camunda-zeebe-gateway-grpc.camunda:26500").endEnv();
            }
            b.editSpec().addToContainers(container.build()).endSpec();
        }
        long t0 = System.nanoTime();
        Pod admitted = dryRun(b.build());
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf("enroll policy, 10 containers x 200 env + 64 KiB args: %s in %d ms%n",
                "policy".equals(annotations(admitted).get(BY)) ? "enrolled by the policy" : "left to the webhook", ms);
        assertEquals("huge", admitted.getMetadata().getName(), "admitted");
        assertEquals("policy", annotations(admitted).get(BY), "inside the cost budget");

        // far beyond: every one of 20 x 400 values names the target (none is an address): the budget runs out, the policy is
        // skipped (failurePolicy Ignore) and the pod admitted unchanged, for the webhook to decide
        PodBuilder worst = new PodBuilder().withNewMetadata().withName("worst").endMetadata().withNewSpec().endSpec();
        for (int c = 0; c < 20; c++) {
            var container = new io.fabric8.kubernetes.api.model.ContainerBuilder().withName("c" + c).withImage("app:1");
            for (int e = 0; e < 400; e++) {
                container.addNewEnv().withName("V" + e).withValue("camunda-zeebe-gateway-grpc.camunda:" + (30000 + e) + " x").endEnv();
            }
            if (c == 19) {
                container.addNewEnv().withName("ZEEBE_ADDRESS").withValue("camunda-zeebe-gateway-grpc.camunda:26500").endEnv();
            }
            worst.editSpec().addToContainers(container.build()).endSpec();
        }
        Pod beyond = dryRun(worst.build());
        System.out.printf("enroll policy, 20 containers x 400 values naming the target: %s%n",
                "policy".equals(annotations(beyond).get(BY)) ? "enrolled by the policy" : "left to the webhook (cost budget)");
        assertEquals("worst", beyond.getMetadata().getName(), "admitted whatever the policy's cost");
        // (a webhook registered by an earlier test class may have enrolled it since: that is "left to the webhook")
        assertTrue(!"policy".equals(annotations(beyond).get(BY)), "this pod is meant to exceed the budget (make it bigger if the policy "
                + "got cheaper): the error path, failurePolicy Ignore, admits it without the policy's label");
    }

    /** Another configuration (target, opt-in label): the rendered policy follows it through the API server. */
    @Test
    void anotherConfigurationRendersAPolicyThatFollowsIt() throws Exception {
        String other = dev.zeebeambient.enforcer.testsupport.Chart.enrollPolicy("--set", "enforcer.targets={zeebe-prod/gw-grpc:26600}",
                "--set", "enforcer.namespaceOptInLabel=platform.example.com/zeebe=on");
        String ns = "enroll-policy-other";
        cluster.namespace(ns, Map.of("platform.example.com/zeebe", "on"));
        try {
            install(other);
            Eventually.await(() -> "policy".equals(annotations(admin.pods().inNamespace(ns).resource(client("p", "GW", "gw-grpc.zeebe-prod:26600"))
                    .dryRun().create()).get(BY)), 30, "the other policy in force");
            Pod p = admin.pods().inNamespace(ns).resource(client("p", "GW", "grpc://gw-grpc.zeebe-prod.svc:26600")).dryRun().create();
            assertEquals("container app: env GW (value) -> zeebe-prod/gw-grpc:26600", annotations(p).get(REASON));
            assertNull(labels(admin.pods().inNamespace(ns).resource(client("d", "ZEEBE_ADDRESS", "camunda-zeebe-gateway-grpc.camunda:26500"))
                    .dryRun().create()).get(MODE), "the default target is not this configuration's");
            assertNull(labels(admin.pods().inNamespace(NS).resource(client("q", "GW", "gw-grpc.zeebe-prod:26600")).dryRun().create())
                    .get(MODE), "a namespace with the default opt-in label is not this configuration's");
        } finally {
            install(Files.readString(SHIPPED));
        }
    }
}
