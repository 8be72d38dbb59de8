package dev.zeebeambient.enforcer.training;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zeebeambient.enforcer.testsupport.EnforcerProcess;
import dev.zeebeambient.enforcer.testsupport.Eventually;
import dev.zeebeambient.enforcer.testsupport.ImageRun;
import dev.zeebeambient.enforcer.testsupport.Istiod;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import dev.zeebeambient.enforcer.testsupport.Replica;
import dev.zeebeambient.enforcer.testsupport.StartupArchive;
import dev.zeebeambient.enforcer.testsupport.TestPki;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The training run behind the start-up archive (issue 15 §2), run by the normal packaging
 * ({@code mvn package}, after Quarkus' build): the packaged jar with the image's JVM flags, as the
 * shipped ServiceAccount, against a local real kube-apiserver and istiod, recording with
 * {@code -XX:AOTCacheOutput} (JDK 25+: classes loaded and linked, method profiles) or
 * {@code -XX:ArchiveClassesAtExit} (older JDKs: AppCDS). It does what a replica does in its first
 * minute in a cluster, so the archive holds those classes and not only start-up's: start, win
 * the Lease, converge the bootstrap, label missed pods from the backstop, answer admission
 * reviews from the API server (TLS, decode, decide, patch) and directly (clients, non-clients,
 * a malformed body), serve health, status and metrics; then a graceful SIGTERM, at which the JVM
 * writes the archive. A failed training fails the build: an image without its archive would
 * silently start slower.
 */
public final class AotTraining {

    static final int HTTPS = 27443;
    static final int MANAGEMENT = 27000;
    static final String NS = "training-apps";

    private AotTraining() {
    }

    /**
     * Without arguments: trains the archive of the build JDK next to the jar ({@link StartupArchive}).
     * With {@code --image IMAGE OUTPUT}: runs IMAGE (the {@code app} stage of Dockerfile.jvm) under
     * podman as the Deployment runs it, with the image's own JVM flags (minus the cache it does not
     * have yet), and writes the cache to OUTPUT: trained by the exact runtime, at the exact paths,
     * the image starts with.
     */
    public static void main(String[] args) {
        try {
            if (args.length == 3 && args[0].equals("--image")) {
                train(args[1], Path.of(args[2]));
            } else {
                train(null, StartupArchive.forRunningJdk().path());
            }
        } catch (Throwable e) {
            e.printStackTrace();
            System.exit(1); // not a return: the API server's threads would keep the JVM (and the build) waiting
        }
        System.exit(0); // the API server's and istiod's shutdown hooks stop them
    }

    static void train(String image, Path output) throws Exception {
        Files.deleteIfExists(output);
        long t0 = System.nanoTime();
        KubeTestCluster cluster = KubeTestCluster.get();
        KubernetesClient k8s = cluster.client();
        cluster.installCrds();
        for (String ns : List.of("camunda", "istio-system", KubeTestCluster.SA_NAMESPACE)) {
            cluster.namespace(ns, Map.of());
        }
        cluster.namespace(NS, Map.of("zeebe-ambient-enforcer.io/enabled", "true"));
        k8s.resource(new ServiceBuilder().withNewMetadata().withName("camunda-zeebe-gateway").withNamespace("camunda").endMetadata()
                .withNewSpec().addToSelector("app.kubernetes.io/component", "zeebe-gateway").addNewPort().withName("grpc")
                .withPort(26500).endPort().endSpec().build()).serverSideApply();
        Path kubeconfig = cluster.installEnforcerIdentity("base");
        // clients created before the webhook exists: the backstop labels them (its path gets trained too)
        for (int i = 0; i < 5; i++) {
            k8s.resource(client("missed-" + i)).create();
        }
        try (Istiod istiod = Istiod.start(cluster.kubeconfig())) {
            EnforcerProcess app = image == null ? startReplica(kubeconfig, output) : startImage(cluster, image, output);
            try {
                await(app, 120, app::ready, "training replica ready");
                await(app, 60, app::leads, "training replica leads");
                await(app, 60, () -> app.get("/q/health/group/bootstrap").getKey() == 200,
                        "bootstrap converged");
                await(app, 60, () -> k8s.pods().inNamespace(NS).list().getItems().stream()
                        .filter(p -> p.getMetadata().getName().startsWith("missed-")).allMatch(p -> "ambient".equals(p.getMetadata().getLabels().get("istio.io/dataplane-mode"))),
                        "backstop labelled the missed clients");

                cluster.registerWebhook("zeebe-ambient-enforcer-training", "https://localhost:" + HTTPS + "/mutate", "Ignore");
                await(app, 30, () -> {
                    String name = "probe-" + System.nanoTime();
                    Pod p = k8s.resource(client(name)).create();
                    return "ambient".equals(p.getMetadata().getLabels().get("istio.io/dataplane-mode"));
                }, "the API server calls the webhook");
                for (int i = 0; i < 20; i++) {
                    k8s.resource(i % 2 == 0 ? client("hooked-" + i) : plain("plain-" + i)).create();
                }
                int answered = reviews(200);
                for (String path : List.of("/q/metrics", "/status", "/q/health", "/q/health/live")) {
                    if (app.get(path).getKey() != 200) {
                        throw new IllegalStateException("training replica: " + path + " did not answer 200");
                    }
                }
                k8s.admissionRegistration().v1().mutatingWebhookConfigurations().withName("zeebe-ambient-enforcer-training").delete();
                int exit = app.terminate(120); // the JVM writes the archive (or, in the image, its configuration) on its way out
                if (exit != 0 && exit != 143) { // 143: the JVM's own status after SIGTERM
                    throw new IllegalStateException("the training run exited " + exit + ":\n" + app.log());
                }
                if (image != null && !appCds(output)) {
                    assemble(image, output);
                }
                if (!Files.isRegularFile(output) || Files.size(output) == 0) {
                    throw new IllegalStateException("no archive at " + output + " after the training run (exit " + exit
                            + "):\n" + app.log());
                }
                System.out.printf("AOT training%s: %s, %d MB, %d admission reviews answered directly + 21 through the API server, "
                        + "%.1f s (JDK %s)%n", image == null ? "" : " in " + image, output, Files.size(output) >> 20, answered,
                        (System.nanoTime() - t0) / 1e9, image == null ? Runtime.version() : "of the image");
            } finally {
                System.clearProperty("replica.jvm.extra");
                app.close();
                // the pods of this run: a second training (the image's after the jar's) starts from the same state
                k8s.pods().inNamespace(NS).delete();
            }
        }
    }

    static EnforcerProcess startReplica(Path kubeconfig, Path output) throws java.io.IOException {
        System.setProperty("replica.jvm.extra", StartupArchive.forRunningJdk().recordFlag());
        return Replica.start("aot-training", kubeconfig, HTTPS, MANAGEMENT, Map.of());
    }

    /**
     * The image as the Deployment runs it (read-only root, user 185, its memory limit, ...), plus
     * one writable directory for the recording. JAVA_OPTS_APPEND is the image's own without
     * {@code -XX:AOTCache}: the file does not exist yet. Two steps, not JDK 25's one-step
     * {@code -XX:AOTCacheOutput}: that one assembles the cache in a second JVM while the first is
     * still alive, which the 384Mi limit does not hold (the container was OOM-killed, exit 137).
     */
    static EnforcerProcess startImage(KubeTestCluster cluster, String image, Path output) throws Exception {
        Path dir = Files.createDirectories(output.toAbsolutePath().getParent());
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.deleteIfExists(dir.resolve(AOT_CONFIGURATION));
        var rendered = cluster.render("base");
        io.fabric8.kubernetes.api.model.apps.Deployment deployment = rendered.stream()
                .filter(o -> o instanceof io.fabric8.kubernetes.api.model.apps.Deployment)
                .map(o -> (io.fabric8.kubernetes.api.model.apps.Deployment) o).findFirst().orElseThrow();
        TestPki pki = TestPki.get();
        // Recording costs memory at exit (the configuration is dumped from the live JVM): under the
        // Deployment's limit the container was OOM-killed (exit 137) with an empty file. The cgroup
        // gets 1g; the JVM still sizes heap and everything else by the Deployment's limit (MaxRAM).
        long limit = io.fabric8.kubernetes.api.model.Quantity.getAmountInBytes(deployment.getSpec().getTemplate().getSpec()
                .getContainers().get(0).getResources().getLimits().get("memory")).longValueExact();
        return ImageRun.start(image, deployment, cluster.token(KubeTestCluster.SA_NAMESPACE, KubeTestCluster.SA_NAME),
                ImageRun.Options.of("aot-training", KubeTestCluster.SA_NAMESPACE).withConfigMapsOf(rendered)
                        .withSecret("zeebe-ambient-enforcer-tls", Map.of("tls.crt", Files.readAllBytes(pki.cert()),
                                "tls.key", Files.readAllBytes(pki.key())))
                        .withHostPort("https", HTTPS).withHostPort("management", MANAGEMENT)
                        .withEnv(Map.of("JAVA_OPTS_APPEND", flagsWithoutCache(image), "JAVA_OPTS", "-XX:MaxRAM=" + limit + " "
                                + (appCds(output) ? "-XX:ArchiveClassesAtExit=/aot/" + output.getFileName()
                                        : "-XX:AOTMode=record -XX:AOTConfiguration=/aot/" + AOT_CONFIGURATION)))
                        .withPodmanArgs("--volume", dir + ":/aot", "--memory=1g"));
    }

    static final String AOT_CONFIGURATION = "app.aotconf";

    /** A {@code .jsa} output: a dynamic AppCDS archive (JDK 17 images, for the JDK comparison), written at exit in one step. */
    static boolean appCds(Path output) {
        return output.getFileName().toString().endsWith(".jsa");
    }

    /** The image's JVM flags without the cache (the training's and the assembly's). */
    static String flagsWithoutCache(String image) {
        return ImageRun.imageEnv(image).get("JAVA_OPTS_APPEND").replaceAll("\\s*-XX:(AOTCache|SharedArchiveFile)=\\S+", "");
    }

    /** Step two: the image's own entrypoint and flags in create mode turn the recording into the cache. */
    static void assemble(String image, Path output) {
        Path dir = output.toAbsolutePath().getParent();
        if (!Files.isRegularFile(dir.resolve(AOT_CONFIGURATION))) {
            throw new IllegalStateException("the training run in " + image + " wrote no AOT configuration to " + dir);
        }
        String log = ImageRun.run(List.of("podman", "--runtime", "runc", "run", "--rm", "--ulimit", "nproc=4096:4096",
                "--ulimit", "nofile=4096:4096", "--memory=1g", "--volume", dir + ":/aot",
                "--env", "JAVA_OPTS_APPEND=" + flagsWithoutCache(image),
                "--env", "JAVA_OPTS=-XX:AOTMode=create -XX:AOTConfiguration=/aot/" + AOT_CONFIGURATION + " -XX:AOTCache=/aot/"
                        + output.getFileName(), image), 300);
        if (!Files.isRegularFile(output)) {
            throw new IllegalStateException("AOT cache assembly in " + image + " wrote no " + output + ":\n" + log);
        }
    }

    static void await(EnforcerProcess app, int seconds, java.util.function.BooleanSupplier condition, String what) {
        try {
            Eventually.await(() -> condition.getAsBoolean() || !app.alive(), seconds, what);
            if (!condition.getAsBoolean()) {
                throw new IllegalStateException("the training replica exited");
            }
        } catch (RuntimeException e) {
            throw new IllegalStateException("AOT training: not within " + seconds + " s: " + what + "; replica log:\n" + app.log(), e);
        }
    }

    /** Direct HTTPS reviews as the API server sends them; returns how many got a 200 or a deliberate 400. */
    static int reviews(int n) throws Exception {
        ObjectMapper m = new ObjectMapper();
        List<Pod> pods = List.of(client("direct"), plain("direct-plain"));
        HttpClient http = HttpClient.newBuilder().sslContext(TestPki.get().sslContext()).connectTimeout(Duration.ofSeconds(5)).build();
        byte[][] bodies = new byte[3][];
        try (InputStream in = AotTraining.class.getResourceAsStream("/fixtures/spring-worker-pod.json")) {
            bodies[0] = m.writeValueAsBytes(review(m, m.readTree(in)));
        }
        bodies[1] = m.writeValueAsBytes(review(m, m.valueToTree(pods.get(1))));
        bodies[2] = "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":".getBytes();
        int ok = 0;
        for (int i = 0; i < n; i++) {
            byte[] body = bodies[i % 10 == 9 ? 2 : i % 2];
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("https://localhost:" + HTTPS + "/mutate"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == (body == bodies[2] ? 400 : 200)) {
                ok++;
            }
        }
        if (ok != n) {
            throw new IllegalStateException("training reviews: only " + ok + " of " + n + " answered as expected");
        }
        return ok;
    }

    static ObjectNode review(ObjectMapper m, com.fasterxml.jackson.databind.JsonNode pod) {
        ObjectNode review = m.createObjectNode().put("apiVersion", "admission.k8s.io/v1").put("kind", "AdmissionReview");
        ObjectNode req = review.putObject("request").put("uid", java.util.UUID.randomUUID().toString()).put("operation", "CREATE")
                .put("namespace", NS);
        req.putObject("kind").put("group", "").put("version", "v1").put("kind", "Pod");
        req.set("object", pod);
        return review;
    }

    static Pod client(String name) {
        return dev.zeebeambient.enforcer.testsupport.Pods.pod(name, true).editMetadata().withNamespace(NS).endMetadata().build();
    }

    static Pod plain(String name) {
        return dev.zeebeambient.enforcer.testsupport.Pods.pod(name, false).editMetadata().withNamespace(NS).endMetadata().build();
    }
}
