package dev.zeebeambient.enforcer.bench;

import dev.zeebeambient.enforcer.testsupport.ImageRun;
import dev.zeebeambient.enforcer.testsupport.Istiod;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import dev.zeebeambient.enforcer.testsupport.TestPki;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Start-up and footprint of the image itself (README "Container image"): the image under podman as
 * the Deployment runs it (its 384Mi limit is the cgroup limit, its flags are the image's), per
 * variant of extra JVM flags (JAVA_OPTS, which the image's entrypoint appends). Per run: JVM start
 * to ready (the JVM's own start time, {@code process_start_time_seconds}, to the first 200 from the
 * readiness probe), {@code podman run} to ready, RSS of the JVM and the cgroup's memory after start,
 * then the system benchmark's load (200 pods through the API server calling the webhook, wrk with 50
 * and then 1,000 connections on /mutate) and RSS/cgroup again. Medians over rounds, variants
 * interleaved per round. Options: -Drounds=3 -Dpods=200 -Dload.duration=30s
 * -Dvariants='name=flags;name=flags' (flags: JVM flags for JAVA_OPTS, env:NAME=VALUE for the
 * container's env, image:REF for another image, e.g. the JDK 17 one) -Dimage=REF.
 */
public final class ImageBenchmark {

    static final String DEFAULT_VARIANTS = "shipped=;no AOT cache=-XX:AOTMode=off;C1 only=-XX:TieredStopAtLevel=1;"
            + "code cache 24m, 2 compiler threads=-XX:ReservedCodeCacheSize=24m -XX:CICompilerCount=2;"
            + "256k thread stacks=-Xss256k;2 malloc arenas=env:MALLOC_ARENA_MAX=2;heap 20% of limit=-XX:MaxRAMPercentage=20";

    record Run(double jvmToReady, double runToReady, double rssStart, double cgroupStart, double rssLoad, double cgroupLoad,
            double rps, double podsPerSecond) {
    }

    public static void main(String[] args) {
        try {
            run();
        } catch (Throwable e) {
            e.printStackTrace();
            System.exit(1);
        }
        System.exit(0);
    }

    static void run() throws Exception {
        String image = System.getProperty("image", Files.readString(Path.of("target", "image", "image.txt")).trim());
        int rounds = Integer.parseInt(System.getProperty("rounds", "3"));
        int pods = Integer.parseInt(System.getProperty("pods", "200"));
        Map<String, String> variants = new LinkedHashMap<>();
        for (String v : System.getProperty("variants", DEFAULT_VARIANTS).split(";")) {
            int eq = v.indexOf('=');
            variants.put(v.substring(0, eq).trim(), v.substring(eq + 1).trim());
        }
        KubeTestCluster cluster = KubeTestCluster.get();
        KubernetesClient k8s = cluster.client();
        cluster.installCrds();
        for (String ns : List.of("camunda", "istio-system", KubeTestCluster.SA_NAMESPACE)) {
            cluster.namespace(ns, Map.of());
        }
        cluster.namespace("bench-image", Map.of("zeebe-ambient-enforcer.io/enabled", "true"));
        k8s.resource(new ServiceBuilder().withNewMetadata().withName("camunda-zeebe-gateway").withNamespace("camunda").endMetadata()
                .withNewSpec().addToSelector("app.kubernetes.io/component", "zeebe-gateway").addNewPort().withName("grpc")
                .withPort(26500).endPort().endSpec().build()).serverSideApply();
        cluster.installEnforcerIdentity("base");
        Deployment deployment = null;
        for (HasMetadata o : cluster.render("base")) {
            if (o instanceof Deployment d) {
                deployment = d;
            }
        }
        Path lua = SystemBenchmark.wrkPostScript(SystemBenchmark.springWorkerReview("bench-image"));
        Map<String, List<Run>> runs = new LinkedHashMap<>();
        try (Istiod istiod = Istiod.start(cluster.kubeconfig())) {
            for (int r = 0; r < rounds; r++) {
                for (var v : variants.entrySet()) {
                    Run run = once(cluster, image, deployment, v.getValue(), lua, pods, r);
                    runs.computeIfAbsent(v.getKey(), x -> new ArrayList<>()).add(run);
                    System.out.printf(Locale.ROOT, "round %d %-36s %s%n", r + 1, v.getKey(), run);
                }
            }
        }
        String limit = deployment.getSpec().getTemplate().getSpec().getContainers().get(0).getResources().getLimits().get("memory")
                .toString();
        System.out.printf(Locale.ROOT, "%n== zeebe-ambient-enforcer image benchmark (%s; %d rounds, medians; %d cores; limit %s) ==%n",
                image, rounds, Runtime.getRuntime().availableProcessors(), limit);
        System.out.printf(Locale.ROOT, "%-36s %9s %9s %9s %9s %9s %9s %8s %7s%n", "variant (JAVA_OPTS)", "JVM->rdy", "run->rdy",
                "RSS st", "cg st", "RSS load", "cg load", "req/s", "pods/s");
        for (var e : runs.entrySet()) {
            List<Run> l = e.getValue();
            System.out.printf(Locale.ROOT, "%-36s %8.2fs %8.2fs %7.0fMB %7.0fMB %7.0fMB %7.0fMB %8.0f %7.1f%n", e.getKey(),
                    med(l, Run::jvmToReady), med(l, Run::runToReady), med(l, Run::rssStart), med(l, Run::cgroupStart),
                    med(l, Run::rssLoad), med(l, Run::cgroupLoad), med(l, Run::rps), med(l, Run::podsPerSecond));
        }
        variants.forEach((k, v) -> System.out.printf(Locale.ROOT, "  %s: %s%n", k, v.isEmpty() ? "(the image's flags only)" : v));
        List<Run> shipped = runs.values().iterator().next();
        System.out.printf(Locale.ROOT, "%n== goals (first variant) ==%n");
        System.out.printf(Locale.ROOT, "JVM start -> ready < 1.5 s: %.2f s %s%n", med(shipped, Run::jvmToReady),
                med(shipped, Run::jvmToReady) < 1.5 ? "met" : "NOT met");
        System.out.printf(Locale.ROOT, "RSS after load < 200 MB: %.0f MB %s; cgroup memory %.0f MB %s%n", med(shipped, Run::rssLoad),
                med(shipped, Run::rssLoad) < 200 ? "met" : "NOT met", med(shipped, Run::cgroupLoad),
                med(shipped, Run::cgroupLoad) < 200 ? "met" : "NOT met");
    }

    static Run once(KubeTestCluster cluster, String image, Deployment deployment, String flags, Path lua, int pods, int round)
            throws Exception {
        KubernetesClient k8s = cluster.client();
        k8s.leases().inNamespace(KubeTestCluster.SA_NAMESPACE).withName("zeebe-ambient-enforcer-leader").delete();
        TestPki pki = TestPki.get();
        ImageRun.Options o = ImageRun.Options.of("bench-image", KubeTestCluster.SA_NAMESPACE).withConfigMapsOf(cluster.render("base"))
                .withSecret("zeebe-ambient-enforcer-tls", Map.of("tls.crt", Files.readAllBytes(pki.cert()),
                        "tls.key", Files.readAllBytes(pki.key())));
        // a variant: JVM flags (JAVA_OPTS), "env:NAME=VALUE" tokens (the container's env), "image:REF" (another image)
        List<String> jvm = new ArrayList<>();
        Map<String, String> env = new LinkedHashMap<>();
        for (String t : flags.trim().split("\\s+")) {
            if (t.startsWith("env:")) {
                env.put(t.substring(4, t.indexOf('=')), t.substring(t.indexOf('=') + 1));
            } else if (t.startsWith("image:")) {
                image = t.substring(6);
            } else if (!t.isEmpty()) {
                jvm.add(t);
            }
        }
        if (!jvm.isEmpty()) {
            env.put("JAVA_OPTS", String.join(" ", jvm));
        }
        o = o.withEnv(env);
        long t0 = System.currentTimeMillis();
        try (ImageRun run = ImageRun.start(image, deployment, cluster.token(KubeTestCluster.SA_NAMESPACE, KubeTestCluster.SA_NAME), o)) {
            long readyAt = 0;
            while (System.currentTimeMillis() - t0 < 120_000) {
                if (run.ready()) {
                    readyAt = System.currentTimeMillis();
                    break;
                }
                Thread.sleep(20);
            }
            if (readyAt == 0) {
                throw new IllegalStateException("not ready in 120 s:\n" + run.log());
            }
            String metrics = run.get("/q/metrics").getValue();
            Matcher start = Pattern.compile("(?m)^process_start_time_seconds(?:\\{[^}]*})? ([0-9.E]+)").matcher(metrics);
            if (!start.find()) {
                throw new IllegalStateException("no process_start_time_seconds in /q/metrics");
            }
            double jvmToReady = (readyAt - Double.parseDouble(start.group(1)) * 1000) / 1000;
            double runToReady = (readyAt - t0) / 1000.0;
            await(run::leads, "leads", run);
            await(() -> run.get("/q/health/group/bootstrap").getKey() == 200, "bootstrap converged", run);
            double rssStart = run.rssBytes() / 1e6;
            double cgStart = run.cgroupMemoryBytes() / 1e6;
            cluster.registerWebhook("zeebe-ambient-enforcer-bench", "https://localhost:" + run.port("https") + "/mutate", "Ignore");
            Thread.sleep(1000);
            SystemBenchmark.Create created = SystemBenchmark.createPods(k8s, "bench-image", pods, 8, "r" + round);
            long labelled = k8s.pods().inNamespace("bench-image").withLabel("istio.io/dataplane-mode", "ambient").list().getItems().size();
            cluster.deregisterWebhook("zeebe-ambient-enforcer-bench");
            k8s.pods().inNamespace("bench-image").delete();
            if (labelled < pods) {
                throw new IllegalStateException("only " + labelled + " of " + pods + " pods enrolled through the image's webhook");
            }
            String url = "https://localhost:" + run.port("https") + "/mutate";
            String out50 = wrk(url, 50, "10s", lua);
            String out1000 = wrk(url, 1000, System.getProperty("load.duration", "30s"), lua);
            Thread.sleep(2000);
            if (!run.ready()) {
                throw new IllegalStateException("not ready after the load:\n" + run.log());
            }
            return new Run(jvmToReady, runToReady, rssStart, cgStart, run.rssBytes() / 1e6, run.cgroupMemoryBytes() / 1e6,
                    SystemBenchmark.number(out50, "Requests/sec:\\s+([\\d.]+)"), created.perSecond());
        }
    }

    static String wrk(String url, int connections, String duration, Path lua) throws Exception {
        Process p = new ProcessBuilder("wrk", "-t", "2", "-c", Integer.toString(connections), "-d", duration, "--timeout", "10s",
                "-s", lua.toString(), url).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        return out;
    }

    static void await(java.util.function.BooleanSupplier c, String what, ImageRun run) throws InterruptedException {
        long until = System.currentTimeMillis() + 90_000;
        while (!c.getAsBoolean()) {
            if (System.currentTimeMillis() > until) {
                throw new IllegalStateException("not within 90 s: " + what + "\n" + run.log());
            }
            Thread.sleep(100);
        }
    }

    static double med(List<Run> runs, ToDoubleFunction<Run> f) {
        double[] v = runs.stream().mapToDouble(f).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
