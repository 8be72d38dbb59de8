package dev.zeebeambient.enforcer;

import dev.zeebeambient.enforcer.install.InstallNames;
import dev.zeebeambient.enforcer.testsupport.FaultCluster;
import dev.zeebeambient.enforcer.testsupport.Helm;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import dev.zeebeambient.enforcer.testsupport.Replica;
import dev.zeebeambient.enforcer.testsupport.StubCrds;
import dev.zeebeambient.enforcer.testsupport.TestPki;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static dev.zeebeambient.enforcer.FailoverIT.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The product on each Kubernetes minor it supports, each a real kube-apiserver built from the Go module proxy
 * ({@code src/test/kube/v1.NN}, newest: {@code src/test/kube/go.mod}) on this build's etcd: the chart installed with its
 * default values (TLS from the test CA instead of cert-manager, which is not running here), the README's kustomize
 * command for that minor (server-side dry run), two replicas of the packaged enforcer as the chart's ServiceAccount,
 * and on each: a literal client enrolled at admission (by the enroll policy where the API server serves
 * MutatingAdmissionPolicy v1, else by the webhook), a ConfigMap client enrolled by the webhook, kubectl's warning, the
 * pod-patch policy denying the ServiceAccount an image change, one leader and a takeover, the bootstrapper's
 * server-side apply, and a client admitted while no webhook answered enrolled by the backstop.
 *
 * <p>{@code -Dkube.matrix=oldest,newest} (what {@code mvn verify} runs), {@code all} ({@code src/test/kube/matrix.sh}) or
 * minors such as {@code 1.33,1.34}. Each version's results go to {@code target/kubernetes-matrix/<version>.md}.
 */
class KubernetesMatrixIT {

    static final String NS = KubeTestCluster.SA_NAMESPACE;
    static final String APPS = "matrix-apps";
    static final Path RESULTS = Paths.get("target", "kubernetes-matrix");
    static final List<String> summary = new ArrayList<>();

    /** Every minor the harness pins, oldest first: {@code src/test/kube/v1.NN/go.mod} and the newest in {@code src/test/kube/go.mod}. */
    static List<String> supported() throws IOException {
        List<String> versions = new ArrayList<>();
        Path kube = Paths.get("src", "test", "kube");
        try (Stream<Path> dirs = Files.list(kube)) {
            for (Path mod : dirs.map(d -> d.resolve("go.mod")).filter(Files::isRegularFile).toList()) {
                Matcher m = Pattern.compile("(?m)^\\s*(?:require\\s+)?k8s\\.io/kubernetes v(\\S+)").matcher(Files.readString(mod));
                if (m.find()) {
                    versions.add(m.group(1));
                }
            }
        }
        Matcher main = Pattern.compile("(?m)^\\s*k8s\\.io/kubernetes v(\\S+)").matcher(Files.readString(kube.resolve("go.mod")));
        if (main.find() && !versions.contains(main.group(1))) {
            versions.add(main.group(1));
        }
        versions.sort(Comparator.comparing(KubernetesMatrixIT::minor));
        return versions;
    }

    static int minor(String version) {
        return Integer.parseInt(version.split("\\.")[1]);
    }

    static List<String> selected() throws IOException {
        List<String> all = supported();
        String which = System.getProperty("kube.matrix", "oldest,newest").trim();
        if (which.equals("all")) {
            return all;
        }
        List<String> out = new ArrayList<>();
        for (String w : which.split(",")) {
            String v = w.trim();
            String pick = v.equals("oldest") ? all.get(0) : v.equals("newest") ? all.get(all.size() - 1)
                    : all.stream().filter(a -> a.equals(v) || a.startsWith(v + ".")).findFirst()
                            .orElseThrow(() -> new IllegalArgumentException("kube.matrix: " + v + " is none of " + all));
            if (!out.contains(pick)) {
                out.add(pick);
            }
        }
        return out;
    }

    static Path apiServer(String version) {
        String dir = System.getenv().getOrDefault("KUBE_API_TEST_DIR", Paths.get(System.getProperty("user.home"), ".kube_api_test").toString());
        Path binary = Paths.get(dir, "k8s", version + "-linux-amd64", "kube-apiserver");
        if (!Files.isExecutable(binary)) {
            throw new IllegalStateException(binary + " is missing: KUBE_MINORS=all src/test/kube/build-binaries.sh builds every minor "
                    + "(src/test/kube/matrix.sh does)");
        }
        return binary;
    }

    @TestFactory
    Stream<DynamicTest> theProductOnEachSupportedMinor() throws IOException {
        return selected().stream().flatMap(v -> Stream.of("helm", "kustomize")
                .map(path -> DynamicTest.dynamicTest("Kubernetes " + v + ", " + path, () -> new Run(v, path).all())));
    }

    @AfterAll
    static void print() {
        summary.forEach(s -> System.out.println("KubernetesMatrixIT: " + s));
    }

    /** One minor: its own API server, install, replicas and checks; each check timed and recorded. */
    static final class Run {
        final String version;
        /** helm: the chart, default values; kustomize: the README's overlay for this minor, applied server-side. */
        final String path;
        final Map<String, String> results = new LinkedHashMap<>();
        KubeTestCluster cluster;
        KubernetesClient admin;
        final List<Replica> replicas = new ArrayList<>();
        boolean policyServed;

        Run(String version, String path) {
            this.version = version;
            this.path = path;
        }

        interface Check {
            void run() throws Exception;
        }

        void check(String name, Check c) throws Exception {
            long t0 = System.nanoTime();
            try {
                c.run();
                results.put(name, "pass " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) + " ms");
            } catch (Exception | AssertionError e) {
                results.put(name, "FAIL " + e.getMessage().lines().findFirst().orElse(""));
                throw e;
            }
        }

        void all() throws Exception {
            long t0 = System.nanoTime();
            try (FaultCluster fc = new FaultCluster(apiServer(version))) {
                cluster = fc.cluster();
                admin = cluster.client();
                results.put("API server up", "pass " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) + " ms");
                assertEquals(Integer.toString(minor(version)), admin.getKubernetesVersion().getMinor().replace("+", ""), "the API server's minor");
                checks();
            } finally {
                replicas.forEach(Replica::close);
                results.put("total", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) + " ms");
                write();
            }
        }

        void write() {
            StringBuilder md = new StringBuilder("| Kubernetes " + version + ", " + path + " (" + LocalDate.now() + ") | result |\n|---|---|\n");
            results.forEach((k, v) -> md.append("| ").append(k).append(" | ").append(v).append(" |\n"));
            try {
                Files.createDirectories(RESULTS);
                Files.writeString(RESULTS.resolve(version + "-" + path + ".md"), md.toString());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            summary.add(version + " " + path + ": " + results);
        }

        Helm.Result helm(List<String> args) throws Exception {
            return Helm.run(Map.of("KUBECONFIG", cluster.kubeconfig().toAbsolutePath().toString()), args);
        }

        void checks() throws Exception {
            for (String ns : List.of("camunda", "istio-system", NS)) {
                cluster.namespace(ns, Map.of());
            }
            if (path.equals("helm")) {
                check("precheck on a cluster without the Gateway API CRDs", () -> {
                    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
                    int exit = dev.zeebeambient.enforcer.cli.Precheck.run(List.of(), dev.zeebeambient.enforcer.testsupport.TestConfig.defaults(),
                            admin, new java.io.PrintStream(out, true, StandardCharsets.UTF_8), new java.io.PrintStream(out, true, StandardCharsets.UTF_8));
                    String text = out.toString(StandardCharsets.UTF_8);
                    assertEquals(1, exit, text);
                    assertTrue(text.lines().anyMatch(l -> l.startsWith("FAIL Gateway API")), text);
                    assertTrue(text.contains("FAIL waypoint GatewayClass: istio-waypoint cannot exist without the Gateway API CRDs"), text);
                    assertTrue(!text.contains("HTTP -1"), "no library message: " + text);
                    Files.writeString(Files.createDirectories(RESULTS).resolve(version + "-precheck-empty-cluster.txt"), "$ precheck\n" + text);
                });
            }
            cluster.installCrds();
            if (!cluster.skippedCrds().isEmpty()) {
                results.put("CRDs this API server refuses (not used by the product)", String.join("; ", cluster.skippedCrds()));
            }
            cluster.waypointGatewayClass();
            cluster.chartGatewayService();
            StubCrds.install(admin); // cert-manager's kinds, for the kustomize overlay's dry run
            TestPki pki = TestPki.get();
            boolean mapServed;
            try {
                admin.genericKubernetesResources("admissionregistration.k8s.io/v1", "MutatingAdmissionPolicy").list();
                mapServed = true;
            } catch (KubernetesClientException notServed) {
                mapServed = false;
            }
            boolean served = mapServed;
            if (path.equals("helm")) {
                admin.resource(new SecretBuilder().withNewMetadata().withName("enforcer-test-tls").withNamespace(NS).endMetadata()
                        .withType("kubernetes.io/tls").addToStringData("tls.crt", Files.readString(pki.cert()))
                        .addToStringData("tls.key", Files.readString(pki.key())).build()).create();
                check("helm install (default values; TLS from a Secret)", () -> {
                    Helm.Result install = helm(List.of("install", "zeebe-ambient-enforcer", Helm.CHART.toString(), "-n", NS,
                            "--set", "tls.mode=secret", "--set", "tls.secretName=enforcer-test-tls", "--set", "tls.caBundle=" + pki.caBundle()));
                    assertEquals(0, install.exit(), install.output());
                    policyServed = install.output().contains("Admission path: the enroll policy");
                    assertEquals(served && minor(version) >= 36, policyServed,
                            "the enroll policy is installed exactly where MutatingAdmissionPolicy v1 is served (1.36+):\n" + install.output());
                });
            } else {
                policyServed = served && minor(version) >= 36; // README: add components/enroll-policy on 1.36+
                // cert-manager's part: the Secret its Certificate names (nothing issues here)
                admin.resource(new SecretBuilder().withNewMetadata().withName("zeebe-ambient-enforcer-tls").withNamespace(NS).endMetadata()
                        .withType("kubernetes.io/tls").addToStringData("tls.crt", Files.readString(pki.cert()))
                        .addToStringData("tls.key", Files.readString(pki.key())).build()).create();
                check("kubectl apply -k (README overlay for this minor)", () -> {
                    Path overlay = Files.createDirectories(RESULTS.resolve("kustomize-" + version));
                    Files.writeString(overlay.resolve("kustomization.yaml"), """
                            apiVersion: kustomize.config.k8s.io/v1beta1
                            kind: Kustomization
                            resources: [../../../webhook-config/overlays/cert-manager]
                            """ + (policyServed ? "components: [../../../webhook-config/components/enroll-policy]\n" : ""));
                    String[] out = OldestKubernetesIT.kubectl(cluster, "apply", "--server-side", "-k", overlay.toString());
                    assertEquals("0", out[0], out[1]);
                    assertTrue(out[1].contains("mutatingwebhookconfiguration.admissionregistration.k8s.io/zeebe-ambient-enforcer"), out[1]);
                    assertEquals(policyServed, out[1].contains("mutatingadmissionpolicy.admissionregistration.k8s.io/"), out[1]);
                });
            }
            results.put("admission path", policyServed ? "enroll policy + webhook" : "webhook");

            Replica a = replica("matrix-a", 29543);
            Replica b = replica("matrix-b", 29553);
            check("leader election: one of two replicas leads", () -> {
                await(() -> a.leads() || b.leads(), 60, "a leader");
                assertFalse(a.leads() && b.leads(), "two leaders");
            });
            Replica leader = a.leads() ? a : b;
            Replica follower = leader == a ? b : a;

            check("bootstrapper: server-side apply of waypoint, gRPC Service, DestinationRule", () -> {
                await(() -> appliedByUs("gateway.networking.k8s.io/v1", "Gateway", "waypoint")
                        && appliedByUs("v1", "Service", "camunda-zeebe-gateway-grpc")
                        && appliedByUs("networking.istio.io/v1", "DestinationRule", "camunda-zeebe-gateway-grpc"), 60,
                        "the bootstrapper's objects (log:\n" + leader.log() + ")");
            });

            // the API server calls the leader's webhook (the chart's points at a Service nothing backs here)
            var hook = admin.admissionRegistration().v1().mutatingWebhookConfigurations().withName(InstallNames.NAME).get().getWebhooks().get(0);
            cluster.registerWebhook("matrix-route", "https://127.0.0.1:" + port(leader) + "/mutate", "Ignore", h -> {
                h.setNamespaceSelector(hook.getNamespaceSelector());
                h.setObjectSelector(hook.getObjectSelector());
                h.setMatchConditions(hook.getMatchConditions());
            });
            cluster.namespace(APPS, Map.of("zeebe-ambient-enforcer.io/enabled", "true"));
            admin.resource(new ConfigMapBuilder().withNewMetadata().withName("zeebe").withNamespace(APPS).endMetadata()
                    .addToData("address", "camunda-zeebe-gateway-grpc.camunda:26500").build()).create();

            check("literal client enrolled at admission, with kubectl's warning", () -> {
                // the route takes effect asynchronously: a dry run until it answers
                await(() -> kubectlCreate(pod("probe", true), true).contains("enrolled in ambient"), 30, "the webhook or policy answers");
                String stderr = kubectlCreate(pod("literal", true), false);
                assertTrue(stderr.contains("Warning:") && stderr.contains("zeebe-ambient-enforcer: enrolled in ambient"), stderr);
                Pod p = admin.pods().inNamespace(APPS).withName("literal").get();
                assertEquals("ambient", p.getMetadata().getLabels().get("istio.io/dataplane-mode"));
                assertEquals(policyServed ? "policy" : "admission", p.getMetadata().getAnnotations().get("zeebe-ambient-enforcer.io/enrolled-by"));
            });
            check("ConfigMap client enrolled by the webhook", () -> {
                kubectlCreate(pod("configmap", false), false);
                Pod p = admin.pods().inNamespace(APPS).withName("configmap").get();
                assertEquals("ambient", p.getMetadata().getLabels().get("istio.io/dataplane-mode"));
                assertEquals("admission", p.getMetadata().getAnnotations().get("zeebe-ambient-enforcer.io/enrolled-by"));
            });
            check("pod-patch policy denies the ServiceAccount an image change", () -> {
                try (KubernetesClient sa = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(
                        Files.readString(cluster.freshServiceAccountKubeconfig()))).build()) {
                    Pod live = admin.pods().inNamespace(APPS).withName("configmap").get();
                    // resource(pod): a PATCH without a GET, as the backstop patches (the ServiceAccount may not get pods)
                    KubernetesClientException e = org.junit.jupiter.api.Assertions.assertThrows(KubernetesClientException.class, () ->
                            sa.pods().inNamespace(APPS).resource(live).patch(PatchContext.of(PatchType.JSON),
                                    "[{\"op\":\"replace\",\"path\":\"/spec/containers/0/image\",\"value\":\"evil:1\"}]"));
                    assertEquals(403, e.getCode(), e.getMessage());
                    assertTrue(e.getMessage().contains(InstallNames.POD_PATCHES), e.getMessage());
                    // and the label in a namespace that did not opt in: the message README's troubleshooting quotes
                    cluster.namespace("matrix-other", Map.of());
                    Pod other = admin.resource(new io.fabric8.kubernetes.api.model.PodBuilder().withNewMetadata().withName("other")
                            .withNamespace("matrix-other").endMetadata().withNewSpec().addNewContainer().withName("app").withImage("x:1")
                            .endContainer().endSpec().build()).create();
                    KubernetesClientException out = org.junit.jupiter.api.Assertions.assertThrows(KubernetesClientException.class, () ->
                            sa.pods().inNamespace("matrix-other").resource(other).patch(PatchContext.of(PatchType.JSON_MERGE),
                                    "{\"metadata\":{\"labels\":{\"istio.io/dataplane-mode\":\"ambient\"}}}"));
                    assertEquals(403, out.getCode(), out.getMessage());
                    assertTrue(out.getMessage().contains("the enforcer may only change pods in namespaces that opted in "
                            + "(zeebe-ambient-enforcer.io/enabled=true); matrix-other did not, or is excluded"), out.getMessage());
                }
            });
            check("leader takeover after the leader stops", () -> {
                assertEquals(0 | 143, leader.terminate(30) | 143);
                await(follower::leads, 30, "the follower takes over");
            });
            check("caBundle that does not match (README troubleshooting): no warning at creation, enrolled by the backstop", () -> {
                // the webhook answers, but the API server does not trust its certificate: the call fails, the pod is admitted
                String otherCa = java.util.Base64.getEncoder().encodeToString(dev.zeebeambient.enforcer.tls.Pki.ca("another CA",
                        java.time.Duration.ofDays(1), java.time.Instant.now()).certificatePem().getBytes(StandardCharsets.US_ASCII));
                cluster.registerWebhook("matrix-route", "https://127.0.0.1:" + port(follower) + "/mutate", "Ignore", h -> {
                    h.setNamespaceSelector(hook.getNamespaceSelector());
                    h.setObjectSelector(hook.getObjectSelector());
                    h.setMatchConditions(hook.getMatchConditions());
                    h.getClientConfig().setCaBundle(otherCa);
                });
                await(() -> !kubectlCreate(pod("probe-2", false), true).contains("enrolled in ambient"), 30, "the route fails TLS");
                String stderr = kubectlCreate(pod("late", false), false);
                assertFalse(stderr.contains("zeebe-ambient-enforcer:"), "no warning at creation: " + stderr);
                await(() -> "backstop".equals(annotation("late", "zeebe-ambient-enforcer.io/enrolled-by")), 60,
                        "the backstop enrolls it (log:\n" + follower.log() + ")");
                assertEquals("ambient", admin.pods().inNamespace(APPS).withName("late").get().getMetadata().getLabels()
                        .get("istio.io/dataplane-mode"));
            });
            check("precheck and explain as the ServiceAccount (kubectl exec into a replica)", () -> {
                try (KubernetesClient sa = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(
                        Files.readString(cluster.freshServiceAccountKubeconfig()))).build()) {
                    var config = dev.zeebeambient.enforcer.testsupport.TestConfig.fromEnv(
                            admin.configMaps().inNamespace(NS).withName(InstallNames.CONFIG_MAP).get().getData());
                    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
                    java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
                    dev.zeebeambient.enforcer.cli.Precheck.run(List.of(), config, sa, new java.io.PrintStream(out, true, StandardCharsets.UTF_8),
                            new java.io.PrintStream(err, true, StandardCharsets.UTF_8));
                    String precheck = out.toString(StandardCharsets.UTF_8);
                    String versionLine = precheck.lines().filter(l -> l.contains("Kubernetes version")).findFirst().orElseThrow(() ->
                            new AssertionError(precheck + err));
                    assertTrue(versionLine.startsWith("PASS") && versionLine.contains("1." + minor(version))
                            && versionLine.contains(policyServed ? "serves MutatingAdmissionPolicy v1" : "the webhook decides every pod"),
                            versionLine);
                    out.reset();
                    int exit = dev.zeebeambient.enforcer.cli.Explain.run(List.of("-n", APPS, "pod/literal"), config, sa,
                            new java.io.ByteArrayInputStream(new byte[0]), new java.io.PrintStream(out, true, StandardCharsets.UTF_8),
                            new java.io.PrintStream(err, true, StandardCharsets.UTF_8));
                    String explain = out.toString(StandardCharsets.UTF_8);
                    assertEquals(0, exit, explain + err);
                    assertTrue(explain.contains("enrolled-by: " + (policyServed ? "policy" : "admission")), explain);
                    Files.writeString(Files.createDirectories(RESULTS).resolve(version + "-" + path + "-cli.txt"),
                            "$ precheck\n" + precheck + "\n$ explain -n " + APPS + " pod/literal\n" + explain);
                }
            });
            check("the ServiceAccount was denied nothing else", () -> {
                for (Replica r : List.of(a, b)) {
                    assertFalse(FailoverIT.DENIED.matcher(r.log()).find(), r.name() + " was denied something:\n" + r.log());
                }
            });
        }

        String annotation(String pod, String key) {
            Pod p = admin.pods().inNamespace(APPS).withName(pod).get();
            return p == null || p.getMetadata().getAnnotations() == null ? null : p.getMetadata().getAnnotations().get(key);
        }

        boolean appliedByUs(String apiVersion, String kind, String name) {
            var o = admin.genericKubernetesResources(apiVersion, kind).inNamespace("camunda").withName(name).get();
            return o != null && o.getMetadata().getManagedFields().stream()
                    .anyMatch(f -> "zeebe-ambient-enforcer".equals(f.getManager()) && "Apply".equals(f.getOperation()));
        }

        final Map<Replica, Integer> ports = new HashMap<>();

        int port(Replica r) {
            return ports.get(r);
        }

        /** A pod of the Deployment: the chart's ConfigMap and container env, as the release's ServiceAccount. */
        Replica replica(String name, int port) throws Exception {
            Map<String, String> env = new HashMap<>(admin.configMaps().inNamespace(NS).withName(InstallNames.CONFIG_MAP).get().getData());
            var container = admin.apps().deployments().inNamespace(NS).withName(InstallNames.NAME).get().getSpec().getTemplate().getSpec()
                    .getContainers().get(0);
            env.putAll(HelmIT.containerEnv(container.getEnv()));
            Replica r = Replica.start(name, cluster.freshServiceAccountKubeconfig(), port, port + 1,
                    Map.of("enforcer.leader-election.identity", name, "quarkus.shutdown.delay", "1s"), env);
            replicas.add(r);
            ports.put(r, port);
            await(() -> r.ready() || !r.alive(), 60, name + " ready");
            assertTrue(r.alive(), name + " exited:\n" + r.log());
            return r;
        }

        static String pod(String name, boolean literal) {
            String env = literal ? "value: camunda-zeebe-gateway-grpc.camunda:26500"
                    : "valueFrom: {configMapKeyRef: {name: zeebe, key: address}}";
            return """
                    apiVersion: v1
                    kind: Pod
                    metadata:
                      name: %s
                    spec:
                      containers:
                      - name: app
                        image: example/worker:1
                        env:
                        - name: ZEEBE_ADDRESS
                          %s
                    """.formatted(name, env);
        }

        /** kubectl create in the apps namespace (a server dry run if asked); its stderr (warnings). */
        String kubectlCreate(String yaml, boolean dryRun) {
            try {
                List<String> cmd = new ArrayList<>(List.of(cluster.kubectl().toString(), "--kubeconfig", cluster.kubeconfig().toString(),
                        "create", "-n", APPS, "-f", "-"));
                if (dryRun) {
                    cmd.add("--dry-run=server");
                }
                Process p = new ProcessBuilder(cmd).start();
                p.getOutputStream().write(yaml.getBytes(StandardCharsets.UTF_8));
                p.getOutputStream().close();
                String stderr = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
                p.getInputStream().readAllBytes();
                assertTrue(p.waitFor(60, TimeUnit.SECONDS), "kubectl create");
                assertEquals(0, p.exitValue(), stderr);
                return stderr;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }
}
