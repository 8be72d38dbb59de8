package dev.zeebeambient.enforcer.bench;

import dev.zeebeambient.enforcer.install.InstallNames;
import dev.zeebeambient.enforcer.testsupport.EnrollPolicies;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;

/**
 * Which admission path a pod takes, and what it costs: pods/s and create p50/p99 through the real
 * API server in four modes, alternating per round, on two pod mixes, counting the webhook calls
 * (the API server's own {@code apiserver_admission_webhook_admission_duration_seconds_count}):
 * <ul>
 * <li>none: no policy, no webhook (a namespace that did not opt in);</li>
 * <li>policy: the shipped enroll policy only (webhook not registered);</li>
 * <li>shipped: the policy and the shipped webhook;</li>
 * <li>webhook: the webhook only (as before the policy; clusters older than 1.36).</li>
 * </ul>
 * Mixes: every pod a literal client; and a realistic mix (70 % non-clients with env, 20 % literal
 * clients, 10 % clients whose address is in a ConfigMap). Part of {@link SystemBenchmark}'s run
 * ({@code -Donly=paths}: this section alone). The enforcer must be running (the webhook calls it).
 */
final class AdmissionPaths {

    static final String OPTED_IN = "bench-paths";
    static final String PLAIN = "bench-paths-plain";

    enum Mode {
        NONE(false, false), POLICY(true, false), SHIPPED(true, true), WEBHOOK(false, true),
        /** -Dpaths.no-warning=true: the mutating policy alone, without the two warning policies (what they cost) */
        POLICY_NO_WARNING(true, false);

        final boolean policy;
        final boolean webhook;

        Mode(boolean policy, boolean webhook) {
            this.policy = policy;
            this.webhook = webhook;
        }

        static Mode[] measured() {
            return Boolean.getBoolean("paths.no-warning") ? values() : new Mode[] {NONE, POLICY, SHIPPED, WEBHOOK};
        }

        String namespace() {
            return this == NONE ? PLAIN : OPTED_IN;
        }
    }

    enum Mix {
        LITERAL("all literal clients", i -> literal()),
        REALISTIC("70% other, 20% literal, 10% ConfigMap clients", i -> switch (i % 10) {
            case 7, 8 -> literal();
            case 9 -> configMapClient();
            default -> other(i);
        });

        final String what;
        final IntFunction<Pod> pod;

        Mix(String what, IntFunction<Pod> pod) {
            this.what = what;
            this.pod = pod;
        }
    }

    record Result(double perSecond, double p50, double p99, long webhookCalls, int enrolled, int byPolicy, int pods,
            Map<String, Double> pluginSeconds) {
    }

    private AdmissionPaths() {
    }

    static void run(KubeTestCluster cluster, int rounds, int pods) throws Exception {
        KubernetesClient k8s = cluster.client();
        cluster.namespace(OPTED_IN, Map.of("zeebe-ambient-enforcer.io/enabled", "true"));
        cluster.namespace(PLAIN, Map.of());
        for (String ns : List.of(OPTED_IN, PLAIN)) {
            k8s.resource(new ConfigMapBuilder().withNewMetadata().withName("zeebe").withNamespace(ns).endMetadata()
                    .addToData("address", "camunda-zeebe-gateway-grpc.camunda:26500").build()).serverSideApply();
        }
        String policy = Files.readString(EnrollPolicies.SHIPPED);
        Map<Mix, Map<Mode, List<Result>>> results = new EnumMap<>(Mix.class);
        Mode[] modes = Mode.measured();
        for (int r = 0; r < rounds; r++) {
            for (int m = 0; m < modes.length; m++) {
                Mode mode = modes[(m + r) % modes.length]; // each round starts with the next mode
                enter(cluster, mode, policy);
                for (Mix mix : Mix.values()) {
                    results.computeIfAbsent(mix, x -> new EnumMap<>(Mode.class)).computeIfAbsent(mode, x -> new ArrayList<>())
                            .add(create(k8s, mode, mix, pods, "p-" + mode.name().toLowerCase(Locale.ROOT).replace('_', '-') + "-" + mix.name()
                                    .toLowerCase(Locale.ROOT) + "-" + r));
                }
            }
        }
        enter(cluster, Mode.NONE, policy);

        System.out.printf(Locale.ROOT, "%n== admission paths: pods through the API server, 8 in flight, %d rounds x %d pods, medians ==%n",
                rounds, pods);
        System.out.printf(Locale.ROOT, "%-10s %-17s %9s %8s %8s %8s %15s %9s %9s%n", "mix", "mode", "pods/s", "vs none", "p50 ms",
                "p99 ms", "webhook calls", "enrolled", "by policy");
        Map<Mix, Double> shippedRatio = new EnumMap<>(Mix.class);
        Map<Mix, double[]> p99 = new EnumMap<>(Mix.class);
        for (Mix mix : Mix.values()) {
            Map<Mode, List<Result>> byMode = results.get(mix);
            List<Result> noneRounds = byMode.get(Mode.NONE);
            for (Mode mode : modes) {
                List<Result> rs = byMode.get(mode);
                double rate = SystemBenchmark.med(rs, Result::perSecond);
                double vsNone = pairedRatio(rs, noneRounds);
                long calls = rs.stream().mapToLong(Result::webhookCalls).sum();
                int total = rs.stream().mapToInt(Result::pods).sum();
                System.out.printf(Locale.ROOT, "%-10s %-17s %9.1f %8.2f %8.1f %8.1f %7d of %5d %9d %9d%n", mix.name().toLowerCase(Locale.ROOT),
                        mode.name().toLowerCase(Locale.ROOT), rate, vsNone, SystemBenchmark.med(rs, Result::p50),
                        SystemBenchmark.med(rs, Result::p99), calls, total, rs.stream().mapToInt(Result::enrolled).sum(),
                        rs.stream().mapToInt(Result::byPolicy).sum());
            }
            shippedRatio.put(mix, pairedRatio(byMode.get(Mode.SHIPPED), noneRounds));
            p99.put(mix, new double[] {SystemBenchmark.med(byMode.get(Mode.SHIPPED), Result::p99),
                    SystemBenchmark.med(byMode.get(Mode.NONE), Result::p99)});
        }
        System.out.printf(Locale.ROOT, "%nAPI server time per pod create in admission plugins (ms; all rounds; the API server's "
                + "apiserver_admission_controller_admission_duration_seconds, every resource's CREATE):%n");
        java.util.Set<String> names = new java.util.TreeSet<>();
        results.values().forEach(m -> m.values().forEach(rs -> rs.forEach(r -> r.pluginSeconds().forEach((k, v) -> {
            if (v > 0.0005 * r.pods()) {
                names.add(k); // only the plugins that cost something
            }
        }))));
        System.out.printf(Locale.ROOT, "%-10s %-17s", "mix", "mode");
        names.forEach(n -> System.out.printf(Locale.ROOT, " %26s", n));
        System.out.println();
        for (Mix mix : Mix.values()) {
            for (Mode mode : modes) {
                List<Result> rs = results.get(mix).get(mode);
                int total = rs.stream().mapToInt(Result::pods).sum();
                System.out.printf(Locale.ROOT, "%-10s %-17s", mix.name().toLowerCase(Locale.ROOT), mode.name().toLowerCase(Locale.ROOT));
                for (String n : names) {
                    System.out.printf(Locale.ROOT, " %26.3f", 1000 * rs.stream().mapToDouble(r -> r.pluginSeconds().getOrDefault(n, 0.0)).sum()
                            / total);
                }
                System.out.println();
            }
        }
        System.out.printf(Locale.ROOT, "(vs none: median of the per-round ratios; mixes: literal = %s; realistic = %s; 'none' in a "
                + "namespace that did not opt in)%n",
                Mix.LITERAL.what, Mix.REALISTIC.what);
        System.out.printf(Locale.ROOT, "%n== goals (in-API-server enrollment), baselines from this run ==%n");
        System.out.printf(Locale.ROOT, "%-46s %8s %10s %10s  %s%n", "goal", "target", "now", "baseline", "met");
        double lit = shippedRatio.get(Mix.LITERAL);
        double real = shippedRatio.get(Mix.REALISTIC);
        SystemBenchmark.goal("literal clients, shipped vs none (pods/s)", ">= 0.95", lit, 1.0, lit >= 0.95);
        SystemBenchmark.goal("literal clients, create p99 ms, shipped", "~ none", p99.get(Mix.LITERAL)[0], p99.get(Mix.LITERAL)[1],
                p99.get(Mix.LITERAL)[0] <= 1.2 * p99.get(Mix.LITERAL)[1]);
        SystemBenchmark.goal("realistic mix, shipped vs none (pods/s)", ">= 0.90", real, 1.0, real >= 0.9);
    }

    /**
     * The median over rounds of (this mode's pods/s / no admission's pods/s in the same round): a drift of the machine
     * over the run (etcd compaction, GC, other load) hits both sides of each ratio alike.
     */
    static double pairedRatio(List<Result> mode, List<Result> none) {
        List<Double> ratios = new ArrayList<>();
        for (int r = 0; r < Math.min(mode.size(), none.size()); r++) {
            ratios.add(mode.get(r).perSecond() / none.get(r).perSecond());
        }
        return SystemBenchmark.med(ratios, Double::doubleValue);
    }

    /** Creates {@code n} pods of {@code mix}, 8 in flight; counts the webhook's calls and what admission enrolled. */
    static Result create(KubernetesClient k8s, Mode mode, Mix mix, int n, String prefix) throws Exception {
        long callsBefore = SystemBenchmark.webhookCalls(k8s, SystemBenchmark.MUTATE_HOOK);
        Map<String, Double> pluginsBefore = pluginSeconds(k8s);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<double[]>> futures = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            Pod pod = mix.pod.apply(i);
            pod.getMetadata().setName(prefix + "-" + i);
            futures.add(pool.submit(() -> {
                long t = System.nanoTime();
                Pod created = k8s.pods().inNamespace(mode.namespace()).resource(pod).create();
                double ms = (System.nanoTime() - t) / 1e6;
                Map<String, String> labels = created.getMetadata().getLabels();
                Map<String, String> annotations = created.getMetadata().getAnnotations();
                boolean enrolled = labels != null && "ambient".equals(labels.get("istio.io/dataplane-mode"));
                boolean byPolicy = annotations != null && dev.zeebeambient.enforcer.enrollment.Origin.POLICY.tag().equals(annotations.get("zeebe-ambient-enforcer.io/enrolled-by"));
                return new double[] {ms, enrolled ? 1 : 0, byPolicy ? 1 : 0};
            }));
        }
        List<Double> latencies = new ArrayList<>();
        int enrolled = 0;
        int byPolicy = 0;
        for (Future<double[]> f : futures) {
            double[] v = f.get();
            latencies.add(v[0]);
            enrolled += (int) v[1];
            byPolicy += (int) v[2];
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        pool.shutdown();
        Collections.sort(latencies);
        long calls = SystemBenchmark.webhookCalls(k8s, SystemBenchmark.MUTATE_HOOK) - callsBefore;
        Map<String, Double> plugins = new java.util.TreeMap<>();
        pluginSeconds(k8s).forEach((name, sum) -> plugins.put(name, sum - pluginsBefore.getOrDefault(name, 0.0)));
        return new Result(n / seconds, latencies.get(n / 2), latencies.get((int) Math.ceil(n * 0.99) - 1), calls, enrolled, byPolicy, n,
                plugins);
    }

    /**
     * Seconds the API server spent in each admission plugin so far, pod creates only
     * ({@code apiserver_admission_controller_admission_duration_seconds_sum{name, operation="CREATE"}}, summed over types):
     * where a mode's cost lies.
     */
    static Map<String, Double> pluginSeconds(KubernetesClient k8s) {
        Map<String, Double> sums = new java.util.TreeMap<>();
        for (String line : k8s.raw("/metrics").lines().toList()) {
            if (line.startsWith("apiserver_admission_controller_admission_duration_seconds_sum{") && line.contains("operation=\"CREATE\"")) {
                int i = line.indexOf("name=\"") + 6;
                String name = line.substring(i, line.indexOf('"', i));
                sums.merge(name, Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)), Double::sum);
            }
        }
        return sums;
    }

    /**
     * Exactly the policy and webhook of {@code mode}, then waits until the API server acts on both (it loads them
     * asynchronously): dry-run probes in the opted-in namespace: a literal client shows whether the policy enrolls;
     * a ConfigMap client (which the policy leaves alone) whether the webhook does.
     */
    static void enter(KubeTestCluster cluster, Mode mode, String policy) throws Exception {
        KubernetesClient k8s = cluster.client();
        if (mode == Mode.POLICY_NO_WARNING) {
            EnrollPolicies.delete(); // then only the mutating policy and its binding
            EnrollPolicies.install(String.join("---\n", java.util.Arrays.stream(policy.split("(?m)^---\n"))
                    .filter(d -> d.contains("kind: MutatingAdmissionPolicy")).toList()));
        } else if (mode.policy) {
            EnrollPolicies.install(policy);
        } else {
            EnrollPolicies.delete();
        }
        if (mode.webhook) {
            cluster.registerWebhook(SystemBenchmark.MUTATE_CONFIG, "https://localhost:8443/mutate", "Ignore");
        } else {
            cluster.deregisterWebhook(SystemBenchmark.MUTATE_CONFIG);
        }
        long t0 = System.nanoTime();
        while (true) {
            Pod lit = k8s.pods().inNamespace(OPTED_IN).resource(named(literal(), "probe-literal")).dryRun().create();
            Pod cm = k8s.pods().inNamespace(OPTED_IN).resource(named(configMapClient(), "probe-configmap")).dryRun().create();
            boolean policyOn = lit.getMetadata().getAnnotations() != null
                    && dev.zeebeambient.enforcer.enrollment.Origin.POLICY.tag().equals(lit.getMetadata().getAnnotations().get("zeebe-ambient-enforcer.io/enrolled-by"));
            boolean webhookOn = cm.getMetadata().getLabels() != null && "ambient".equals(cm.getMetadata().getLabels().get("istio.io/dataplane-mode"));
            if (policyOn == mode.policy && webhookOn == mode.webhook) {
                break;
            }
            if (System.nanoTime() - t0 > 60_000_000_000L) {
                throw new IllegalStateException("mode " + mode + " not in effect after 60 s (policy " + policyOn + ", webhook " + webhookOn + ")");
            }
            Thread.sleep(100);
        }
        System.err.printf(Locale.ROOT, "admission path %s in effect after %.1f s%n", mode, (System.nanoTime() - t0) / 1e9);
    }

    static Pod named(Pod p, String name) {
        p.getMetadata().setName(name);
        return p;
    }

    /** The system benchmark's worker: its address literally in ZEEBE_ADDRESS. */
    static Pod literal() {
        return SystemBenchmark.workerPod("x");
    }

    /** A client whose address is in a ConfigMap (the policy cannot see it; the webhook reads it). */
    static Pod configMapClient() {
        return new PodBuilder().withNewMetadata().withName("x").addToLabels("app", "worker").endMetadata()
                .withNewSpec().addNewContainer().withName("worker").withImage("worker:1")
                .addNewEnv().withName("ZEEBE_ADDRESS").withNewValueFrom().withNewConfigMapKeyRef("address", "zeebe", false)
                .endValueFrom().endEnv()
                .addNewEnv().withName("JAVA_OPTS").withValue("-Xmx512m").endEnv()
                .endContainer().endSpec().build();
    }

    /** Not a client: a web app with the env such apps carry. */
    static Pod other(int i) {
        return new PodBuilder().withNewMetadata().withName("x").addToLabels("app", "web").endMetadata()
                .withNewSpec().addNewContainer().withName("web").withImage("web:1")
                .addNewEnv().withName("PORT").withValue("8080").endEnv()
                .addNewEnv().withName("DATABASE_URL").withValue("postgres://db.shop:5432/orders").endEnv()
                .addNewEnv().withName("JAVA_OPTS").withValue("-Xmx256m -Dinstance=" + i).endEnv()
                .addNewEnv().withName("SPRING_PROFILES_ACTIVE").withValue("prod").endEnv()
                .endContainer().endSpec().build();
    }
}
