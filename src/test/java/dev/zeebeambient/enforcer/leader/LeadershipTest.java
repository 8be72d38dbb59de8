package dev.zeebeambient.enforcer.leader;

import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.testsupport.Eventually;
import dev.zeebeambient.enforcer.testsupport.FaultCluster;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import dev.zeebeambient.enforcer.testsupport.TestConfig;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.Interceptor;
import io.fabric8.kubernetes.client.http.Interceptor.RequestTags;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * When a replica counts as leader, on a real API server of its own (no other test's replica competes for the Lease),
 * as the ServiceAccount with the base RBAC:
 * <ul>
 * <li>only after its own write of the Lease succeeded: fabric8 reports "started leading" as soon as it reads a record
 * naming this replica, which after a step-down is the stale record of its previous term, while the renewal that would
 * make it true can still fail;</li>
 * <li>an acquire whose write completes while the replica is shutting down is released, not left for the others to
 * wait out (the elector releases nothing on cancel).</li>
 * </ul>
 */
class LeadershipTest {

    static final String LEASE = "zeebe-ambient-enforcer-leader";
    static FaultCluster fault;
    static KubernetesClient admin;
    static Path saKubeconfig;
    static String ns;

    @BeforeAll
    static void cluster() throws Exception {
        fault = new FaultCluster();
        admin = fault.cluster().client();
        saKubeconfig = fault.cluster().installEnforcerIdentity("base");
        ns = KubeTestCluster.SA_NAMESPACE;
    }

    @AfterAll
    static void stop() {
        if (fault != null) {
            fault.close();
        }
    }

    @BeforeEach
    void noLease() {
        admin.leases().inNamespace(ns).withName(LEASE).delete();
        admin.admissionRegistration().v1().validatingAdmissionPolicyBindings().withName("deny-lease-writes").delete();
        admin.admissionRegistration().v1().validatingAdmissionPolicies().withName("deny-lease-writes").delete();
    }

    static EnforcerConfig config(String identity) {
        return TestConfig.with(Map.of("enforcer.leader-election.identity", identity, "enforcer.own-namespace", ns,
                "enforcer.leader-election.lease-duration", "4s", "enforcer.leader-election.renew-deadline", "3s",
                "enforcer.leader-election.retry-period", "500ms"));
    }

    static KubernetesClient serviceAccount(Interceptor interceptor) throws Exception {
        Config config = Config.fromKubeconfig(Files.readString(saKubeconfig));
        KubernetesClientBuilder b = new KubernetesClientBuilder().withConfig(config);
        if (interceptor != null) {
            b.withHttpClientBuilderConsumer(h -> h.addOrReplaceInterceptor("test", interceptor));
        }
        return b.build();
    }

    static Lease lease() {
        return admin.leases().inNamespace(ns).withName(LEASE).get();
    }

    @Test
    void aReplicaNamedByAStaleLeaseLeadsOnlyAfterItsOwnWrite() throws Exception {
        // its previous term: the Lease names it, still valid, and its renewals are refused (what a step-down leaves behind
        // when the API server answers again but the write does not go through)
        admin.leases().inNamespace(ns).resource(new LeaseBuilder().withNewMetadata().withName(LEASE).endMetadata().withNewSpec()
                .withHolderIdentity("replica-a").withLeaseDurationSeconds(4).withRenewTime(ZonedDateTime.now()).withAcquireTime(ZonedDateTime.now())
                .endSpec().build()).create();
        admin.resource(new io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder()
                .withApiVersion("admissionregistration.k8s.io/v1").withKind("ValidatingAdmissionPolicy")
                .withNewMetadata().withName("deny-lease-writes").endMetadata()
                .withAdditionalProperties(Map.of("spec", Map.of("failurePolicy", "Fail",
                        "matchConstraints", Map.of("resourceRules", java.util.List.of(Map.of("apiGroups", java.util.List.of("coordination.k8s.io"),
                                "apiVersions", java.util.List.of("v1"), "operations", java.util.List.of("UPDATE"), "resources", java.util.List.of("leases")))),
                        "validations", java.util.List.of(Map.of("expression", "!request.userInfo.username.startsWith('system:serviceaccount:" + ns + ":')",
                                "message", "test: Lease renewals refused")))))
                .build()).create();
        admin.resource(new io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder()
                .withApiVersion("admissionregistration.k8s.io/v1").withKind("ValidatingAdmissionPolicyBinding")
                .withNewMetadata().withName("deny-lease-writes").endMetadata()
                .withAdditionalProperties(Map.of("spec", Map.of("policyName", "deny-lease-writes", "validationActions", java.util.List.of("Deny"))))
                .build()).create();
        try (KubernetesClient sa = serviceAccount(null)) {
            // the policy is in force once a write as the ServiceAccount is refused
            Eventually.await(() -> {
                try {
                    sa.leases().inNamespace(ns).withName(LEASE).edit(l -> {
                        l.getSpec().setLeaseDurationSeconds(4);
                        l.getSpec().setRenewTime(ZonedDateTime.now());
                        return l;
                    });
                    return false;
                } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
                    return e.getMessage().contains("Lease renewals refused");
                }
            }, 30, "the test policy refuses Lease writes");
            Leadership replica = new Leadership(sa, config("replica-a"), null);
            AtomicInteger led = new AtomicInteger();
            replica.onLeading(led::incrementAndGet);
            replica.begin();
            try {
                Thread.sleep(3000); // six retry periods, each reading the record that names it and failing to renew
                assertEquals(0, led.get(), "the replica acted as leader on a record it had not written (the renewal was refused)");
                assertFalse(replica.isLeader());
                // its writes go through again: it leads, once
                admin.admissionRegistration().v1().validatingAdmissionPolicyBindings().withName("deny-lease-writes").delete();
                Eventually.await(replica::isLeader, 30, "replica-a leads once it renewed the Lease itself");
                assertEquals(1, led.get());
            } finally {
                replica.end();
            }
        }
    }

    @Test
    void anAcquireThatCompletesDuringShutdownIsReleased() throws Exception {
        CountDownLatch inFlight = new CountDownLatch(1);
        CountDownLatch proceed = new CountDownLatch(1);
        // the Lease's create waits in the client until the test lets it go: the write is under way when end() runs
        Interceptor holdCreate = new Interceptor() {
            @Override
            public void before(BasicBuilder builder, HttpRequest request, RequestTags tags) {
                if ("POST".equals(request.method()) && request.uri().getPath().endsWith("/leases")) {
                    inFlight.countDown();
                    try {
                        proceed.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        };
        try (KubernetesClient sa = serviceAccount(holdCreate)) {
            Leadership replica = new Leadership(sa, config("replica-b"), null);
            replica.begin();
            assertTrue(inFlight.await(30, TimeUnit.SECONDS), "the replica tries to create the Lease");
            // SIGTERM: end() stops the elector, which waits for the write under way (fabric8 holds its monitor over it)
            CompletableFuture<Void> ended = CompletableFuture.runAsync(replica::end);
            Thread.sleep(500);
            assertNull(lease(), "nothing written yet");
            proceed.countDown(); // the create goes through after all
            ended.get(30, TimeUnit.SECONDS);
            Eventually.await(() -> lease() != null, 10, "the in-flight create lands");
            Eventually.await(() -> {
                Lease l = lease();
                return l.getSpec().getHolderIdentity() == null || l.getSpec().getHolderIdentity().isEmpty();
            }, 10, "the shut-down replica gives the Lease it just acquired back (holder now: "
                    + lease().getSpec().getHolderIdentity() + ")");
            assertFalse(replica.isLeader(), "a stopped replica never leads");
        }
    }
}
