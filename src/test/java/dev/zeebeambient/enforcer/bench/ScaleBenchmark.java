package dev.zeebeambient.enforcer.bench;

import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import dev.zeebeambient.enforcer.testsupport.Replica;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;

/**
 * Issue 14: the enforcer (packaged jar, the image's JVM flags, the shipped ServiceAccount) against
 * a real API server holding 10,000 pods in 50 namespaces, 5 of them opted in. Each stage starts a
 * fresh enforcer and reports start → ready, heap after a full GC and RSS once the backstop is idle:
 * <ol>
 * <li>1,000 pods, none in an opted-in namespace;</li>
 * <li>9,000 pods, none in an opted-in namespace (slope for pods that cannot matter);</li>
 * <li>+100 unlabelled Zeebe client pods in the opted-in namespaces (webhook off), then +900 more:
 * the difference is the cost of a watched pod;</li>
 * <li>all 1,000 unlabelled again: time from the JVM's start until all are labelled at the default rate,
 * then at {@code -Dfast.rate} patches/s;</li>
 * <li>+500 pods mounting 500 distinct large ConfigMaps: heap stays bounded by the cache's byte limit.</li>
 * </ol>
 * Prints a table; asserts nothing (targets are goals, not tests). Options: -Dplain.pods=9000
 * -Dclient.pods=1000 -Dconfigmaps=500 -Dconfigmap.kib=128 -Dfast.rate=200 -Dreplica.jar=... (another build).
 */
public final class ScaleBenchmark {

    static final String OPT_IN = "zeebe-ambient-enforcer.io/enabled";
    static final String MODE = "istio.io/dataplane-mode";
    static final int PLAIN_NS = 45;
    static final int OPTED_NS = 5;

    record Stage(String name, int podsInCluster, int watched, double startToReady, double startToLeader, double startToLabelled,
            double heapMb, double rssMb, double cacheMb) {
    }

    public static void main(String[] args) throws Exception {
        int plainPods = Integer.getInteger("plain.pods", 9000);
        int clientPods = Integer.getInteger("client.pods", 1000);
        int configMaps = Integer.getInteger("configmaps", 500);
        int cmKib = Integer.getInteger("configmap.kib", 128);
        String fastRate = System.getProperty("fast.rate", "200");

        KubeTestCluster cluster = KubeTestCluster.get();
        KubernetesClient k8s = cluster.client();
        cluster.installCrds();
        cluster.waypointGatewayClass();
        for (String ns : List.of("camunda", "istio-system", KubeTestCluster.SA_NAMESPACE)) {
            cluster.namespace(ns, Map.of());
        }
        k8s.resource(new ServiceBuilder().withNewMetadata().withName("camunda-zeebe-gateway").withNamespace("camunda").endMetadata()
                .withNewSpec().addToSelector("app.kubernetes.io/component", "zeebe-gateway").addNewPort().withPort(26500).endPort()
                .endSpec().build()).serverSideApply();
        for (int i = 0; i < PLAIN_NS; i++) {
            cluster.namespace(plainNs(i), Map.of());
        }
        for (int i = 0; i < OPTED_NS; i++) {
            cluster.namespace(optedNs(i), Map.of(OPT_IN, "true"));
        }
        Path kubeconfig = cluster.installEnforcerIdentity("base");
        List<Stage> stages = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            int first = Math.min(1000, plainPods);
            long t = System.nanoTime();
            create(k8s, pool, first, i -> plainPod(i));
            System.out.printf(Locale.ROOT, "created %d pods in %.1f s%n", first, (System.nanoTime() - t) / 1e9);
            stages.add(measure("1,000 pods, none opted in", kubeconfig, Map.of(), k8s, 0, first));

            t = System.nanoTime();
            create(k8s, pool, plainPods - first, i -> plainPod(first + i));
            System.out.printf(Locale.ROOT, "created %d pods in %.1f s%n", plainPods - first, (System.nanoTime() - t) / 1e9);
            stages.add(measure(String.format(Locale.ROOT, "%,d pods, none opted in", plainPods), kubeconfig, Map.of(), k8s, 0, plainPods));

            int few = clientPods / 10;
            t = System.nanoTime();
            create(k8s, pool, few, ScaleBenchmark::clientPod);
            stages.add(measure(String.format(Locale.ROOT, "+%,d unlabelled clients in opted-in ns", few), kubeconfig, Map.of(), k8s,
                    few, plainPods + few));
            create(k8s, pool, clientPods - few, i -> clientPod(few + i));
            System.out.printf(Locale.ROOT, "created %d unlabelled client pods in %.1f s%n", clientPods, (System.nanoTime() - t) / 1e9);
            stages.add(measure(String.format(Locale.ROOT, "+%,d more (%,d clients)", clientPods - few, clientPods), kubeconfig, Map.of(),
                    k8s, clientPods, plainPods + clientPods));

            unlabel(k8s, pool);
            stages.add(measure(String.format(Locale.ROOT, "%,d unlabelled again, default rate", clientPods), kubeconfig, Map.of(),
                    k8s, clientPods, plainPods + clientPods));
            unlabel(k8s, pool);
            stages.add(measure(String.format(Locale.ROOT, "same, patches-per-second=%s", fastRate), kubeconfig,
                    Map.of("enforcer.backstop.patches-per-second", fastRate), k8s, clientPods, plainPods + clientPods));

            t = System.nanoTime();
            String big = "x".repeat(cmKib * 1024 - 200);
            create(k8s, pool, configMaps, i -> null, i -> k8s.configMaps().inNamespace(optedNs(i % OPTED_NS)).resource(
                    new ConfigMapBuilder().withNewMetadata().withName("app-config-" + i).endMetadata()
                            .addToData("application.yaml", "orders:\n  url: http://orders.apps:8080\n  padding: " + big + i + "\n")
                            .build()).create());
            create(k8s, pool, configMaps, ScaleBenchmark::configMapPod);
            System.out.printf(Locale.ROOT, "created %d ConfigMaps of %d KiB and their pods in %.1f s%n", configMaps, cmKib,
                    (System.nanoTime() - t) / 1e9);
            stages.add(measure(String.format(Locale.ROOT, "+%d pods, %d distinct %d KiB ConfigMaps", configMaps, configMaps, cmKib),
                    kubeconfig, Map.of(), k8s, clientPods, plainPods + clientPods + configMaps));
        } finally {
            pool.shutdownNow();
        }

        System.out.printf(Locale.ROOT, "%n== zeebe-ambient-enforcer scale benchmark (%d cores; JVM flags of Dockerfile.jvm: %s) ==%n",
                Runtime.getRuntime().availableProcessors(), String.join(" ", Replica.jvmFlags()));
        System.out.println("(times from the JVM's start; 'labelled': every client pod has istio.io/dataplane-mode=ambient)");
        System.out.printf(Locale.ROOT, "%-44s %7s %8s %8s %9s %11s %8s %7s %9s%n", "stage", "pods", "watched", "ready s", "leader s",
                "labelled s", "heap MB", "RSS MB", "cache MB");
        for (Stage s : stages) {
            System.out.printf(Locale.ROOT, "%-44s %,7d %,8d %8.1f %9.1f %11s %8.1f %7.0f %9.1f%n", s.name(), s.podsInCluster(), s.watched(),
                    s.startToReady(), s.startToLeader(), Double.isNaN(s.startToLabelled()) ? "-" : String.format(Locale.ROOT, "%.1f", s.startToLabelled()),
                    s.heapMb(), s.rssMb(), Math.max(0, s.cacheMb()));
        }
        Stage a = stages.get(0), b = stages.get(1), c = stages.get(2), d = stages.get(3);
        System.out.printf(Locale.ROOT, "heap per pod in namespaces that did not opt in: %.0f bytes (stage 1 -> 2, %,d more pods)%n",
                (b.heapMb() - a.heapMb()) * 1024 * 1024 / (b.podsInCluster() - a.podsInCluster()), b.podsInCluster() - a.podsInCluster());
        int more = d.podsInCluster() - c.podsInCluster(); // the client pods added between the two stages
        System.out.printf(Locale.ROOT, "heap per client pod in opted-in namespaces: %.0f bytes (stage 3 -> 4, %,d more pods)%n",
                (d.heapMb() - c.heapMb()) * 1024 * 1024 / more, more);
        System.exit(0);
    }

    static String plainNs(int i) {
        return String.format(Locale.ROOT, "team-%02d", i);
    }

    static String optedNs(int i) {
        return String.format(Locale.ROOT, "zeebe-apps-%d", i);
    }

    /** A typical application pod, as a Deployment would create it (labels, probes, resources, env, volumes, owner). */
    static Pod plainPod(int i) {
        String ns = plainNs(i % PLAIN_NS);
        String app = "svc-" + (i % 40);
        PodBuilder b = new PodBuilder().withNewMetadata().withName(app + "-7d9f8b6c5-" + i).withNamespace(ns)
                .addToLabels(Map.of("app.kubernetes.io/name", app, "app.kubernetes.io/instance", app, "app.kubernetes.io/version", "1.4.2",
                        "pod-template-hash", "7d9f8b6c5", "team", ns))
                .addToAnnotations("kubectl.kubernetes.io/restartedAt", "2026-11-20T10:00:00Z")
                .addToAnnotations("prometheus.io/scrape", "true")
                .addNewOwnerReference().withApiVersion("apps/v1").withKind("ReplicaSet").withName(app + "-7d9f8b6c5")
                .withUid("0b6c1f4e-5d7a-4c1e-9a52-3f2b1e8d" + String.format("%04d", i % 10000)).withController(true).endOwnerReference()
                .endMetadata()
                .withNewSpec().addNewContainer().withName(app).withImage("registry.example/" + app + ":1.4.2")
                .addNewPort().withName("http").withContainerPort(8080).endPort()
                .withNewResources().addToRequests("cpu", new Quantity("100m")).addToRequests("memory", new Quantity("256Mi"))
                .addToLimits("memory", new Quantity("512Mi")).endResources()
                .withNewReadinessProbe().withNewHttpGet().withPath("/health/ready").withNewPort(8080).endHttpGet().endReadinessProbe()
                .withNewLivenessProbe().withNewHttpGet().withPath("/health/live").withNewPort(8080).endHttpGet().endLivenessProbe()
                .addNewVolumeMount().withName("config").withMountPath("/config").endVolumeMount()
                .addNewVolumeMount().withName("tmp").withMountPath("/tmp").endVolumeMount()
                .endContainer()
                .addNewVolume().withName("config").withNewConfigMap().withName(app + "-config").endConfigMap().endVolume()
                .addNewVolume().withName("tmp").withNewEmptyDir().endEmptyDir().endVolume()
                .endSpec();
        for (String[] e : new String[][] {{"JAVA_OPTS", "-XX:MaxRAMPercentage=75"}, {"LOG_LEVEL", "info"},
                {"DB_URL", "jdbc:postgresql://postgres." + ns + ":5432/" + app}, {"KAFKA_BOOTSTRAP", "kafka.kafka:9092"},
                {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel-collector.observability:4317"}, {"SPRING_PROFILES_ACTIVE", "prod"},
                {"CACHE_TTL", "300"}, {"FEATURE_FLAGS", "a,b,c"}}) {
            b.editSpec().editFirstContainer().addNewEnv().withName(e[0]).withValue(e[1]).endEnv().endContainer().endSpec();
        }
        return b.build();
    }

    /** A Zeebe client admitted without the label (the webhook was down). */
    static Pod clientPod(int i) {
        Pod p = plainPod(i);
        p.getMetadata().setNamespace(optedNs(i % OPTED_NS));
        p.getMetadata().setName("zeebe-worker-" + i);
        p.getSpec().getContainers().get(0).getEnv().add(new io.fabric8.kubernetes.api.model.EnvVar("ZEEBE_ADDRESS",
                "camunda-zeebe-gateway-grpc.camunda:26500", null));
        return p;
    }

    /** Not a client by its env: only its mounted ConfigMap can tell, so the enforcer reads it. */
    static Pod configMapPod(int i) {
        Pod p = plainPod(i);
        p.getMetadata().setNamespace(optedNs(i % OPTED_NS));
        p.getMetadata().setName("cm-reader-" + i);
        p.getSpec().getVolumes().get(0).getConfigMap().setName("app-config-" + i);
        return p;
    }

    static void create(KubernetesClient k8s, ExecutorService pool, int n, IntFunction<Pod> pod) throws Exception {
        create(k8s, pool, n, pod, null);
    }

    static void create(KubernetesClient k8s, ExecutorService pool, int n, IntFunction<Pod> pod, java.util.function.IntConsumer other)
            throws Exception {
        List<Future<?>> fs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int idx = i;
            fs.add(pool.submit(() -> {
                if (other != null) {
                    other.accept(idx);
                } else {
                    k8s.resource(pod.apply(idx)).create();
                }
            }));
        }
        for (Future<?> f : fs) {
            f.get();
        }
    }

    static long labelled(KubernetesClient k8s) {
        long n = 0;
        for (int i = 0; i < OPTED_NS; i++) {
            n += k8s.pods().inNamespace(optedNs(i)).withLabel(MODE, "ambient").list().getItems().size();
        }
        return n;
    }

    /** Removes the label again (as an admin: the pod-patch policy binds only the enforcer's ServiceAccount). */
    static void unlabel(KubernetesClient k8s, ExecutorService pool) throws Exception {
        List<Future<?>> fs = new ArrayList<>();
        for (int i = 0; i < OPTED_NS; i++) {
            for (Pod p : k8s.pods().inNamespace(optedNs(i)).withLabel(MODE, "ambient").list().getItems()) {
                fs.add(pool.submit(() -> k8s.pods().inNamespace(p.getMetadata().getNamespace()).withName(p.getMetadata().getName())
                        .patch(PatchContext.of(PatchType.JSON), "[{\"op\":\"remove\",\"path\":\"/metadata/labels/istio.io~1dataplane-mode\"}]")));
            }
        }
        for (Future<?> f : fs) {
            f.get();
        }
    }

    static Stage measure(String name, Path kubeconfig, Map<String, String> extra, KubernetesClient k8s, int expectLabelled,
            int podsInCluster) throws Exception {
        Map<String, String> config = new LinkedHashMap<>(Map.of("quarkus.log.category.\"dev.zeebeambient\".level", "WARN"));
        config.putAll(extra);
        long t0 = System.nanoTime();
        try (Replica r = Replica.start("scale", kubeconfig, 48443, 49000, config)) {
            while (!r.ready()) {
                if (!r.alive()) {
                    throw new IllegalStateException("enforcer exited: " + r.log());
                }
                Thread.sleep(20);
            }
            double ready = (System.nanoTime() - t0) / 1e9;
            while (!r.leads()) {
                Thread.sleep(20);
            }
            double leader = (System.nanoTime() - t0) / 1e9;
            double labelledAt = Double.NaN;
            if (expectLabelled > 0) {
                while (labelled(k8s) < expectLabelled) {
                    if (!r.alive()) {
                        throw new IllegalStateException("enforcer exited: " + r.log());
                    }
                    Thread.sleep(200);
                }
                labelledAt = (System.nanoTime() - t0) / 1e9;
            }
            // idle: leader, the backstop's queue empty for a few seconds
            int idle = 0;
            while (idle < 3) {
                String m = r.get("/q/metrics").getValue();
                boolean quiet = r.leads() && metric(m, "zeebe_ambient_backstop_queue") <= 0; // -1: a build without the gauge
                idle = quiet ? idle + 1 : 0;
                Thread.sleep(1000);
            }
            int watched = (int) metric(r.get("/q/metrics").getValue(), "zeebe_ambient_backstop_watched_pods");
            double cache = metric(r.get("/q/metrics").getValue(), "zeebe_ambient_source_cache_bytes") / (1024 * 1024);
            Stage s = new Stage(name, podsInCluster, watched, ready, leader, labelledAt, JvmProbe.heapAfterGcMb(r.pid()),
                    JvmProbe.rssMb(r.pid()), cache);
            System.out.printf(Locale.ROOT, "%s: %s%n", name, s);
            if (System.getProperty("replica.jvm.extra", "").contains("NativeMemoryTracking")) {
                Process nmt = new ProcessBuilder(java.nio.file.Paths.get(System.getProperty("java.home"), "bin", "jcmd").toString(),
                        Long.toString(r.pid()), "VM.native_memory", "summary", "scale=MB").redirectErrorStream(true).start();
                String out = new String(nmt.getInputStream().readAllBytes());
                nmt.waitFor();
                out.lines().filter(l -> l.matches("^(Total|-\\s+\\S.*)\\(reserved.*")).forEach(l -> System.out.println("  nmt " + l.trim()));
            }
            r.terminate(30);
            return s;
        }
    }

    static double metric(String body, String name) {
        for (String line : body.split("\n")) {
            if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return -1;
    }
}
