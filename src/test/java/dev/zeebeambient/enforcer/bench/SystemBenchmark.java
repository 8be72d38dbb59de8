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
 * HTTPS /mutate vs the no-op endpoint under wrk (saturation) and under h2load at a fixed rate;
 * pod creation through the real API server, same pods, alternating per round between no webhook,
 * the webhook calling /noop and the webhook calling /mutate; JVM start to ready (bootstrap
 * converged) and RSS after the load; and the admission paths ({@link AdmissionPaths}: no admission,
 * the in-API-server policy, policy + webhook, webhook only; {@code -Donly=paths} runs that part alone).
 * Prints a table; asserts nothing (targets are goals, not tests).
 */
public final class SystemBenchmark {

    static final ObjectMapper M = new ObjectMapper();

    /** exec:java waits for the API server client's threads: a failure must end the process, loudly. */
    public static void main(String[] args) {
        try {
            run();
        } catch (Throwable t) {
            t.printStackTrace();
            System.exit(1);
        }
    }

    static void run() throws Exception {
        int rounds = Integer.parseInt(System.getProperty("rounds", "3"));
        int pods = Integer.parseInt(System.getProperty("pods", "200"));
        String wrkDuration = System.getProperty("wrk.duration", "10s");
        Path jar = Paths.get("target", "quarkus-app", "quarkus-run.jar");

        KubeTestCluster cluster = KubeTestCluster.get();
        KubernetesClient k8s = cluster.client();
        cluster.installCrds();
        cluster.waypointGatewayClass();
        for (String ns : List.of("camunda", "istio-system", "zeebe-ambient-enforcer")) {
            cluster.namespace(ns, Map.of());
        }
        // not opted in (the backstop never sees its pods): no webhook, or the /noop webhook selecting it by this label
        cluster.namespace("bench-plain", Map.of(NOOP_LABEL, "true"));
        cluster.namespace("bench-hooked", Map.of("zeebe-ambient-enforcer.io/enabled", "true"));
        k8s.resource(new ServiceBuilder().withNewMetadata().withName("camunda-zeebe-gateway").withNamespace("camunda").endMetadata()
                .withNewSpec().addToSelector("app.kubernetes.io/component", "zeebe-gateway").addNewPort().withPort(26500).endPort()
                .endSpec().build()).serverSideApply();
        // the enforcer runs as the shipped ServiceAccount with webhook-config/base's RBAC, as in a cluster
        Path kubeconfig = cluster.installEnforcerIdentity("base");
        TestPki pki = TestPki.get();

        // the review every HTTPS figure sends
        ObjectNode review = springWorkerReview("bench-hooked");
        Path lua = wrkPostScript(review);

        // 0. the start-up/footprint baseline, same run, same jar: the JDK it ran on before issue 15 (17), no
        // start-up archive; start -> ready + bootstrap, then the first HTTPS round, RSS
        Path baselineJdk = Paths.get(System.getProperty("baseline.java.home", "/usr/lib/jvm/java-17-openjdk-amd64"));
        double baseStart = Double.NaN;
        long baseRss = -1;
        if (Files.isExecutable(baselineJdk.resolve("bin").resolve("java"))) {
            Started base = startEnforcer(baselineJdk, false, kubeconfig, pki, "bench-enforcer-baseline.log");
            baseStart = base.seconds();
            httpsRound(lua, wrkDuration);
            baseRss = rssKb(base.process().pid());
            base.process().destroy();
            base.process().waitFor();
        }

        // 4. JVM start -> ready (admission ready and bootstrap converged against the local API server)
        Started started = startEnforcer(dev.zeebeambient.enforcer.testsupport.Replica.javaHome(), true, kubeconfig, pki,
                "bench-enforcer.log");
        Process app = started.process();
        List<String> cmd = started.cmd();
        double startSeconds = started.seconds();
        long rssStart = rssKb(app.pid());

        // webhooks are registered per mode below (pod creation); the HTTPS figures call the enforcer directly
        if ("paths".equals(System.getProperty("only"))) { // the admission paths alone (-Donly=paths)
            AdmissionPaths.run(cluster, rounds, pods);
            app.destroy();
            app.waitFor();
            System.exit(0);
        }

        // 2. HTTPS endpoint under load: /mutate vs /noop, same body, alternating rounds
        List<Wrk> mutateSat = new ArrayList<>(), noopSat = new ArrayList<>(), mutateLow = new ArrayList<>(), noopLow = new ArrayList<>();
        long rssFirstRound = -1;
        for (int r = 0; r < rounds; r++) {
            List<Wrk> round = httpsRound(lua, wrkDuration);
            noopSat.add(round.get(0));
            mutateSat.add(round.get(1));
            noopLow.add(round.get(2));
            mutateLow.add(round.get(3));
            if (r == 0) {
                rssFirstRound = rssKb(app.pid());
            }
        }

        // 2b. fixed rate (h2load, HTTP/2 over TLS): latency at 1,000 req/s, /mutate vs /noop, alternating rounds
        Path body = Files.createTempFile("admission-review", ".json");
        Files.writeString(body, review.toString());
        List<H2> mutateFixed = new ArrayList<>(), noopFixed = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            noopFixed.add(h2load("/noop", body));
            mutateFixed.add(h2load("/mutate", body));
        }

        // 3. pods through the real API server, same pods, same concurrency, modes alternating per round:
        // no webhook, the shipped webhook calling /noop, the shipped webhook calling /mutate
        List<Mode> modes = new ArrayList<>(List.of(Mode.NONE, Mode.NOOP, Mode.MUTATE));
        if (Boolean.getBoolean("compare.match-conditions")) {
            modes.add(Mode.MUTATE_NO_MATCH_CONDITIONS);
        }
        Map<Mode, List<Create>> created = new java.util.EnumMap<>(Mode.class);
        for (int r = 0; r < rounds; r++) {
            for (int m = 0; m < modes.size(); m++) {
                Mode mode = modes.get((m + r) % modes.size()); // each round starts with the next mode
                enter(cluster, mode);
                created.computeIfAbsent(mode, x -> new ArrayList<>()).add(createPods(k8s, mode.namespace, pods, 8,
                        mode.name().toLowerCase(Locale.ROOT).replace('_', '-') + "-" + r));
            }
        }
        enter(cluster, Mode.NONE);
        // 3b. which admission path a pod takes: none, the enroll policy, policy + webhook (shipped), webhook only
        AdmissionPaths.run(cluster, rounds, pods);
        List<Create> plain = created.get(Mode.NONE), noopHooked = created.get(Mode.NOOP), hooked = created.get(Mode.MUTATE);
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
        row("HTTP/2 fixed rate, h2load: achieved req/s", med(mutateFixed, h -> h.rps), med(noopFixed, h -> h.rps));
        row("  p50 ms at fixed rate", med(mutateFixed, h -> h.p50), med(noopFixed, h -> h.p50));
        row("  p99 ms at fixed rate", med(mutateFixed, h -> h.p99), med(noopFixed, h -> h.p99));
        row("pods/s, 8 in flight: /mutate hook vs none", med(hooked, c -> c.perSecond), med(plain, c -> c.perSecond));
        row("  create p50 ms", med(hooked, c -> c.p50), med(plain, c -> c.p50));
        row("  create p99 ms", med(hooked, c -> c.p99), med(plain, c -> c.p99));
        row("pods/s: /noop hook vs none", med(noopHooked, c -> c.perSecond), med(plain, c -> c.perSecond));
        row("  create p50 ms", med(noopHooked, c -> c.p50), med(plain, c -> c.p50));
        row("  create p99 ms", med(noopHooked, c -> c.p99), med(plain, c -> c.p99));
        row("pods/s: /mutate hook vs /noop hook", med(hooked, c -> c.perSecond), med(noopHooked, c -> c.perSecond));
        row("  create p50 ms", med(hooked, c -> c.p50), med(noopHooked, c -> c.p50));
        row("  create p99 ms", med(hooked, c -> c.p99), med(noopHooked, c -> c.p99));
        if (created.containsKey(Mode.MUTATE_NO_MATCH_CONDITIONS)) {
            List<Create> noMc = created.get(Mode.MUTATE_NO_MATCH_CONDITIONS);
            row("pods/s: /mutate with vs w/o matchConditions", med(hooked, c -> c.perSecond), med(noMc, c -> c.perSecond));
            row("  create p50 ms", med(hooked, c -> c.p50), med(noMc, c -> c.p50));
            row("  create p99 ms", med(hooked, c -> c.p99), med(noMc, c -> c.p99));
        }
        System.out.printf(Locale.ROOT, "%-44s %s%n", "fixed rate: h2load " + h2loadArgs(), "(target total "
                + h2loadTarget() + " req/s; enforcer column /mutate, baseline /noop)");
        System.out.printf(Locale.ROOT, "%-44s %12.2f%n", "JVM start -> ready + bootstrap converged (s)", startSeconds);
        System.out.printf(Locale.ROOT, "%-44s %12d%n", "RSS after start (MB)", rssStart / 1024);
        System.out.printf(Locale.ROOT, "%-44s %12d%n", "RSS after load (MB)", rssAfter / 1024);
        System.out.printf(Locale.ROOT, "%-44s %12d of %d%n", "hooked pods labelled ambient", labelled,
                rounds * pods * (created.containsKey(Mode.MUTATE_NO_MATCH_CONDITIONS) ? 2 : 1));
        Matcher errors = Pattern.compile("Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)").matcher(loadOut);
        Matcher non2xx = Pattern.compile("Non-2xx or 3xx responses: (\\d+)").matcher(loadOut);
        System.out.printf(Locale.ROOT, "%-44s %12.0f%n", "load 1000 conns: req/s", number(loadOut, "Requests/sec:\\s+([\\d.]+)"));
        System.out.printf(Locale.ROOT, "%-44s %12s%n", "load 1000 conns: non-2xx responses", non2xx.find() ? non2xx.group(1) : "0");
        System.out.printf(Locale.ROOT, "%-44s %12s%n", "load 1000 conns: socket errors c/r/w/t",
                errors.find() ? errors.group(1) + "/" + errors.group(2) + "/" + errors.group(3) + "/" + errors.group(4) : "0/0/0/0");
        System.out.printf(Locale.ROOT, "%-44s %12.1f %12.1f%n", "heap MB after full GC: before / after load", heapBefore, heapAfter);
        System.out.printf(Locale.ROOT, "%-44s %12d%n", "RSS after 1000-conn load (MB)", rssLoad / 1024);

        if (String.join(" ", cmd).contains("NativeMemoryTracking")) { // -Djvm.opts=...: where the RSS after load is
            String jcmd = Paths.get(System.getProperty("java.home"), "bin", "jcmd").toString();
            for (String what : List.of("VM.native_memory summary", "GC.heap_info")) {
                List<String> c = new ArrayList<>(List.of(jcmd, Long.toString(app.pid())));
                c.addAll(List.of(what.split(" ")));
                Process p = new ProcessBuilder(c).redirectErrorStream(true).start();
                System.out.println(new String(p.getInputStream().readAllBytes()));
                p.waitFor();
            }
        }

        // issue 15's four goals, each next to its baseline from this run
        double mutateRatio = med(mutateSat, w -> w.rps) / med(noopSat, w -> w.rps);
        double podsRatio = med(hooked, c -> c.perSecond) / med(plain, c -> c.perSecond);
        System.out.printf(Locale.ROOT, "%n== goals (issue 15), baselines from this run ==%n");
        System.out.printf(Locale.ROOT, "%-46s %8s %10s %10s  %s%n", "goal", "target", "now", "baseline", "met");
        goal("start -> ready + bootstrap converged (s)", "< 1.5", startSeconds, baseStart, startSeconds < 1.5);
        goal("RSS after the first HTTPS round (MB)", "< 200", rssFirstRound / 1024.0, baseRss / 1024.0, rssFirstRound / 1024.0 < 200);
        goal("RSS after all load incl. 1,000 conns (MB)", "< 200", rssLoad / 1024.0, Double.NaN, rssLoad / 1024.0 < 200);
        goal("/mutate req/s vs /noop (50 conns)", ">= 0.85", mutateRatio, 1.0, mutateRatio >= 0.85);
        goal("pods/s, /mutate webhook vs none", ">= 0.95", podsRatio, 1.0, podsRatio >= 0.95);
        System.out.printf(Locale.ROOT, "(start/RSS baseline: the same jar on %s without the start-up archive; ratio baselines: "
                + "the no-op endpoint, no webhook)%n", baselineJdk);
        app.destroy();
        app.waitFor();
        System.exit(0);
    }

    static void goal(String name, String target, double now, double baseline, boolean met) {
        System.out.printf(Locale.ROOT, "%-46s %8s %10.2f %10s  %s%n", name, target, now,
                Double.isNaN(baseline) ? "-" : String.format(Locale.ROOT, "%.2f", baseline), met ? "yes" : "no");
    }

    record Started(Process process, List<String> cmd, double seconds) {
    }

    /** The packaged enforcer as the image runs it (its JVM flags, 384Mi), on {@code javaHome}; waits for ready + bootstrap. */
    static Started startEnforcer(Path javaHome, boolean archive, Path kubeconfig, TestPki pki, String log) throws Exception {
        long t0 = System.nanoTime();
        List<String> cmd = new ArrayList<>(List.of(javaHome.resolve("bin").resolve("java").toString()));
        cmd.addAll(System.getProperty("jvm.opts") == null ? dev.zeebeambient.enforcer.testsupport.Replica.jvmFlags()
                : List.of(System.getProperty("jvm.opts").split(" ")));
        if (archive) {
            cmd.addAll(dev.zeebeambient.enforcer.testsupport.StartupArchive.forJdk(javaHome).useFlags()); // as the image starts
        }
        cmd.addAll(List.of("-Dquarkus.profile=bench", "-jar", Paths.get("target", "quarkus-app", "quarkus-run.jar").toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(Paths.get("target", log).toFile());
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
                throw new IllegalStateException("enforcer exited; see target/" + log);
            }
            Thread.sleep(20);
        }
        return new Started(app, cmd, (System.nanoTime() - t0) / 1e9);
    }

    /** One round of the HTTPS figures: /noop and /mutate at 50, then at 2 connections. */
    static List<Wrk> httpsRound(Path lua, String duration) throws Exception {
        return List.of(wrk("/noop", 50, duration, lua), wrk("/mutate", 50, duration, lua), wrk("/noop", 2, duration, lua),
                wrk("/mutate", 2, duration, lua));
    }

    record Wrk(double rps, double p50, double p99) {
    }

    record Create(double perSecond, double p50, double p99) {
    }

    /** The Spring worker's AdmissionReview (a Zeebe client) in {@code namespace}: what the HTTPS figures send. */
    static ObjectNode springWorkerReview(String namespace) throws Exception {
        ObjectNode review = M.createObjectNode().put("apiVersion", "admission.k8s.io/v1").put("kind", "AdmissionReview");
        ObjectNode req = review.putObject("request").put("uid", "b6f8a3e0-1c2d-4e5f-8a9b-0c1d2e3f4a5b")
                .put("operation", "CREATE").put("namespace", namespace);
        req.putObject("kind").put("group", "").put("version", "v1").put("kind", "Pod");
        try (InputStream in = SystemBenchmark.class.getResourceAsStream("/fixtures/spring-worker-pod.json")) {
            req.set("object", M.readTree(in));
        }
        return review;
    }

    /** A wrk script POSTing {@code review}. */
    static Path wrkPostScript(ObjectNode review) throws Exception {
        Path lua = Files.createTempFile("wrk-post", ".lua");
        Files.writeString(lua, "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = "
                + M.writeValueAsString(review.toString()) + "\n");
        return lua;
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

    /** The pod every mode creates (a Zeebe client: the /mutate webhook enrolls it). */
    static Pod workerPod(String name) {
        return new PodBuilder().withNewMetadata().withName(name).addToLabels("app", "worker").endMetadata()
                .withNewSpec().addNewContainer().withName("worker").withImage("worker:1")
                .addNewEnv().withName("ZEEBE_ADDRESS").withValue("camunda-zeebe-gateway-grpc.camunda:26500").endEnv()
                .addNewEnv().withName("JAVA_OPTS").withValue("-Xmx512m").endEnv()
                .endContainer().endSpec().build();
    }

    static Create createPods(KubernetesClient k8s, String ns, int n, int inFlight, String prefix) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(inFlight);
        List<Future<Double>> futures = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            String name = "w-" + prefix + "-" + i;
            futures.add(pool.submit(() -> {
                Pod pod = workerPod(name);
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

    static final String NOOP_LABEL = "bench.zeebe-ambient-enforcer.io/noop";
    static final String MUTATE_CONFIG = "zeebe-ambient-enforcer";
    static final String MUTATE_HOOK = "pods.zeebe-ambient-enforcer.io"; // the shipped webhook's name
    static final String NOOP_CONFIG = "bench-noop";
    static final String NOOP_HOOK = "noop.bench.zeebe-ambient-enforcer.io";

    /** Pod creation modes: which webhook configuration is registered, and where the pods go. */
    enum Mode {
        NONE("bench-plain"), NOOP("bench-plain"), MUTATE("bench-hooked"), MUTATE_NO_MATCH_CONDITIONS("bench-hooked");

        final String namespace;

        Mode(String namespace) {
            this.namespace = namespace;
        }
    }

    /**
     * Registers exactly the webhook of {@code mode} (the shipped configuration; for /noop with another
     * webhook name and a namespaceSelector for bench-plain, whose pods the backstop never sees), then
     * waits until the API server acts on it: it loads configurations asynchronously. Checked with
     * dry-run probe pods: /mutate labels one; /noop shows in the API server's per-webhook call count
     * ({@code apiserver_admission_webhook_admission_duration_seconds_count{name=...}}); "none": a probe
     * in either namespace calls neither webhook.
     */
    static void enter(KubeTestCluster cluster, Mode mode) throws Exception {
        KubernetesClient k8s = cluster.client();
        switch (mode) {
            case NONE -> {
                cluster.deregisterWebhook(NOOP_CONFIG);
                cluster.deregisterWebhook(MUTATE_CONFIG);
            }
            case NOOP -> {
                cluster.deregisterWebhook(MUTATE_CONFIG);
                cluster.registerWebhook(NOOP_CONFIG, "https://localhost:8443/noop", "Ignore", h -> {
                    h.setName(NOOP_HOOK);
                    h.setNamespaceSelector(new io.fabric8.kubernetes.api.model.LabelSelectorBuilder()
                            .addToMatchLabels(NOOP_LABEL, "true").build());
                });
            }
            case MUTATE, MUTATE_NO_MATCH_CONDITIONS -> {
                cluster.deregisterWebhook(NOOP_CONFIG);
                cluster.registerWebhook(MUTATE_CONFIG, "https://localhost:8443/mutate", "Ignore", h -> {
                    if (mode == Mode.MUTATE_NO_MATCH_CONDITIONS) {
                        h.setMatchConditions(null);
                    }
                });
            }
        }
        long t0 = System.nanoTime();
        long deadline = t0 + 60_000_000_000L;
        while (!inEffect(k8s, mode)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("mode " + mode + " not in effect after 60 s");
            }
            Thread.sleep(100);
        }
        System.err.printf(Locale.ROOT, "mode %s in effect after %.1f s%n", mode, (System.nanoTime() - t0) / 1e9);
    }

    static int probes;

    static boolean inEffect(KubernetesClient k8s, Mode mode) {
        boolean noopCalled = calls(k8s, NOOP_HOOK, () -> probe(k8s, "bench-plain", true)) > 0;
        if (noopCalled != (mode == Mode.NOOP)) {
            return false;
        }
        boolean labelled = "ambient".equals(probe(k8s, "bench-hooked", true).getMetadata().getLabels().get("istio.io/dataplane-mode"));
        if (labelled != (mode == Mode.MUTATE || mode == Mode.MUTATE_NO_MATCH_CONDITIONS)) {
            return false;
        }
        if (mode == Mode.MUTATE || mode == Mode.MUTATE_NO_MATCH_CONDITIONS) {
            // a pod with nothing to detect is sent only without the matchConditions
            boolean sent = calls(k8s, MUTATE_HOOK, () -> probe(k8s, "bench-hooked", false)) > 0;
            return sent == (mode == Mode.MUTATE_NO_MATCH_CONDITIONS);
        }
        return true;
    }

    /** A dry-run create (nothing stored); {@code client}: the benchmark's pod, else one with no env at all. */
    static Pod probe(KubernetesClient k8s, String ns, boolean client) {
        Pod pod = workerPod("probe-" + probes++);
        if (!client) {
            pod.getSpec().getContainers().get(0).setEnv(null);
        }
        return k8s.pods().inNamespace(ns).resource(pod).dryRun().create();
    }

    /** How often the API server called webhook {@code name} while {@code action} ran (its own metric). */
    static long calls(KubernetesClient k8s, String name, Runnable action) {
        long before = webhookCalls(k8s, name);
        action.run();
        return webhookCalls(k8s, name) - before;
    }

    public static long webhookCalls(KubernetesClient k8s, String name) {
        String metrics = k8s.raw("/metrics");
        if (metrics == null) {
            throw new IllegalStateException("the API server's /metrics answered nothing");
        }
        // absent until the first webhook call: 0 (a wrong name can't pass: the /noop mode waits for calls > 0)
        long n = 0;
        for (String line : metrics.lines().toList()) {
            if (line.startsWith("apiserver_admission_webhook_admission_duration_seconds_count{") && line.contains("name=\"" + name + "\"")) {
                n += (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return n;
    }

    record H2(double rps, double p50, double p99) {
    }

    static List<String> h2loadArgs() {
        return List.of("-c", System.getProperty("h2load.clients", "10"), "--rps", System.getProperty("h2load.rps", "100"),
                "-D", System.getProperty("h2load.duration", "10"), "--warm-up-time", System.getProperty("h2load.warm-up", "2"));
    }

    static int h2loadTarget() {
        return Integer.parseInt(System.getProperty("h2load.clients", "10")) * Integer.parseInt(System.getProperty("h2load.rps", "100"));
    }

    /**
     * Fixed-rate load with h2load (HTTP/2 over TLS, each client one connection at --rps requests/s):
     * latency without saturation. h2load prints no percentiles: p50/p99 come from its per-request
     * log (--log-file: start µs, status, µs to the end of the response). Fails unless every request
     * got a 2xx; warns when the achieved rate (printed in the table) is more than 5 % off the target.
     */
    static H2 h2load(String path, Path body) throws Exception {
        Path log = Files.createTempFile("h2load", ".log");
        List<String> cmd = new ArrayList<>(List.of("h2load"));
        cmd.addAll(h2loadArgs());
        cmd.addAll(List.of("-d", body.toString(), "-H", "content-type: application/json", "--log-file", log.toString(),
                "https://localhost:8443" + path));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        // "started" and the status codes also count requests of the warm-up and those cut off at the end
        Matcher done = Pattern.compile("requests: \\d+ total, \\d+ started, \\d+ done, \\d+ succeeded, 0 failed, 0 errored, 0 timeout")
                .matcher(out);
        Matcher codes = Pattern.compile("status codes: \\d+ 2xx, 0 3xx, 0 4xx, 0 5xx").matcher(out);
        if (p.exitValue() != 0 || !done.find() || !codes.find()) {
            throw new IllegalStateException("h2load saw errors on " + path + ":\n" + out);
        }
        double rps = number(out, "finished in [\\d.]+m?s, ([\\d.]+) req/s");
        if (Math.abs(rps - h2loadTarget()) > 0.05 * h2loadTarget()) { // printed in the table too; loud here
            System.err.printf(Locale.ROOT, "WARNING: h2load reached %.1f req/s on %s, not the %d asked for: not a fixed rate%n%s%n",
                    rps, path, h2loadTarget(), out);
        }
        List<Double> ms = new ArrayList<>();
        for (String line : Files.readAllLines(log)) {
            String[] f = line.split("\t");
            if (f.length >= 3) { // every request was a 2xx (checked above); the status column reads 0 for some
                ms.add(Long.parseLong(f[2].trim()) / 1000.0);
            }
        }
        Files.deleteIfExists(log);
        Collections.sort(ms);
        int n = ms.size();
        return new H2(rps, ms.get(n / 2), ms.get((int) Math.ceil(n * 0.99) - 1));
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
