package dev.zeebeambient.enforcer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.zeebeambient.enforcer.testsupport.ImageRun;
import dev.zeebeambient.enforcer.testsupport.Istiod;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import dev.zeebeambient.enforcer.testsupport.Pods;
import dev.zeebeambient.enforcer.testsupport.TestPki;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shipped image ({@code mvn package} builds it: {@code localhost/zeebe-ambient-enforcer:VERSION}),
 * run under podman exactly as {@code webhook-config/} deploys it ({@link ImageRun}: the Deployment's
 * security context, env, ports, memory limit, volumes, and a ServiceAccount token with the shipped
 * RBAC), against the local API server and istiod, checked from outside through its published ports:
 * ready, /mutate over TLS directly and from the API server, the Lease won, the bootstrap converged,
 * nothing written outside its volumes, the Lease released on SIGTERM, the AOT cache mapped, and no
 * stack trace or permission error in its output. Then the same with the self-managed-tls overlay.
 * {@code -Dimage.skip=true} skips it with the image build.
 */
class ImageIT {

    static final String NS = "image-apps";
    static final String LEASE = "zeebe-ambient-enforcer-leader";
    /** What must never appear in the output: a stack frame, an exception, a refused write or permission. */
    static final Pattern TROUBLE = Pattern.compile("\\n\\s+at [a-zA-Z]|Exception|Read-only file system|Permission denied"
            + "|AccessDenied|(?<![0-9,.:])403(?![0-9])|[Ff]orbidden|\\[(warning|error)\\]\\[(aot|cds)");
    static String image;
    static Istiod istiod;

    @BeforeAll
    static void image() throws Exception {
        Assumptions.assumeFalse(Boolean.getBoolean("image.skip"), "-Dimage.skip=true: no image was built");
        Path built = Path.of("target", "image", "image.txt");
        assertTrue(Files.isRegularFile(built), "no image: mvn package builds it (src/main/docker/build-image.sh)");
        image = Files.readString(built).trim();
        KubeTestCluster cluster = KubeTestCluster.get();
        cluster.installCrds();
        for (String ns : List.of("camunda", "istio-system", KubeTestCluster.SA_NAMESPACE)) {
            cluster.namespace(ns, Map.of());
        }
        cluster.namespace(NS, Map.of("zeebe-ambient-enforcer.io/enabled", "true"));
        cluster.client().resource(new ServiceBuilder().withNewMetadata().withName("camunda-zeebe-gateway").withNamespace("camunda")
                .endMetadata().withNewSpec().addToSelector("app.kubernetes.io/component", "zeebe-gateway").addNewPort()
                .withName("grpc").withPort(26500).endPort().endSpec().build()).serverSideApply();
        istiod = Istiod.start(cluster.kubeconfig());
    }

    @AfterAll
    static void stop() {
        if (istiod != null) {
            istiod.close();
        }
    }

    /** The image says what it is (OCI labels) and carries the SBOM of its dependencies, also beside its archive. */
    @Test
    void theImageSaysWhatItIsAndWhatIsInIt() throws Exception {
        ObjectMapper m = new ObjectMapper();
        JsonNode labels = m.readTree(ImageRun.run(List.of("podman", "--runtime", "runc", "image", "inspect", "--format",
                "{{json .Labels}}", image), 60));
        String version = image.substring(image.lastIndexOf(':') + 1);
        assertEquals(version, labels.path("org.opencontainers.image.version").asText(), labels.toString());
        assertEquals("Apache-2.0", labels.path("org.opencontainers.image.licenses").asText());
        assertTrue(labels.path("org.opencontainers.image.revision").asText().matches("[0-9a-f]{40}"), labels.toString());
        assertTrue(labels.path("org.opencontainers.image.created").asText().matches("\\d{4}-\\d{2}-\\d{2}T.*Z"), labels.toString());
        assertTrue(labels.path("org.opencontainers.image.source").asText().startsWith("https://"), labels.toString());
        // the SBOM inside the image, read from a created (never started) container
        String container = ImageRun.run(List.of("podman", "--runtime", "runc", "create", image), 60).trim();
        Path sbom = Files.createTempFile("image-sbom", ".json");
        try {
            ImageRun.run(List.of("podman", "--runtime", "runc", "cp", container + ":/deployments/sbom/bom.cdx.json", sbom.toString()), 60);
        } finally {
            ImageRun.run(List.of("podman", "--runtime", "runc", "rm", "--force", container), 60);
        }
        JsonNode bom = m.readTree(Files.readString(sbom));
        Files.deleteIfExists(sbom);
        assertEquals("CycloneDX", bom.path("bomFormat").asText());
        int components = bom.path("components").size();
        System.out.printf("ImageIT: SBOM in the image: %d components; labels %s%n", components, labels);
        assertTrue(components > 50, "components: " + components);
        assertTrue(bom.path("components").toString().contains("\"name\":\"quarkus-core\""), "the SBOM lists Quarkus");
        assertEquals(bom, m.readTree(Files.readString(Path.of("target", "image", "zeebe-ambient-enforcer-" + version + ".cdx.json"))),
                "the same SBOM beside the archive");
        // the commands an operator runs in the shipped image (kubectl exec deploy/zeebe-ambient-enforcer -- java -jar ... explain)
        String help = ImageRun.run(List.of("podman", "--runtime", "runc", "run", "--rm", "--ulimit", "nproc=4096:4096", "--ulimit",
                "nofile=1024:1024", "--entrypoint", "sh", image, "-c", "exec java -jar /deployments/quarkus-run.jar explain --help"), 120);
        assertTrue(help.contains("usage: explain") && help.contains("--dry-run"), help);
    }

    @Test
    void theImageRunsAsTheDeploymentRunsIt() throws Exception {
        KubeTestCluster cluster = KubeTestCluster.get();
        cluster.installEnforcerIdentity("base");
        TestPki pki = TestPki.get();
        ImageRun.Options o = ImageRun.Options.of("enforcer-image", KubeTestCluster.SA_NAMESPACE)
                .withSecret("zeebe-ambient-enforcer-tls", Map.of("tls.crt", Files.readAllBytes(pki.cert()),
                        "tls.key", Files.readAllBytes(pki.key())))
                .withEnv(Map.of("JAVA_OPTS", "-Xlog:aot=info")); // logging only: shows the cache mapped (or why not)
        runAndCheck(cluster, "base", o, "image-hook");
    }

    @Test
    void theImageRunsWithSelfManagedTls() throws Exception {
        KubeTestCluster cluster = KubeTestCluster.get();
        KubernetesClient admin = cluster.client();
        admin.secrets().inNamespace(KubeTestCluster.SA_NAMESPACE).withName("zeebe-ambient-enforcer-tls").delete();
        try {
            cluster.installEnforcerIdentity("overlays/self-managed-tls");
            // the API server calls the published port on localhost: the certificate must name it
            ImageRun.Options o = ImageRun.Options.of("enforcer-image-smt", KubeTestCluster.SA_NAMESPACE)
                    .withEnv(Map.of("ENFORCER_SELF_MANAGED_TLS_EXTRA_DNS_NAMES", "localhost",
                            "ENFORCER_SELF_MANAGED_TLS_CHECK_PERIOD", "2s")); // injects into the configuration registered later
            runAndCheck(cluster, "overlays/self-managed-tls", o, "zeebe-ambient-enforcer");
            assertTrue(admin.secrets().inNamespace(KubeTestCluster.SA_NAMESPACE).withName("zeebe-ambient-enforcer-tls").get() != null,
                    "the leader wrote the TLS Secret");
        } finally {
            admin.admissionRegistration().v1().mutatingWebhookConfigurations().withName("zeebe-ambient-enforcer").delete();
            admin.secrets().inNamespace(KubeTestCluster.SA_NAMESPACE).withName("zeebe-ambient-enforcer-tls").delete();
            cluster.resetEnforcerIdentity();
        }
    }

    /**
     * Starts the image with the rendered Deployment of {@code kustomization} and checks it from
     * outside; {@code webhook}: the registration's name (self-managed TLS injects its CA only into
     * its own webhook configuration).
     */
    void runAndCheck(KubeTestCluster cluster, String kustomization, ImageRun.Options options, String webhook) throws Exception {
        KubernetesClient admin = cluster.client();
        Deployment deployment = deployment(cluster, kustomization);
        List<HasMetadata> rendered = cluster.render(kustomization);
        admin.leases().inNamespace(KubeTestCluster.SA_NAMESPACE).withName(LEASE).delete();
        int https = ImageRun.freePort();
        ImageRun.Options o = options.withHostPort("https", https).withConfigMapsOf(rendered);
        // With the test CA the webhook is registered first. With self-managed TLS it is registered once the
        // pod is ready, as a cluster's Service would route to it: before, the API server could call the
        // not-ready pod in the middle of its switch from the placeholder to the Secret's certificate, and
        // Vert.x closes a connection that arrives during that reload (a NullPointerException logged at WARN).
        String caBundle = webhook.equals("zeebe-ambient-enforcer") ? null : TestPki.get().caBundle();
        String url = "https://localhost:" + https + "/mutate";
        if (caBundle != null) {
            cluster.registerWebhook(webhook, url, "Ignore");
        }
        long t0 = System.nanoTime();
        ImageRun run = ImageRun.start(image, deployment, cluster.token(KubeTestCluster.SA_NAMESPACE, KubeTestCluster.SA_NAME), o);
        try {
            long readyMs = FailoverIT.await(() -> run.ready() || !run.running(), 120, o.podName() + " ready");
            assertTrue(run.ready(), "not ready:\n" + run.log());
            System.out.printf("ImageIT %s: ready %d ms after podman run; JVM %s%n", kustomization, readyMs, startedIn(run.log()));

            // the Lease: won by this pod (identity = HOSTNAME = pod name + a suffix)
            FailoverIT.await(run::leads, 60, o.podName() + " leads");
            Lease lease = admin.leases().inNamespace(KubeTestCluster.SA_NAMESPACE).withName(LEASE).get();
            assertTrue(lease.getSpec().getHolderIdentity().startsWith(o.podName() + "-"), lease.getSpec().toString());
            FailoverIT.await(() -> run.get("/q/health/group/bootstrap").getKey() == 200, 90, "bootstrap converged");

            if (caBundle == null) {
                cluster.registerWebhook(webhook, url, "Ignore", hook -> hook.getClientConfig().setCaBundle(null));
                FailoverIT.await(() -> {
                    var hooks = admin.admissionRegistration().v1().mutatingWebhookConfigurations().withName(webhook).get().getWebhooks();
                    return hooks.get(0).getClientConfig().getCaBundle() != null && !hooks.get(0).getClientConfig().getCaBundle().isEmpty();
                }, 30, "the CA injected into the webhook configuration");
            }
            // /mutate over TLS, from the API server: a client pod is enrolled
            FailoverIT.await(() -> {
                Pod p = admin.resource(Pods.pod("client-" + System.nanoTime(), true).editMetadata().withNamespace(NS).endMetadata()
                        .build()).create();
                return "ambient".equals(p.getMetadata().getLabels().get("istio.io/dataplane-mode"));
            }, 60, "the API server calls the image's webhook and the client is enrolled");
            // ... and directly, with the CA the API server trusts
            String ca = caBundle != null ? TestPki.get().caPem() : new String(java.util.Base64.getDecoder().decode(
                    admin.admissionRegistration().v1().mutatingWebhookConfigurations().withName(webhook).get().getWebhooks().get(0)
                            .getClientConfig().getCaBundle()));
            JsonNode response = mutate(run.port("https"), ca);
            assertTrue(response.path("response").path("allowed").asBoolean(), response.toString());
            assertEquals("JSONPatch", response.path("response").path("patchType").asText(), response.toString());

            // nothing written outside the volumes (read-only root: a write would also have failed loudly)
            assertEquals(List.of(), run.writesOutsideVolumes(), "the container changed its image's file system");
            if (kustomization.contains("self-managed-tls")) {
                assertEquals("600", run.exec("stat", "-c", "%a", "/etc/zeebe-ambient-enforcer/tls/tls.key").trim());
            }
            long rss = run.rssBytes();
            long cgroup = run.cgroupMemoryBytes();
            System.out.printf("ImageIT %s: RSS %d MB, cgroup memory %d MB (limit %s)%n", kustomization, rss >> 20, cgroup >> 20,
                    deployment.getSpec().getTemplate().getSpec().getContainers().get(0).getResources().getLimits().get("memory"));

            // SIGTERM: the Lease is released (not left to expire), and the JVM exits by itself
            long term = System.nanoTime();
            int exit = run.terminate(40);
            assertTrue(exit == 0 || exit == 143, "exit " + exit + "\n" + run.log());
            Lease after = admin.leases().inNamespace(KubeTestCluster.SA_NAMESPACE).withName(LEASE).get();
            String holder = after == null ? null : after.getSpec().getHolderIdentity();
            assertTrue(holder == null || holder.isEmpty(), "Lease still held by " + holder + " after SIGTERM");
            String log = run.log();
            assertTrue(log.contains("released Lease"), log);
            System.out.printf("ImageIT %s: exited %d %d ms after SIGTERM%n", kustomization, exit, (System.nanoTime() - term) / 1_000_000);

            var trouble = TROUBLE.matcher(log);
            assertFalse(trouble.find(), () -> "the image's output has '" + trouble.group() + "':\n" + log);
            if (o.env().getOrDefault("JAVA_OPTS", "").contains("-Xlog:aot")) {
                assertTrue(log.contains("Opened AOT cache /deployments/app.aot") || log.contains("Mapped static"),
                        "the AOT cache was not used:\n" + log);
            }
        } catch (Throwable e) {
            System.out.println("ImageIT " + kustomization + ": container output:\n" + run.log());
            throw e;
        } finally {
            run.close();
            admin.admissionRegistration().v1().mutatingWebhookConfigurations().withName(webhook).delete();
            admin.pods().inNamespace(NS).delete();
            System.out.printf("ImageIT %s: %.1f s%n", kustomization, (System.nanoTime() - t0) / 1e9);
        }
    }

    static Deployment deployment(KubeTestCluster cluster, String kustomization) throws Exception {
        for (HasMetadata o : cluster.render(kustomization)) {
            if (o instanceof Deployment d) {
                return d;
            }
        }
        throw new IllegalStateException("webhook-config/" + kustomization + " has no Deployment");
    }

    static String startedIn(String log) {
        var m = Pattern.compile("started in ([0-9.]+s)").matcher(log);
        return m.find() ? "started in " + m.group(1) : "(no start line)";
    }

    static JsonNode mutate(int port, String caPem) throws Exception {
        ObjectMapper m = new ObjectMapper();
        var review = m.createObjectNode().put("apiVersion", "admission.k8s.io/v1").put("kind", "AdmissionReview");
        var req = review.putObject("request").put("uid", "image-it").put("operation", "CREATE").put("namespace", NS);
        req.putObject("kind").put("group", "").put("version", "v1").put("kind", "Pod");
        req.set("object", m.valueToTree(Pods.pod("direct", true).editMetadata().withNamespace(NS).endMetadata().build()));
        HttpClient http = HttpClient.newBuilder().sslContext(TestPki.sslContext(TestPki.trustStore(caPem)))
                .connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("https://localhost:" + port + "/mutate"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(m.writeValueAsString(review)))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return m.readTree(r.body());
    }
}
