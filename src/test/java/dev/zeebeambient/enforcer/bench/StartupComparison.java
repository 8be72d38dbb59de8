package dev.zeebeambient.enforcer.bench;

import dev.zeebeambient.enforcer.testsupport.Istiod;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import dev.zeebeambient.enforcer.testsupport.Replica;
import dev.zeebeambient.enforcer.testsupport.StartupArchive;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Issue 15 §2 before/after in one run: the packaged enforcer started on each JDK of
 * {@code -Djdks=} (comma-separated homes), each without and with its start-up archive (AppCDS on
 * 17, the JDK AOT cache on 25, recorded by {@code training.AotTraining}), rounds interleaved so
 * the machine's noise hits all variants alike. Per variant the median of: JVM start → ready,
 * → bootstrap converged, RSS at that point. Baseline: the first JDK without an archive.
 * Prints; asserts nothing. Options: -Drounds=5 -Djdks=...
 */
public final class StartupComparison {

    record Variant(String name, Path javaHome, boolean archive) {
    }

    public static void main(String[] args) throws Exception {
        int rounds = Integer.getInteger("rounds", 5);
        List<Variant> variants = new ArrayList<>();
        for (String home : System.getProperty("jdks", System.getProperty("java.home")).split(",")) {
            Path h = Paths.get(home.trim());
            if (!Files.isExecutable(h.resolve("bin").resolve("java"))) {
                throw new IllegalArgumentException("-Djdks: no bin/java in " + h);
            }
            StartupArchive a = StartupArchive.forJdk(h);
            String jdk = "Java " + version(h);
            variants.add(new Variant(jdk, h, false));
            if (Files.isRegularFile(a.path())) {
                variants.add(new Variant(jdk + (a.aotCache() ? " + AOT cache" : " + AppCDS"), h, true));
            } else {
                System.out.println("no start-up archive for " + h + " at " + a.path() + " (see run-startup-compare.sh): skipped");
            }
        }
        KubeTestCluster cluster = KubeTestCluster.get();
        Path kubeconfig = StartupProfile.startupCluster(cluster);
        Map<Variant, List<double[]>> results = new LinkedHashMap<>();
        variants.forEach(v -> results.put(v, new ArrayList<>()));
        try (Istiod istiod = Istiod.start(cluster.kubeconfig())) {
            for (int r = 0; r < rounds; r++) {
                for (Variant v : variants) {
                    System.setProperty("replica.java.home", v.javaHome().toString());
                    System.setProperty("startup.archive", Boolean.toString(v.archive()));
                    long t0 = System.currentTimeMillis();
                    try (Replica app = Replica.start("compare-" + r, kubeconfig, 48443, 49000, Map.of())) {
                        while (!app.ready()) {
                            if (!app.alive()) {
                                throw new IllegalStateException(v.name() + ": enforcer exited: " + app.log());
                            }
                            Thread.sleep(10);
                        }
                        double ready = (System.currentTimeMillis() - t0) / 1000.0;
                        while (app.get("/q/health/group/bootstrap").getKey() != 200) {
                            Thread.sleep(10);
                        }
                        double converged = (System.currentTimeMillis() - t0) / 1000.0;
                        double rss = JvmProbe.rssMb(app.pid());
                        if (v.archive() && app.log().contains("[error][")) {
                            System.out.println(v.name() + ": the JVM refused the archive:\n" + app.log().lines().limit(5).toList());
                        }
                        results.get(v).add(new double[] {ready, converged, rss});
                        app.terminate(30);
                    }
                }
            }
        }
        System.out.printf(Locale.ROOT, "%n== start-up, %d interleaved rounds, medians (image JVM flags: %s) ==%n", rounds,
                String.join(" ", Replica.jvmFlags()));
        System.out.printf(Locale.ROOT, "%-28s %10s %10s %12s %10s%n", "variant", "ready s", "vs base", "bootstrap s", "RSS MB");
        double base = median(results.get(variants.get(0)), 0);
        for (Variant v : variants) {
            List<double[]> rs = results.get(v);
            System.out.printf(Locale.ROOT, "%-28s %10.2f %9.2fx %12.2f %10.0f   (ready per round: %s)%n", v.name(), median(rs, 0),
                    median(rs, 0) / base, median(rs, 1), median(rs, 2),
                    rs.stream().map(x -> String.format(Locale.ROOT, "%.2f", x[0])).toList());
        }
        System.exit(0);
    }

    static double median(List<double[]> rs, int i) {
        double[] v = rs.stream().mapToDouble(x -> x[i]).sorted().toArray();
        return v.length == 0 ? Double.NaN : v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    static String version(Path home) {
        try {
            for (String line : Files.readAllLines(home.resolve("release"))) {
                if (line.startsWith("JAVA_VERSION=")) {
                    return line.substring("JAVA_VERSION=".length()).replace("\"", "");
                }
            }
        } catch (java.io.IOException e) {
            // unnamed
        }
        return home.getFileName().toString();
    }
}
