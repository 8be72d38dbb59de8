package dev.zeebeambient.enforcer.bench;

import dev.zeebeambient.enforcer.testsupport.Istiod;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import dev.zeebeambient.enforcer.testsupport.Replica;
import io.fabric8.kubernetes.api.model.ServiceBuilder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Issue 15 §1, "profile before changing": where the packaged enforcer's start-up goes, against the
 * local API server (with istiod, as run-local.sh), as the image runs it. Per round: JVM start →
 * Quarkus "started" → namespace cache synced → ready → leader → bootstrap converged, read from the
 * app's own log timestamps and endpoints; the lifecycle's own line says what each part's start()
 * cost. The first round also records classes loaded (-Xlog:class+load) by origin and package, and
 * a JFR profile of the first seconds (execution samples by package). Prints; asserts nothing.
 * Options: -Drounds=3 -Dreplica.jvm.extra=... (e.g. an AOT/CDS flag to compare).
 */
public final class StartupProfile {

    static final DateTimeFormatter LOG_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss,SSS");

    public static void main(String[] args) throws Exception {
        int rounds = Integer.getInteger("rounds", 3);
        KubeTestCluster cluster = KubeTestCluster.get();
        Path kubeconfig = startupCluster(cluster);
        Path out = Files.createDirectories(Paths.get("target", "startup-profile"));
        List<Map<String, Double>> results = new ArrayList<>();
        String lifecycle = null;
        try (Istiod istiod = Istiod.start(cluster.kubeconfig())) {
            for (int r = 0; r < rounds; r++) {
                String extra = System.getProperty("replica.jvm.extra", "");
                if (r == 0) {
                    System.setProperty("replica.jvm.extra", extra + " -Xlog:class+load=info:file=" + out.resolve("classload.txt")
                            + " -XX:StartFlightRecording=filename=" + out.resolve("startup.jfr") + ",settings=profile,dumponexit=true");
                }
                long t0 = System.currentTimeMillis();
                Map<String, Double> m = new LinkedHashMap<>();
                try (Replica app = Replica.start("startup-" + r, kubeconfig, 48443, 49000, Map.of())) {
                    System.setProperty("replica.jvm.extra", extra);
                    while (!app.ready()) {
                        if (!app.alive()) {
                            throw new IllegalStateException("enforcer exited: " + app.log());
                        }
                        Thread.sleep(10);
                    }
                    m.put("ready (HTTP 200 seen)", (System.currentTimeMillis() - t0) / 1000.0);
                    while (!app.leads()) {
                        Thread.sleep(10);
                    }
                    m.put("leader (HTTP seen)", (System.currentTimeMillis() - t0) / 1000.0);
                    while (app.get("/q/health/group/bootstrap").getKey() != 200) {
                        Thread.sleep(10);
                    }
                    m.put("bootstrap converged (HTTP seen)", (System.currentTimeMillis() - t0) / 1000.0);
                    String log = app.log();
                    logged(log, t0, "started in", "Quarkus \"started\" logged", m);
                    logged(log, t0, "namespace cache synced", "namespace cache synced", m);
                    logged(log, t0, "leads (Lease", "Lease won", m);
                    logged(log, t0, "bootstrap converged", "bootstrap converged", m);
                    Matcher q = Pattern.compile("started in ([0-9.]+)s").matcher(log);
                    if (q.find()) {
                        m.put("Quarkus' own \"started in\"", Double.parseDouble(q.group(1)));
                    }
                    Matcher l = Pattern.compile("lifecycle: parts started \\((.*)\\)").matcher(log);
                    if (l.find()) {
                        lifecycle = l.group(1);
                    }
                    m.put("RSS MB at ready+bootstrap", JvmProbe.rssMb(app.pid()));
                    app.terminate(30);
                }
                results.add(m);
            }
        }

        System.out.printf(Locale.ROOT, "%n== zeebe-ambient-enforcer start-up profile (%d rounds; JVM flags: %s %s) ==%n", rounds,
                String.join(" ", Replica.jvmFlags()), System.getProperty("replica.jvm.extra", ""));
        System.out.println("seconds from process start (first round has -Xlog:class+load and JFR on: slower)");
        for (String k : results.get(0).keySet()) {
            System.out.printf(Locale.ROOT, "  %-36s", k);
            for (Map<String, Double> m : results) {
                System.out.printf(Locale.ROOT, " %7.2f", m.getOrDefault(k, Double.NaN));
            }
            System.out.println();
        }
        System.out.println("lifecycle StartupEvent observer, per part: " + lifecycle);
        classes(out.resolve("classload.txt"));
        samples(out.resolve("startup.jfr"));
        System.exit(0);
    }

    /**
     * What a replica's start needs (as run-local.sh): the CRDs, its namespaces, the chart's gateway
     * Service; returns the shipped ServiceAccount's kubeconfig. Shared with {@link StartupComparison}.
     */
    static Path startupCluster(KubeTestCluster cluster) throws java.io.IOException {
        cluster.installCrds();
        for (String ns : List.of("camunda", "istio-system", KubeTestCluster.SA_NAMESPACE)) {
            cluster.namespace(ns, Map.of());
        }
        cluster.client().resource(new ServiceBuilder().withNewMetadata().withName("camunda-zeebe-gateway").withNamespace("camunda")
                .endMetadata().withNewSpec().addToSelector("app.kubernetes.io/component", "zeebe-gateway").addNewPort().withPort(26500)
                .endPort().endSpec().build()).serverSideApply();
        return cluster.installEnforcerIdentity("base");
    }

    /** Seconds from {@code t0} to the first log line containing {@code marker} (the log's own timestamp). */
    static void logged(String log, long t0, String marker, String name, Map<String, Double> m) {
        for (String line : log.split("\n")) {
            if (line.contains(marker) && line.length() > 23) {
                try {
                    long at = LocalDateTime.parse(line.substring(0, 23), LOG_TIME).atZone(ZoneId.systemDefault()).toInstant().toEpochMilli();
                    m.put(name + " (log)", (at - t0) / 1000.0);
                    return;
                } catch (RuntimeException notATimestamp) {
                    // continuation line
                }
            }
        }
    }

    static void classes(Path file) throws Exception {
        List<String> lines = Files.readAllLines(file);
        Pattern p = Pattern.compile("\\] ([\\w.$/]+) source: (.*)$");
        Map<String, Integer> byOrigin = new TreeMap<>();
        Map<String, Integer> byPackage = new TreeMap<>();
        int total = 0;
        for (String line : lines) {
            Matcher m = p.matcher(line);
            if (!m.find()) {
                continue;
            }
            total++;
            String cls = m.group(1);
            String src = m.group(2);
            String origin = src.startsWith("jrt:") || src.contains("shared objects file") ? "JDK" : src.contains("quarkus-app") ? "application jars"
                    : src.startsWith("__") || src.contains("Lambda") || src.contains("instance of") ? "generated (lambdas, proxies)" : "other";
            byOrigin.merge(origin, 1, Integer::sum);
            if (!origin.equals("JDK")) {
                byPackage.merge(prefix(cls, 3), 1, Integer::sum);
            }
        }
        System.out.printf(Locale.ROOT, "classes loaded during the first round: %,d; by origin: %s%n", total, byOrigin);
        System.out.println("non-JDK classes by package (top 15):");
        top(byPackage, 15).forEach((k, v) -> System.out.printf(Locale.ROOT, "  %6d  %s%n", v, k));
    }

    static void samples(Path jfr) throws Exception {
        Process p = new ProcessBuilder(Paths.get(System.getProperty("java.home"), "bin", "jfr").toString(), "print", "--events",
                "jdk.ExecutionSample", jfr.toString()).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        Map<String, Integer> byTop = new TreeMap<>();
        int n = 0;
        Matcher m = Pattern.compile("stackTrace = \\[\\s*\\n\\s*([\\w.$<>]+)\\.[\\w$<>]+\\(").matcher(text);
        while (m.find()) {
            n++;
            byTop.merge(prefix(m.group(1), 3), 1, Integer::sum);
        }
        System.out.printf(Locale.ROOT, "JFR execution samples in the first round: %d; by package of the running method (top 15):%n", n);
        top(byTop, 15).forEach((k, v) -> System.out.printf(Locale.ROOT, "  %6d  %s%n", v, k));
    }

    static String prefix(String cls, int parts) {
        String[] s = cls.split("\\.");
        return String.join(".", java.util.Arrays.copyOf(s, Math.min(parts, s.length - 1 > 0 ? s.length - 1 : 1)));
    }

    static <K> Map<K, Integer> top(Map<K, Integer> m, int n) {
        return m.entrySet().stream().sorted(Map.Entry.<K, Integer>comparingByValue().reversed()).limit(n)
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (a, b) -> a, LinkedHashMap::new));
    }

}
