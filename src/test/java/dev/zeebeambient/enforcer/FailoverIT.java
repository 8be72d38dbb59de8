package dev.zeebeambient.enforcer;

import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import dev.zeebeambient.enforcer.testsupport.Replica;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * High availability as shipped: replicas of the packaged enforcer, each authenticating as the
 * ServiceAccount with exactly the RBAC of {@code webhook-config/base}, against the real API
 * server. A leader that is frozen, killed or terminated hands over the Lease; the new leader
 * repairs a deleted DestinationRule through its watch (the periodic pass is 1 h here); no replica
 * logs a 403. Failsafe runs this after {@code package}; the times measured are printed.
 */
class FailoverIT {

    /**
     * Short enough for a test; the shipped defaults (15 s / 10 s / 2 s) with
     * {@code mvn verify -Dit.test=FailoverIT -Dfailover.lease=15 -Dfailover.renew=10 -Dfailover.retry=2}.
     */
    static final Duration LEASE = Duration.ofSeconds(Long.getLong("failover.lease", 6));
    static final Duration RENEW = Duration.ofSeconds(Long.getLong("failover.renew", 4));
    static final Duration RETRY = Duration.ofSeconds(Long.getLong("failover.retry", 1));
    static final String DR = "networking.istio.io/v1";
    /** An HTTP 403 or an RBAC denial (not the digits 403 inside a thread name). */
    /** An HTTP 403 or "Forbidden" (not the milliseconds of a log timestamp: "00:46:01,403" once failed this test). */
    static final java.util.regex.Pattern DENIED = java.util.regex.Pattern.compile("(?<![0-9,.:])403(?![0-9])|[Ff]orbidden");

    static KubeTestCluster cluster;
    static KubernetesClient admin;
    static Path kubeconfig;
    static final List<Replica> replicas = new ArrayList<>();
    static final List<String> measured = new ArrayList<>();
    static int nextPort = 28443;

    @BeforeAll
    static void cluster() throws Exception {
        cluster = KubeTestCluster.get();
        admin = cluster.client();
        cluster.installCrds();
        cluster.waypointGatewayClass();
        kubeconfig = cluster.installEnforcerIdentity("base");
        cluster.chartGatewayService();
    }

    @AfterAll
    static void stop() {
        replicas.forEach(Replica::close);
        measured.forEach(m -> System.out.println("FailoverIT: " + m));
    }

    static Replica replica(String name) throws Exception {
        Map<String, String> config = new HashMap<>();
        // replica-b is configured with the pre-relocation key: it must still work (with a warning)
        config.put(name.equals("replica-b") ? "enforcer.bootstrap.leader-election.identity" : "enforcer.leader-election.identity", name);
        config.put("enforcer.leader-election.lease-duration", LEASE.toSeconds() + "s");
        config.put("enforcer.leader-election.renew-deadline", RENEW.toSeconds() + "s");
        config.put("enforcer.leader-election.retry-period", RETRY.toSeconds() + "s");
        config.put("enforcer.bootstrap.resync-period", "1h"); // only the watch can repair drift quickly
        config.put("quarkus.shutdown.delay", "2s");
        int port = nextPort++;
        Replica r = Replica.start(name, kubeconfig, port, port + 1000, config);
        replicas.add(r);
        await(() -> r.ready() || !r.alive(), 60, name + " ready");
        assertTrue(r.alive(), name + " exited:\n" + r.log());
        return r;
    }

    static long await(BooleanSupplier condition, int seconds, String what) throws InterruptedException {
        long start = System.nanoTime();
        long until = start + Duration.ofSeconds(seconds).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > until) {
                throw new AssertionError("not within " + seconds + " s: " + what);
            }
            Thread.sleep(50);
        }
        return Duration.ofNanos(System.nanoTime() - start).toMillis();
    }

    static GenericKubernetesResource destinationRule() {
        return admin.genericKubernetesResources(DR, "DestinationRule").inNamespace("camunda")
                .withName("camunda-zeebe-gateway-grpc").get();
    }

    /** The new leader repairs drift through its watch, within seconds. */
    static void newLeaderRepairs(Replica leader) throws InterruptedException {
        await(() -> destinationRule() != null, 30, "bootstrap converged under " + leader.name());
        String uid = destinationRule().getMetadata().getUid();
        admin.genericKubernetesResources(DR, "DestinationRule").inNamespace("camunda").withName("camunda-zeebe-gateway-grpc").delete();
        long ms = await(() -> {
            var dr = destinationRule();
            return dr != null && !dr.getMetadata().getUid().equals(uid);
        }, 15, leader.name() + " restores the deleted DestinationRule through its watch");
        measured.add(leader.name() + " restored a deleted DestinationRule in " + ms + " ms");
    }

    @Test
    void theLeaseChangesHandsWhateverHappensToTheLeader() throws Exception {
        Replica a = replica("replica-a");
        await(a::leads, 30, "replica-a leads");
        Replica b = replica("replica-b");
        Thread.sleep(RETRY.toMillis() * 2);
        assertFalse(b.leads(), "one leader");
        assertTrue(b.get("/status").getValue().contains("\"identity\" : \"replica-b\""), "the deprecated key is honoured");
        assertTrue(b.log().contains("configuration key enforcer.bootstrap.leader-election.identity is deprecated: use "
                + "enforcer.leader-election.identity"), b.log());
        newLeaderRepairs(a);

        // 1. frozen leader (SIGSTOP): nobody releases; the Lease expires
        a.freeze();
        long frozen = await(b::leads, (int) (LEASE.toSeconds() + RETRY.toSeconds() * 3 + 10), "replica-b takes over a frozen leader");
        measured.add("frozen leader: replica-b led after " + frozen + " ms (lease " + LEASE.toMillis() + " ms + retry "
                + RETRY.toMillis() + " ms)");
        assertTrue(frozen <= LEASE.plus(RETRY.multipliedBy(2)).plusSeconds(4).toMillis(), "within lease + retry: " + frozen + " ms");
        newLeaderRepairs(b);
        a.kill();

        // 2. graceful stop (SIGTERM): the Lease is released at once, before the shutdown delay ends
        Replica c = replica("replica-c");
        long t0 = System.nanoTime();
        Thread terminate = new Thread(() -> {
            try {
                b.terminate(30);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        terminate.start();
        long released = await(() -> {
            var l = admin.leases().inNamespace(KubeTestCluster.SA_NAMESPACE).withName("zeebe-ambient-enforcer-leader").get();
            return l != null && !"replica-b".equals(l.getSpec().getHolderIdentity());
        }, 30, "replica-b gives up the Lease");
        measured.add("graceful stop: the Lease was released " + released + " ms after SIGTERM (shutdown delay 2 s)");
        assertTrue(released < 1500, "released at the start of the shutdown delay, not after it: " + released + " ms");
        long graceful = await(c::leads, (int) LEASE.toSeconds() + 10, "replica-c takes over from a terminated leader");
        graceful += released;
        measured.add("graceful stop: replica-c led after " + graceful + " ms");
        assertTrue(graceful < LEASE.toMillis(), "released, not expired: " + graceful + " ms");
        terminate.join(30_000);
        assertFalse(b.alive(), "replica-b exited");
        assertTrue(b.log().contains("released Lease"), b.log());
        measured.add("graceful stop: replica-b exited " + Duration.ofNanos(System.nanoTime() - t0).toMillis()
                + " ms after SIGTERM (shutdown delay 2 s)");
        newLeaderRepairs(c);

        // 3. killed leader (SIGKILL): like frozen, the Lease expires
        Replica d = replica("replica-d");
        c.kill();
        long killed = await(d::leads, (int) (LEASE.toSeconds() + RETRY.toSeconds() * 3 + 10), "replica-d takes over a killed leader");
        measured.add("killed leader: replica-d led after " + killed + " ms");
        assertTrue(killed <= LEASE.plus(RETRY.multipliedBy(2)).plusSeconds(4).toMillis(), "within lease + retry: " + killed + " ms");
        newLeaderRepairs(d);

        var status = d.get("/status");
        assertEquals(200, status.getKey());
        assertTrue(status.getValue().contains("\"watching\""), status.getValue());
        assertEquals(200, d.get("/q/health/group/bootstrap").getKey(), d.get("/q/health/group/bootstrap").getValue());
        for (Replica r : List.of(a, b, c, d)) {
            String log = r.log();
            assertFalse(DENIED.matcher(log).find(),
                    r.name() + " was denied something:\n" + log);
        }
        assertNotNull(destinationRule());
    }

    /** Cleanup mode is its own path: no HTTPS listener, no Lease, no watch; removes ours and exits 0. */
    @Test
    void cleanupModeRemovesOursAndOpensNoListener() throws Exception {
        replicas.forEach(Replica::close);
        Replica leader = replica("replica-before-cleanup");
        await(leader::leads, 30, "a leader bootstraps");
        await(() -> destinationRule() != null, 30, "bootstrap converged");
        leader.terminate(30);
        int https = nextPort++;
        Replica cleanup = Replica.start("cleanup", kubeconfig, https, https + 1000,
                Map.of("enforcer.bootstrap.mode", "cleanup"));
        replicas.add(cleanup);
        boolean listened = false;
        long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (cleanup.alive() && System.nanoTime() < until) {
            try (var s = new java.net.Socket("localhost", https)) {
                listened = true;
            } catch (java.io.IOException closed) {
                // expected
            }
            Thread.sleep(20);
        }
        assertFalse(cleanup.alive(), "cleanup exits by itself:\n" + cleanup.log());
        assertEquals(0, cleanup.terminate(1), cleanup.log());
        assertFalse(listened, "no HTTPS listener in cleanup mode");
        assertEquals(null, destinationRule(), "removed");
        String log = cleanup.log();
        assertTrue(log.contains("cleanup: deleted DestinationRule camunda/camunda-zeebe-gateway-grpc"), log);
        assertFalse(log.contains("leads (Lease") || log.contains("namespace cache synced"), "no Lease, no informer:\n" + log);
    }
}
