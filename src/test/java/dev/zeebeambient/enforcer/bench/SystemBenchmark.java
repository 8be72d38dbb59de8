package dev.zeebeambient.enforcer.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import dev.zeebeambient.enforcer.testsupport.TestPki;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;

import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * README "Performance" 2-4, one run, same machine, each figure next to its baseline:
 * HTTPS /mutate vs the no-op endpoint under wrk; pod creation through the real API server with
 * the webhook vs without; JVM start to ready (bootstrap converged) and RSS after the load.
 * Prints a table; asserts nothing (targets are goals, not tests).
 */
public final class SystemBenchmark {

    static final ObjectMapper M = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        int rounds = Integer.parseInt(System.getProperty("rounds", "3"));
        int pods = Integer.parseInt(System.getProperty("pods", "200"));
        String wrkDuration = System.getProperty("wrk.duration", "10s");
        Path jar = Paths.get("target", "quarkus-app", "quarkus-run.jar");

        KubeTestCluster cluster = KubeTestCluster.get();
        KubernetesClient k8s = cluster.client();
        cluster.installCrds();
        cluster.waypointGatewayClass();
        for (String ns : List.of("camunda", "istio-system", "zeebe-ambient-enforcer", "bench-plain")) {
            cluster.namespace(ns, Map.of());
        }
        cluster.namespace("bench-hooked", Map.of("zeebe-ambient-enforcer.io/enabled", "true"));
        k8s.resource(new ServiceBuilder().withNewMetadata().withName("camunda-zeebe-gateway").withNamespace("camunda").endMetadata()
                .withNewSpec().addToSelector("app.kubernetes.io/component", "zeebe-gateway").addNewPort().withPort(26500).endPort()
                .endSpec().build()).serverSideApply();
        // the enforcer runs as the shipped ServiceAccount with webhook-config/base's RBAC, as in a cluster
        Path kubeconfig = cluster.installEnforcerIdentity("base");
        TestPki pki = TestPki.get();

        // 4. JVM start -> ready (admission ready and bootstrap converged against the local API server)
        long t0 = System.nanoTime();
        // the image's JVM flags (Dockerfile.jvm) under the Deployment's 384Mi memory limit
        List<String> cmd = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(System.getProperty("jvm.opts") == null ? dev.zeebeambient.enforcer.testsupport.Replica.jvmFlags()
                : List.of(System.getProperty("jvm.opts").split(" ")));
        cmd.addAll(dev.zeebeambient.enforcer.testsupport.StartupArchive.forRunningJdk().useFlags()); // as the image starts
        cmd.addAll(List.of("-Dquarkus.profile=bench", "-jar", jar.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(Paths.get("target", "bench-enforcer.log").toFile());
        pb.environment().put("KUBECONFIG", kubeconfig.toString());
        pb.environment().put("ENFORCER_TLS_CERT", pki.cert().toString());
        pb.environment().put("ENFORCER_TLS_KEY", pki.key().toString());
        pb.environment().put("QUARKUS_LOG_CATEGORY__DEV_ZEEBEAMBIENT__LEVEL", "WARN");
        pb.environment().put("QUARKUS_THREAD_POOL_MAX_THREADS", "64"); // as in the Deployment
        for (String kv : System.getProperty("app.env", "").split(",")) { // e.g. -Dapp.env=ENFORCER_BACKSTOP_ENABLED=false
            if (kv.contains("=")) {
                pb.environment().put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
            }
        }
        Process app = pb.start();
        Runtime.getRuntime().addShutdownHook(new Thread(app::destroy));
        while (!(ok("http://localhost:9000/q/health/ready") && ok("http://localhost:9000/q/health/group/bootstrap"))) {
            if (!app.isAlive()) {
                throw new IllegalStateException("enforcer exited; see target/bench-enforcer.log");
            }
            Thread.sleep(20);
        }
        double startSeconds = (System.nanoTime() - t0) / 1e9;
        long rssStart = rssKb(app.pid());

        cluster.registerWebhook("zeebe-ambient-enforcer", "https://localhost:8443/mutate", "Ignore");
        Thread.sleep(2000); // the API server loads webhook configurations asynchronously

        // 2. HTTPS endpoint under load: /mutate vs /noop, same body, alternating rounds
        ObjectNode review = M.createObjectNode().put("apiVersion", "admission.k8s.io/v1").put("kind", "AdmissionReview");
        ObjectNode req = review.putObject("request").put("uid", "b6f8a3e0-1c2d-4e5f-8a9b-0c1d2e3f4a5b")
                .put("operation", "CREATE").put("namespace", "bench-hooked");
        req.putObject("kind").put("group", "").put("version", "v1").put("kind", "Pod");
        try (InputStream in = SystemBenchmark.class.getResourceAsStream("/fixtures/spring-worker-pod.json")) {
            req.set("object", M.readTree(in));
        }
        Path lua = Files.createTempFile("wrk-post", ".lua");
        Files.writeString(lua, "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = "
                + M.writeValueAsString(review.toString()) + "\n");
        List<Wrk> mutateSat = new ArrayList<>(), noopSat = new ArrayList<>(), mutateLow = new ArrayList<>(), noopLow = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            noopSat.add(wrk("/noop", 50, wrkDuration, lua));
            mutateSat.add(wrk("/mutate", 50, wrkDuration, lua));
            noopLow.add(wrk("/noop", 2, wrkDuration, lua));
            mutateLow.add(wrk("/mutate", 2, wrkDuration, lua));
        }

        // 3. pods through the real API server: webhook called (opted-in namespace) vs not called
        List<Create> plain = new ArrayList<>(), hooked = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            plain.add(createPods(k8s, "bench-plain", pods, 8, r));
            hooked.add(createPods(k8s, "bench-hooked", pods, 8, r));
        }
        long labelled = k8s.pods().inNamespace("bench-hooked").withLabel("istio.io/dataplane-mode", "ambient").list().getItems().size();
        long rssAfter = rssKb(app.pid());

        // load: 1,000 concurrent connections, then heap after a full GC compared with before
        double heapBefore = heapAfterGc(app.pid());
        Process load = new ProcessBuilder("wrk", "-t", "2", "-c", "1000", "-d", System.getProperty("load.duration", "30s"),
                "--timeout", "10s", "-s", lua.toString(), "https://localhost:8443/mutate").redirectErrorStream(true).start();
        String loadOut = new String(load.getInputStream().readAllBytes());
        load.waitFor();
        double heapAfter = heapAfterGc(app.pid());
        long rssLoad = rssKb(app.pid());

        System.out.printf(Locale.ROOT, "%n== zeebe-ambient-enforcer system benchmark (%d rounds, medians; %d cores) ==%n", rounds,
                Runtime.getRuntime().availableProcessors());
        System.out.printf(Locale.ROOT, "enforcer JVM: %s; env: %s%n", String.join(" ", cmd), System.getProperty("app.env", "-"));
        System.out.printf(Locale.ROOT, "%-44s %12s %12s %8s%n", "measure", "enforcer", "baseline", "ratio");
        row("HTTPS req/s, 50 conns (/mutate vs /noop)", med(mutateSat, w -> w.rps), med(noopSat, w -> w.rps));
        row("  p50 ms, 50 conns", med(mutateSat, w -> w.p50), med(noopSat, w -> w.p50));
        row("  p99 ms, 50 conns", med(mutateSat, w -> w.p99), med(noopSat, w -> w.p99));
        row("HTTPS req/s, 2 conns", med(mutateLow, w -> w.rps), med(noopLow, w -> w.rps));
        row("  p50 ms, 2 conns", med(mutateLow, w -> w.p50), med(noopLow, w -> w.p50));
        row("  p99 ms, 2 conns", med(mutateLow, w -> w.p99), med(noopLow, w -> w.p99));
        row("pods/s created, 8 in flight (webhook vs none)", med(hooked, c -> c.perSecond), med(plain, c -> c.perSecond));
        row("  create p50 ms", med(hooked, c -> c.p50), med(plain, c -> c.p50));
        row("  create p99 ms", med(hooked, c -> c.p99), med(plain, c -> c.p99));
        System.out.printf(Locale.ROOT, "%-44s %12.2f%n", "JVM start -> ready + bootstrap converged (s)", startSeconds);
        System.out.printf(Locale.ROOT, "%-44s %12d%n", "RSS after start (MB)", rssStart / 1024);
        System.out.printf(Locale.ROOT, "%-44s %12d%n", "RSS after load (MB)", rssAfter / 1024);
        System.out.printf(Locale.ROOT, "%-44s %12d of %d%n", "hooked pods labelled ambient", labelled, rounds * pods);
        Matcher errors = Pattern.compile("Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)").matcher(loadOut);
        Matcher non2xx = Pattern.compile("Non-2xx or 3xx responses: (\\d+)").matcher(loadOut);
        System.out.printf(Locale.ROOT, "%-44s %12.0f%n", "load 1000 conns: req/s", number(loadOut, "Requests/sec:\\s+([\\d.]+)"));
        System.out.printf(Locale.ROOT, "%-44s %12s%n", "load 1000 conns: non-2xx responses", non2xx.find() ? non2xx.group(1) : "0");
        System.out.printf(Locale.ROOT, "%-44s %12s%n", "load 1000 conns: socket errors c/r/w/t",
                errors.find() ? errors.group(1) + "/" + errors.group(2) + "/" + errors.group(3) + "/" + errors.group(4) : "0/0/0/0");
        System.out.printf(Locale.ROOT, "%-44s %12.1f %12.1f%n", "heap MB after full GC: before / after load", heapBefore, heapAfter);
        System.out.printf(Locale.ROOT, "%-44s %12d%n", "RSS after 1000-conn load (MB)", rssLoad / 1024);
        app.destroy();
        app.waitFor();
        System.exit(0);
    }

    record Wrk(double rps, double p50, double p99) {
    }

    record Create(double perSecond, double p50, double p99) {
    }

    static Wrk wrk(String path, int connections, String duration, Path lua) throws Exception {
        Process p = new ProcessBuilder("wrk", "-t", "1", "-c", Integer.toString(connections), "-d", duration, "--latency",
                "-s", lua.toString(), "https://localhost:8443" + path).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        if (out.contains("Non-2xx")) {
            throw new IllegalStateException("wrk saw errors on " + path + ":\n" + out);
        }
        return new Wrk(number(out, "Requests/sec:\\s+([\\d.]+)"), millis(out, "50%"), millis(out, "99%"));
    }

    static double number(String out, String regex) {
        Matcher m = Pattern.compile(regex).matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("no " + regex + " in wrk output:\n" + out);
        }
        return Double.parseDouble(m.group(1));
    }

    static double millis(String out, String pct) {
        Matcher m = Pattern.compile("\\s" + pct + "\\s+([\\d.]+)(us|ms|s)").matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("no " + pct + " in wrk output:\n" + out);
        }
        double v = Double.parseDouble(m.group(1));
        return switch (m.group(2)) {
            case "us" -> v / 1000;
            case "s" -> v * 1000;
            default -> v;
        };
    }

    static Create createPods(KubernetesClient k8s, String ns, int n, int inFlight, int round) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(inFlight);
        List<Future<Double>> futures = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            String name = "w-" + round + "-" + i;
            futures.add(pool.submit(() -> {
                Pod pod = new PodBuilder().withNewMetadata().withName(name).addToLabels("app", "worker").endMetadata()
                        .withNewSpec().addNewContainer().withName("worker").withImage("worker:1")
                        .addNewEnv().withName("ZEEBE_ADDRESS").withValue("camunda-zeebe-gateway-grpc.camunda:26500").endEnv()
                        .addNewEnv().withName("JAVA_OPTS").withValue("-Xmx512m").endEnv()
                        .endContainer().endSpec().build();
                long t = System.nanoTime();
                k8s.pods().inNamespace(ns).resource(pod).create();
                return (System.nanoTime() - t) / 1e6;
            }));
        }
        List<Double> latencies = new ArrayList<>();
        for (Future<Double> f : futures) {
            latencies.add(f.get());
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        pool.shutdown();
        Collections.sort(latencies);
        return new Create(n / seconds, latencies.get(n / 2), latencies.get((int) Math.ceil(n * 0.99) - 1));
    }

    static <T> double med(List<T> xs, java.util.function.ToDoubleFunction<T> f) {
        double[] v = xs.stream().mapToDouble(f).sorted().toArray();
        return v[v.length / 2];
    }

    static void row(String name, double ours, double base) {
        System.out.printf(Locale.ROOT, "%-44s %12.2f %12.2f %8.2f%n", name, ours, base, ours / base);
    }

    static boolean ok(String url) {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
            c.setConnectTimeout(200);
            return c.getResponseCode() == 200;
        } catch (Exception e) {
            return false;
        }
    }

    /** Heap in use right after a full GC (jcmd), in MB: flat before/after load means nothing leaked. */
    static double heapAfterGc(long pid) throws Exception {
        return JvmProbe.heapAfterGcMb(pid);
    }

    static long rssKb(long pid) throws Exception {
        for (String line : Files.readAllLines(Paths.get("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        return -1;
    }
}
