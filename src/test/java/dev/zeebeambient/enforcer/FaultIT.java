package dev.zeebeambient.enforcer;

import dev.zeebeambient.enforcer.testsupport.FaultCluster;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import dev.zeebeambient.enforcer.testsupport.Replica;
import dev.zeebeambient.enforcer.testsupport.TcpProxy;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.zeebeambient.enforcer.FailoverIT.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Faults, with the packaged enforcer as its ServiceAccount (shipped RBAC and policies) against an API server and etcd of
 * its own ({@link FaultCluster}) that the test kills, restarts and compacts, and a TCP proxy between the enforcer and the
 * API server that blackholes, delays and cuts ({@link TcpProxy}); the API server keeps calling the webhook directly.
 * What must hold in every scenario: no client pod is left unenrolled, the replica recovers without a restart, nothing
 * it logs is a stack trace. Each prints its figures (time to recover, pods, log lines, memory).
 */
class FaultIT {

    static final Duration LEASE = Duration.ofSeconds(6);
    static final String APPS = "fault-apps";
    static final String DR = "networking.istio.io/v1";
    static FaultCluster fault;
    static KubeTestCluster cluster;
    static KubernetesClient admin;
    static Path saKubeconfig;
    static final List<Replica> replicas = new ArrayList<>();
    static final List<TcpProxy> proxies = new ArrayList<>();
    static final List<String> measured = new ArrayList<>();
    static int nextPort = 30443;

    @BeforeAll
    static void start() throws Exception {
        fault = new FaultCluster();
        cluster = fault.cluster();
        admin = cluster.client();
        cluster.installCrds();
        cluster.waypointGatewayClass();
        saKubeconfig = cluster.installEnforcerIdentity("base");
        cluster.chartGatewayService();
        cluster.namespace(APPS, Map.of("zeebe-ambient-enforcer.io/enabled", "true"));
        admin.resource(new ConfigMapBuilder().withNewMetadata().withName("zeebe").withNamespace(APPS).endMetadata()
                .addToData("address", "camunda-zeebe-gateway-grpc.camunda:26500").build()).serverSideApply();
    }

    @AfterEach
    void stopReplicas() throws Exception {
        replicas.forEach(Replica::close);
        replicas.clear();
        cluster.deregisterWebhook("fault-route");
        admin.pods().inNamespace(APPS).withGracePeriod(0).delete();
        await(() -> admin.pods().inNamespace(APPS).list().getItems().isEmpty(), 30, "pods of the last scenario gone");
    }

    @AfterAll
    static void stop() throws Exception {
        for (TcpProxy p : proxies) {
            p.close();
        }
        if (fault != null) {
            fault.close();
        }
        measured.forEach(m -> System.out.println("FaultIT: " + m));
    }

    static TcpProxy proxy() throws Exception {
        TcpProxy p = new TcpProxy(fault.apiPort());
        proxies.add(p);
        return p;
    }

    /** Identity and short Lease timings (6 s / 4 s / 1 s), as FailoverIT's. */
    static Map<String, String> leaseConfig(String name) {
        Map<String, String> config = new HashMap<>();
        config.put("enforcer.leader-election.identity", name);
        config.put("enforcer.leader-election.lease-duration", LEASE.toSeconds() + "s");
        config.put("enforcer.leader-election.renew-deadline", "4s");
        config.put("enforcer.leader-election.retry-period", "1s");
        return config;
    }

    /** A replica as its ServiceAccount, through {@code proxy} (or directly), short Lease timings as FailoverIT's. */
    static Replica replica(String name, TcpProxy proxy) throws Exception {
        Map<String, String> config = leaseConfig(name);
        config.put("quarkus.shutdown.delay", "1s");
        int port = nextPort;
        nextPort += 10;
        Path kubeconfig = proxy == null ? saKubeconfig : FaultCluster.via(saKubeconfig, proxy.port());
        Replica r = Replica.start(name, kubeconfig, port, port + 1, config);
        replicas.add(r);
        await(() -> r.ready() || !r.alive(), 60, name + " ready");
        assertTrue(r.alive(), name + " exited:\n" + r.log());
        return r;
    }

    static void route(Replica r, int port) {
        cluster.registerWebhook("fault-route", "https://127.0.0.1:" + port + "/mutate", "Ignore");
    }

    /** A client the webhook must decide (its address is in a ConfigMap, which no policy can read). */
    static Pod client(String name) {
        return admin.resource(new PodBuilder().withNewMetadata().withName(name).withNamespace(APPS).endMetadata().withNewSpec()
                .addNewContainer().withName("app").withImage("client:1").addNewEnv().withName("ZEEBE_ADDRESS").withNewValueFrom()
                .withNewConfigMapKeyRef().withName("zeebe").withKey("address").endConfigMapKeyRef().endValueFrom().endEnv()
                .endContainer().endSpec().build()).create();
    }

    static List<String> notEnrolled() {
        return admin.pods().inNamespace(APPS).list().getItems().stream()
                .filter(p -> p.getMetadata().getLabels() == null || !"ambient".equals(p.getMetadata().getLabels().get("istio.io/dataplane-mode")))
                .map(p -> p.getMetadata().getName()).toList();
    }

    static long rssKb(Replica r) {
        return procStatus(r, "VmRSS");
    }

    static long threads(Replica r) {
        return procStatus(r, "Threads");
    }

    /** A number from /proc/<pid>/status (kB for memory), -1 when the process is gone. */
    static long procStatus(Replica r, String key) {
        try {
            Matcher m = Pattern.compile(key + ":\\s+(\\d+)").matcher(Files.readString(Path.of("/proc", Long.toString(r.pid()), "status")));
            return m.find() ? Long.parseLong(m.group(1)) : -1;
        } catch (Exception e) {
            return -1;
        }
    }

    static long count(String log, String regex) {
        return Pattern.compile(regex, Pattern.MULTILINE).matcher(log).results().count();
    }

    static void noStackTrace(Replica r) {
        assertFalse(Pattern.compile("^\\s+at [a-z]", Pattern.MULTILINE).matcher(r.log()).find(), r.name() + " logged a stack trace:\n" + r.log());
    }

    static boolean drPresent() {
        return admin.genericKubernetesResources(DR, "DestinationRule").inNamespace("camunda").withName("camunda-zeebe-gateway-grpc").get() != null;
    }

    static String drUid() {
        return admin.genericKubernetesResources(DR, "DestinationRule").inNamespace("camunda").withName("camunda-zeebe-gateway-grpc").get()
                .getMetadata().getUid();
    }

    /**
     * The API server is SIGKILLed and restarted on the same port and etcd; client pods admitted unlabelled just before
     * and just after (no webhook registered: as if it had been down too). The same replica, never restarted, enrolls all
     * of them, leads again and repairs drift through its re-established watch.
     */
    @Test
    void apiServerRestart() throws Exception {
        Replica a = replica("fault-restart", null);
        await(a::leads, 30, "leads");
        await(FaultIT::drPresent, 30, "bootstrap");
        long rssBefore = rssKb(a);
        for (int i = 0; i < 5; i++) {
            client("before-" + i);
        }
        fault.killApiServer();
        long down = System.nanoTime();
        Thread.sleep(3000);
        var readyDuringOutage = a.get("/q/health/ready");
        var statusDuringOutage = a.get("/status");
        fault.startApiServerAgain();
        long up = System.nanoTime();
        for (int i = 0; i < 5; i++) {
            client("after-" + i);
        }
        await(() -> notEnrolled().isEmpty(), 90, "every client enrolled after the restart: " + notEnrolled());
        long enrolledMs = Duration.ofNanos(System.nanoTime() - up).toMillis();
        await(a::leads, 60, "leads again");
        long leadsMs = Duration.ofNanos(System.nanoTime() - up).toMillis();
        String uid = drUid();
        admin.genericKubernetesResources(DR, "DestinationRule").inNamespace("camunda").withName("camunda-zeebe-gateway-grpc").delete();
        long t = System.nanoTime();
        await(() -> drPresent() && !drUid().equals(uid), 60, "drift repaired after the restart");
        long repairMs = Duration.ofNanos(System.nanoTime() - t).toMillis();
        assertTrue(a.alive(), "the replica survived");
        assertEquals(List.of(), notEnrolled());
        assertTrue(statusDuringOutage.getValue().contains("reconnecting since"), "/status says the watches are reconnecting:\n"
                + statusDuringOutage.getValue());
        noStackTrace(a);
        measured.add(String.format("API server restart (down %d ms): 10 clients (5 before, 5 after) enrolled %d ms after it was back, "
                + "leader again after %d ms, a deleted DestinationRule repaired in %d ms; during the outage ready=%d, /status=%d; "
                + "log: %d WARN, %d ERROR; RSS %d -> %d MB", Duration.ofNanos(up - down).toMillis(), enrolledMs, leadsMs, repairMs,
                readyDuringOutage.getKey(), statusDuringOutage.getKey(), count(a.log(), " WARN "), count(a.log(), " ERROR "),
                rssBefore / 1024, rssKb(a) / 1024));
        measured.add("/status during the API server outage: " + statusDuringOutage.getValue().replaceAll("\\s+", " "));
    }

    /**
     * Watch history lost: the enforcer's connections are cut, pods are admitted unlabelled meanwhile, etcd is compacted to
     * its current revision and restarted, and so is the API server (its watch cache would otherwise still serve the old
     * history): a watch from before answers 410 Gone. Then the connections heal: every watch of the enforcer resumes from
     * a compacted resourceVersion, relists, and no pod is missed.
     */
    @Test
    void etcdCompactionAndRestart() throws Exception {
        TcpProxy proxy = proxy();
        Replica a = replica("fault-compact", proxy);
        await(a::leads, 30, "leads");
        await(FaultIT::drPresent, 30, "bootstrap");
        String before = admin.pods().inNamespace(APPS).list().getMetadata().getResourceVersion(); // where the watches stand
        proxy.cut();
        for (int i = 0; i < 5; i++) {
            client("cut-" + i);
        }
        for (int i = 0; i < 30; i++) { // history the watches would have to replay
            admin.resource(new ConfigMapBuilder().withNewMetadata().withName("churn-" + i).withNamespace(APPS).endMetadata().build()).create();
            admin.configMaps().inNamespace(APPS).withName("churn-" + i).delete();
        }
        long revision = fault.compact();
        fault.killEtcd();
        fault.startEtcdAgain();
        // the API server's watch cache still holds the compacted history; restarted, it starts from etcd's revision
        fault.killApiServer();
        fault.startApiServerAgain();
        // what every watch of the enforcer resumes from is gone: 410
        var gone = new java.util.concurrent.CompletableFuture<Integer>();
        try (var w = admin.pods().inNamespace(APPS).withResourceVersion(before).watch(new io.fabric8.kubernetes.client.Watcher<Pod>() {
            @Override
            public void eventReceived(Action action, Pod resource) {
            }

            @Override
            public void onClose(io.fabric8.kubernetes.client.WatcherException cause) {
                gone.complete(cause == null ? 0 : cause.asClientException().getCode());
            }
        })) {
            assertEquals(410, gone.get(20, java.util.concurrent.TimeUnit.SECONDS), "a watch from before the compaction");
        } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
            assertEquals(410, e.getCode(), e.getMessage());
        }
        for (int i = 0; i < 5; i++) {
            client("etcd-back-" + i);
        }
        long healed = System.nanoTime();
        proxy.heal();
        await(() -> notEnrolled().isEmpty(), 90, "every client enrolled after the watches relisted: " + notEnrolled());
        long enrolledMs = Duration.ofNanos(System.nanoTime() - healed).toMillis();
        await(a::leads, 60, "leads again");
        assertTrue(a.alive());
        noStackTrace(a);
        measured.add(String.format("etcd compacted at revision %d, etcd and API server restarted while the enforcer was cut off (a watch from before: 410): 10 clients enrolled %d ms "
                + "after the connections healed; log: %d lines naming 410/Gone/too old, %d WARN, %d ERROR", revision, enrolledMs,
                count(a.log(), "410|Gone|too old"), count(a.log(), " WARN "), count(a.log(), " ERROR ")));
    }

    /**
     * A partition between the leader and the API server (blackhole: nothing refused, nothing answered) while the API
     * server still calls its webhook: a client whose address is in a ConfigMap is admitted unlabelled within the
     * webhook's deadline (allowed with a warning, never the API server's timeout); the leader stops leading before its
     * Lease expires; the other replica takes over and enrolls the client; after healing nothing is left unenrolled.
     */
    @Test
    void partitionFromTheApiServer() throws Exception {
        TcpProxy proxy = proxy();
        Replica a = replica("fault-partitioned", proxy);
        await(a::leads, 30, "a leads");
        Replica b = replica("fault-follower", null);
        await(FaultIT::drPresent, 30, "bootstrap");
        int aPort = nextPort - 20;
        route(a, aPort);
        Thread.sleep(1000);
        proxy.blackhole();
        long cut = System.nanoTime();
        long t = System.nanoTime();
        client("partitioned-0");
        long admitMs = Duration.ofNanos(System.nanoTime() - t).toMillis();
        await(() -> !a.leads(), (int) LEASE.toSeconds(), "a stops leading before its Lease could expire");
        long stepDownMs = Duration.ofNanos(System.nanoTime() - cut).toMillis();
        await(b::leads, 30, "b takes over");
        long takeoverMs = Duration.ofNanos(System.nanoTime() - cut).toMillis();
        await(() -> notEnrolled().isEmpty(), 60, "b's backstop enrolls what a's webhook could not: " + notEnrolled());
        proxy.heal();
        client("healed-0");
        await(() -> notEnrolled().isEmpty(), 60, "nothing left unenrolled after healing: " + notEnrolled());
        Thread.sleep(2000);
        assertFalse(a.leads() && b.leads(), "two leaders at once");
        assertTrue(admitMs < 5000, "admitted within the webhook's deadline, not the API server's timeout: " + admitMs + " ms");
        assertTrue(stepDownMs < LEASE.toMillis(), "a stepped down after " + stepDownMs + " ms, not before its Lease expired");
        assertTrue(a.alive() && b.alive());
        noStackTrace(a);
        noStackTrace(b);
        // stepping down must not send a release into the partition: it would hang the watchdog and fail as an ERROR on heal
        assertEquals(0, count(a.log(), " ERROR "), "a logged errors:\n" + a.log());
        measured.add(String.format("partition of the leader: a ConfigMap client admitted in %d ms (unlabelled, webhook could not read the "
                + "ConfigMap); the leader stepped down after %d ms (Lease %d s), the follower led after %d ms and enrolled it",
                admitMs, stepDownMs, LEASE.toSeconds(), takeoverMs));
    }

    /**
     * A slow API server (2 s added to every chunk the enforcer sends): the webhook still answers within its deadline; 20
     * clients later, threads and memory have not grown without bound, and every client is enrolled.
     */
    @Test
    void slowApiServer() throws Exception {
        TcpProxy proxy = proxy();
        Replica a = replica("fault-slow", proxy);
        await(a::leads, 30, "leads");
        await(FaultIT::drPresent, 30, "bootstrap");
        route(a, nextPort - 10);
        Thread.sleep(1000);
        long threadsBefore = threads(a);
        long rssBefore = rssKb(a);
        proxy.delay(2000);
        long worst = 0;
        for (int i = 0; i < 20; i++) {
            long t = System.nanoTime();
            client("slow-" + i);
            worst = Math.max(worst, Duration.ofNanos(System.nanoTime() - t).toMillis());
        }
        long threadsSlow = threads(a);
        proxy.heal();
        await(() -> notEnrolled().isEmpty(), 120, "every client enrolled once the API server is fast again: " + notEnrolled());
        assertTrue(worst < 5000, "slowest admission " + worst + " ms: within the webhook's deadline");
        assertTrue(threadsSlow < threadsBefore + 64, "threads " + threadsBefore + " -> " + threadsSlow);
        assertTrue(a.alive());
        noStackTrace(a);
        measured.add(String.format("slow API server (+2 s per request chunk): slowest of 20 admissions %d ms; threads %d -> %d; RSS %d -> %d MB",
                worst, threadsBefore, threadsSlow, rssBefore / 1024, rssKb(a) / 1024));
    }

    /** Pods a replica's log says its backstop enrolled. */
    static java.util.Set<String> enrolledBy(Replica r) {
        java.util.Set<String> pods = new java.util.TreeSet<>();
        Matcher m = Pattern.compile("backstop: enrolled running pod (\\S+)").matcher(r.log());
        while (m.find()) {
            pods.add(m.group(1));
        }
        return pods;
    }

    /**
     * The leader is SIGKILLed in the middle of a backstop wave (300 clients admitted while no webhook ran) and, on its
     * successor's first start, in the middle of a bootstrap pass: the next leader finishes both; no pod is patched by
     * both; the bootstrap converges with every object whole.
     */
    @Test
    void killedMidWork() throws Exception {
        Replica a = replica("fault-killed", null);
        await(a::leads, 30, "a leads");
        await(FaultIT::drPresent, 30, "bootstrap");
        Replica b = replica("fault-successor", null);
        int n = Integer.getInteger("fault.wave", 300);
        for (int i = 0; i < n; i++) {
            client("wave-" + i);
        }
        await(() -> enrolledBy(a).size() >= 20, 60, "a's backstop is in the middle of the wave");
        a.kill(); // SIGKILL: no Lease release, no graceful stop
        long killed = System.nanoTime();
        int byA = enrolledBy(a).size();
        await(b::leads, 30, "b takes over once the Lease expires");
        long takeoverMs = Duration.ofNanos(System.nanoTime() - killed).toMillis();
        await(() -> notEnrolled().isEmpty(), 120, "b finishes the wave: " + notEnrolled().size() + " left");
        long doneMs = Duration.ofNanos(System.nanoTime() - killed).toMillis();
        java.util.Set<String> twice = new java.util.TreeSet<>(enrolledBy(a));
        twice.retainAll(enrolledBy(b));
        assertEquals(java.util.Set.of(), twice, "pods patched by both replicas");
        noStackTrace(b);

        // b killed in its first bootstrap pass after the objects were deleted; c converges them
        for (String kind : List.of("DestinationRule")) {
            admin.genericKubernetesResources(DR, kind).inNamespace("camunda").withName("camunda-zeebe-gateway-grpc").delete();
        }
        admin.services().inNamespace("camunda").withName("camunda-zeebe-gateway-grpc").delete();
        await(() -> admin.services().inNamespace("camunda").withName("camunda-zeebe-gateway-grpc").get() != null, 30, "b starts repairing");
        b.kill();
        Replica c = replica("fault-third", null);
        await(c::leads, 30, "c leads");
        await(() -> drPresent() && c.get("/status").getValue().replaceAll("\\s", "").contains("\"phase\":\"converged\""), 60,
                "c's bootstrap converged");
        var svc = admin.services().inNamespace("camunda").withName("camunda-zeebe-gateway-grpc").get();
        assertEquals("waypoint", svc.getMetadata().getLabels().get("istio.io/use-waypoint"), "the gRPC Service is whole");
        noStackTrace(c);
        measured.add(String.format("leader SIGKILLed in a backstop wave of %d pods after it enrolled %d: the successor led after %d ms "
                + "(Lease %d s) and the wave was done after %d ms; pods patched by both: 0; a bootstrap pass killed midway was "
                + "finished by the next leader", n, byA, takeoverMs, LEASE.toSeconds(), doneMs));
    }

    /**
     * Self-managed TLS renewing its certificate on every check (certificate validity 10 min, renew 20 min before
     * expiry, a check a second): the leader is SIGKILLed three times in the middle of that, each time right after a write
     * of the Secret. The Secret is never left unusable: its certificate is signed by its CA and matches its key, the
     * surviving replica serves it, and the API server, trusting the CA injected into the webhook, enrolls a client.
     */
    @Test
    void killedDuringCertificateRotation() throws Exception {
        Path identity = cluster.installEnforcerIdentity("overlays/self-managed-tls");
        cluster.registerWebhook("zeebe-ambient-enforcer", "https://localhost:30943/mutate", "Ignore");
        try {
            List<Replica> killed = new ArrayList<>();
            Replica survivor = null;
            for (int round = 0; round <= 3; round++) {
                // the survivor renews as shipped: once (the Secret's 10-minute certificate is due), then it serves steadily;
                // renewing every second it would also reload every second, and a connection that arrives during a reload is
                // closed by Vert.x (NullPointerException in SslContextUpdate, logged by io.netty), which fails the call open
                Replica r = tlsReplica(identity, round == 3 ? 30943 : 30903 + 10 * round, "fault-tls-" + round, round < 3);
                if (round == 3) {
                    survivor = r;
                    break;
                }
                await(r::leads, 30, r.name() + " leads");
                String rv = secretVersion();
                await(() -> !secretVersion().equals(rv), 30, r.name() + " rotates the certificate");
                String rv2 = secretVersion();
                await(() -> !secretVersion().equals(rv2), 30, r.name() + " rotates it again");
                r.kill(); // right after a write: the next write would have been in flight
                killed.add(r);
            }
            Replica s2 = survivor;
            await(s2::leads, 30, "the last replica leads");
            await(s2::ready, 60, "the last replica serves the Secret's certificate");
            var data = admin.secrets().inNamespace(KubeTestCluster.SA_NAMESPACE).withName("zeebe-ambient-enforcer-tls").get().getData();
            java.security.cert.CertificateFactory cf = java.security.cert.CertificateFactory.getInstance("X.509");
            var cert = (java.security.cert.X509Certificate) cf.generateCertificate(new java.io.ByteArrayInputStream(
                    java.util.Base64.getDecoder().decode(data.get("tls.crt"))));
            boolean signed = false;
            for (var ca : cf.generateCertificates(new java.io.ByteArrayInputStream(java.util.Base64.getDecoder().decode(data.get("ca.crt"))))) {
                try {
                    cert.verify(ca.getPublicKey());
                    signed = true;
                } catch (java.security.GeneralSecurityException notThisOne) {
                    // a CA kept in the bundle until it expires
                }
            }
            assertTrue(signed, "the Secret's certificate is signed by a CA in its bundle");
            cert.checkValidity();
            // the API server trusts what the survivor serves (the caBundle it injected) and the webhook enrolls a client
            Thread.sleep(2000);
            client("after-rotation-kills");
            await(() -> notEnrolled().isEmpty(), 60, "enrolled through the webhook: " + notEnrolled());
            assertEquals("admission", admin.pods().inNamespace(APPS).withName("after-rotation-kills").get().getMetadata().getAnnotations()
                    .get("zeebe-ambient-enforcer.io/enrolled-by"), "enrolled by the webhook, over TLS the API server verified");
            noStackTrace(s2);
            measured.add("self-managed TLS renewing every second, leader SIGKILLed 3 times right after a Secret write: the Secret stayed "
                    + "valid (signed by its CA, in date), the next leader renewed it once and served it, and the API server's call "
                    + "through the injected CA enrolled a client");
        } finally {
            cluster.deregisterWebhook("zeebe-ambient-enforcer");
            saKubeconfig = cluster.installEnforcerIdentity("base");
        }
    }

    static String secretVersion() {
        var s = admin.secrets().inNamespace(KubeTestCluster.SA_NAMESPACE).withName("zeebe-ambient-enforcer-tls").get();
        return s == null ? "" : s.getMetadata().getResourceVersion();
    }

    static Replica tlsReplica(Path kubeconfig, int port, String name, boolean renewingEverySecond) throws Exception {
        Path tls = Files.createTempDirectory("fault-tls");
        Map<String, String> config = leaseConfig(name);
        config.put("enforcer.self-managed-tls.enabled", "true");
        config.put("enforcer.self-managed-tls.extra-dns-names", "localhost");
        if (renewingEverySecond) {
            config.put("enforcer.self-managed-tls.cert-validity", "10m");
            config.put("enforcer.self-managed-tls.renew-before", "20m");
        }
        config.put("enforcer.self-managed-tls.check-period", "1s");
        config.put("enforcer.bootstrap.enabled", "false");
        Replica r = Replica.start(name, kubeconfig, port, port + 1, config,
                Map.of("ENFORCER_TLS_CERT", tls.resolve("tls.crt").toString(), "ENFORCER_TLS_KEY", tls.resolve("tls.key").toString()));
        replicas.add(r);
        await(() -> r.get("/q/health/started").getKey() == 200 || !r.alive(), 60, name + " started");
        assertTrue(r.alive(), name + " exited:\n" + r.log());
        return r;
    }
}
