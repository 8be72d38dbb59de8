package dev.zeebeambient.enforcer.bench;

import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import dev.zeebeambient.enforcer.testsupport.Replica;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Pattern;

/**
 * The soak ({@code src/test/bench/run-soak.sh}, README "Reliability"): two replicas of the packaged enforcer as the
 * ServiceAccount against the local API server, an hour of mixed churn — client and other pods created and deleted
 * across opted-in and other namespaces, a namespace opting in and out, a ConfigMap changing, and a leader change every
 * 10 minutes (the leader frozen with SIGSTOP past its Lease, as a stalled node or a long GC pause would, then resumed:
 * both replicas live the whole hour, so their memory can be compared over it). Every 5 minutes: heap after a full GC
 * and RSS of each replica, ERROR lines and stack traces in their logs, clients never enrolled. Exit status 1 when a
 * client was never enrolled or a replica logged an error.
 * Options: -Dsoak.minutes=60 -Dsoak.report.minutes=5 -Dsoak.leader.minutes=10 -Dsoak.rate=5 (operations per second).
 */
public final class Soak {

    static final Pattern STACK = Pattern.compile("^\\s+at [a-z]", Pattern.MULTILINE);

    record Tracked(String ns, String name, long created, boolean client) {
    }

    public static void main(String[] args) throws Exception {
        Duration total = Duration.ofMinutes(Long.getLong("soak.minutes", 60));
        Duration report = Duration.ofMinutes(Long.getLong("soak.report.minutes", 5));
        Duration leaderEvery = Duration.ofMinutes(Long.getLong("soak.leader.minutes", 10));
        double rate = Double.parseDouble(System.getProperty("soak.rate", "5"));
        KubeTestCluster cluster = KubeTestCluster.get();
        KubernetesClient admin = cluster.client();
        cluster.installCrds();
        cluster.waypointGatewayClass();
        Path kubeconfig = cluster.installEnforcerIdentity("base");
        admin.resource(new ServiceBuilder().withNewMetadata().withName("camunda-zeebe-gateway").withNamespace("camunda").endMetadata()
                .withNewSpec().addToSelector(Map.of("app.kubernetes.io/component", "zeebe-gateway"))
                .addNewPort().withName("grpc").withPort(26500).endPort().endSpec().build()).serverSideApply();
        List<String> in = List.of("soak-in-0", "soak-in-1", "soak-in-2");
        List<String> out = List.of("soak-out-0", "soak-out-1");
        String toggling = "soak-toggle";
        for (String ns : in) {
            cluster.namespace(ns, Map.of("zeebe-ambient-enforcer.io/enabled", "true"));
        }
        for (String ns : out) {
            cluster.namespace(ns, Map.of());
        }
        cluster.namespace(toggling, Map.of());
        for (String ns : concat(concat(in, out), List.of(toggling))) {
            admin.resource(new ConfigMapBuilder().withNewMetadata().withName("zeebe").withNamespace(ns).endMetadata()
                    .addToData("address", "camunda-zeebe-gateway-grpc.camunda:26500").build()).serverSideApply();
            admin.resource(new ConfigMapBuilder().withNewMetadata().withName("other").withNamespace(ns).endMetadata()
                    .addToData("url", "postgres://db:5432/app").build()).serverSideApply();
        }

        List<Replica> replicas = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            int port = 31443 + 10 * i;
            Replica r = Replica.start("soak-" + i, kubeconfig, port, port + 1, Map.of("enforcer.leader-election.identity", "soak-" + i));
            replicas.add(r);
        }
        for (Replica r : replicas) {
            await(() -> r.ready() || !r.alive(), 90, r.name() + " ready");
        }
        cluster.registerWebhook("soak-route", "https://127.0.0.1:31443/mutate", "Ignore"); // soak-0 answers admission throughout

        Random random = new Random(42);
        Deque<Tracked> live = new ArrayDeque<>();
        Map<String, Long> notYetEnrolled = new HashMap<>();
        List<String> neverEnrolled = new ArrayList<>();
        long start = System.nanoTime();
        long nextReport = 0;
        long nextLeaderChange = leaderEvery.toNanos();
        long nextToggle = Duration.ofMinutes(2).toNanos();
        long nextConfigMap = Duration.ofSeconds(20).toNanos();
        long created = 0;
        long deleted = 0;
        long apiErrors = 0;
        int leaderChanges = 0;
        int serial = 0;
        boolean toggledIn = false;
        List<String> rows = new ArrayList<>();
        rows.add(String.format("%6s %8s %8s %9s %9s %9s %9s %7s %7s %6s %s", "min", "created", "deleted", "heap0 MB", "rss0 MB",
                "heap1 MB", "rss1 MB", "errors", "traces", "never", "leader"));
        long period = (long) (1_000_000_000L / rate);
        while (System.nanoTime() - start < total.toNanos()) {
            long now = System.nanoTime() - start;
            try {
                if (now >= nextReport) {
                    rows.add(row(now, created, deleted, replicas, neverEnrolled.size(), leaderOf(replicas)));
                    System.out.println(rows.get(0));
                    System.out.println(rows.get(rows.size() - 1));
                    nextReport += report.toNanos();
                }
                if (now >= nextLeaderChange) {
                    Replica leader = replicas.stream().filter(Replica::leads).findFirst().orElse(null);
                    if (leader != null) {
                        leader.signal("STOP"); // frozen past its Lease: the other takes over; resumed, it follows
                        Thread.sleep(20_000);
                        leader.signal("CONT");
                        leaderChanges++;
                    }
                    nextLeaderChange += leaderEvery.toNanos();
                }
                if (now >= nextToggle) {
                    toggledIn = !toggledIn;
                    cluster.namespace(toggling, toggledIn ? Map.of("zeebe-ambient-enforcer.io/enabled", "true") : Map.of());
                    nextToggle += Duration.ofMinutes(2).toNanos();
                }
                if (now >= nextConfigMap) {
                    String ns = in.get(random.nextInt(in.size()));
                    admin.resource(new ConfigMapBuilder().withNewMetadata().withName("other").withNamespace(ns).endMetadata()
                            .addToData("url", "postgres://db-" + random.nextInt(1000) + ":5432/app").build()).serverSideApply();
                    nextConfigMap += Duration.ofSeconds(20).toNanos();
                }
                // one pod operation
                if (live.size() >= 150 || (live.size() > 50 && random.nextInt(3) == 0)) {
                    Tracked t = live.pollFirst();
                    admin.pods().inNamespace(t.ns()).withName(t.name()).withGracePeriod(0).delete();
                    deleted++;
                } else {
                    List<String> all = concat(concat(in, out), List.of(toggling));
                    String ns = all.get(random.nextInt(all.size()));
                    int kind = random.nextInt(4); // literal client, ConfigMap client, plain pod with a ConfigMap, plain pod
                    boolean client = kind < 2;
                    String name = "soak-" + serial++;
                    EnvVar env = switch (kind) {
                        case 0 -> new EnvVarBuilder().withName("ZEEBE_ADDRESS").withValue("camunda-zeebe-gateway-grpc.camunda:26500").build();
                        case 1 -> new EnvVarBuilder().withName("ZEEBE_ADDRESS").withNewValueFrom().withNewConfigMapKeyRef().withName("zeebe")
                                .withKey("address").endConfigMapKeyRef().endValueFrom().build();
                        case 2 -> new EnvVarBuilder().withName("DB_URL").withNewValueFrom().withNewConfigMapKeyRef().withName("other")
                                .withKey("url").endConfigMapKeyRef().endValueFrom().build();
                        default -> new EnvVarBuilder().withName("PORT").withValue("8080").build();
                    };
                    admin.resource(new PodBuilder().withNewMetadata().withName(name).withNamespace(ns).endMetadata().withNewSpec()
                            .addNewContainer().withName("app").withImage("app:1").withEnv(env).endContainer().endSpec().build()).create();
                    created++;
                    Tracked t = new Tracked(ns, name, System.nanoTime(), client && in.contains(ns));
                    live.addLast(t);
                    if (t.client()) {
                        notYetEnrolled.put(ns + "/" + name, t.created());
                    }
                }
                // clients of namespaces opted in throughout: enrolled within 60 s, or never
                if (serial % 50 == 0) {
                    for (var it = notYetEnrolled.entrySet().iterator(); it.hasNext();) {
                        var e = it.next();
                        String[] nn = e.getKey().split("/");
                        Pod p = admin.pods().inNamespace(nn[0]).withName(nn[1]).get();
                        if (p != null && p.getMetadata().getLabels() != null
                                && "ambient".equals(p.getMetadata().getLabels().get("istio.io/dataplane-mode"))) {
                            it.remove();
                        } else if (System.nanoTime() - e.getValue() > Duration.ofSeconds(60).toNanos()) {
                            neverEnrolled.add(e.getKey());
                            it.remove();
                        }
                    }
                }
            } catch (KubernetesClientException e) {
                apiErrors++; // e.g. a name reused while the old pod terminates: the churn goes on
            }
            Thread.sleep(Math.max(0, period / 1_000_000));
        }
        rows.add(row(System.nanoTime() - start, created, deleted, replicas, neverEnrolled.size(), leaderOf(replicas)));
        System.out.println();
        System.out.println("Soak: " + total.toMinutes() + " min, " + rate + " pod operations/s, " + leaderChanges + " leader changes, "
                + apiErrors + " churn API errors (the churn's own, not the enforcer's)");
        rows.forEach(System.out::println);
        long errors = replicas.stream().mapToLong(r -> count(r.log(), " ERROR ")).sum();
        long traces = replicas.stream().mapToLong(r -> STACK.matcher(r.log()).results().count()).sum();
        System.out.println("clients never enrolled: " + neverEnrolled.size() + (neverEnrolled.isEmpty() ? "" : " " + neverEnrolled)
                + "; ERROR lines: " + errors + "; stack frames: " + traces);
        cluster.deregisterWebhook("soak-route");
        replicas.forEach(Replica::close);
        System.exit(neverEnrolled.isEmpty() && errors == 0 && traces == 0 ? 0 : 1);
    }

    static String row(long nanos, long created, long deleted, List<Replica> replicas, int never, String leader) throws Exception {
        double[] m = new double[4];
        for (int i = 0; i < 2; i++) {
            Replica r = replicas.get(i);
            m[2 * i] = r.alive() ? JvmProbe.heapAfterGcMb(r.pid()) : -1;
            m[2 * i + 1] = r.alive() ? JvmProbe.rssMb(r.pid()) : -1;
        }
        long errors = replicas.stream().mapToLong(r -> count(r.log(), " ERROR ")).sum();
        long traces = replicas.stream().mapToLong(r -> STACK.matcher(r.log()).results().count()).sum();
        return String.format("%6.1f %8d %8d %9.1f %9.1f %9.1f %9.1f %7d %7d %6d %s", nanos / 60e9, created, deleted, m[0], m[1], m[2], m[3],
                errors, traces, never, leader);
    }

    static String leaderOf(List<Replica> replicas) {
        return replicas.stream().filter(Replica::leads).map(Replica::name).findFirst().orElse("-");
    }

    static long count(String log, String s) {
        return log.lines().filter(l -> l.contains(s)).count();
    }

    static <T> List<T> concat(List<T> a, List<T> b) {
        List<T> l = new ArrayList<>(a);
        l.addAll(b);
        return l;
    }

    static void await(java.util.function.BooleanSupplier c, int seconds, String what) throws InterruptedException {
        long until = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > until) {
                throw new IllegalStateException("not within " + seconds + " s: " + what);
            }
            Thread.sleep(100);
        }
    }

    private Soak() {
    }
}
