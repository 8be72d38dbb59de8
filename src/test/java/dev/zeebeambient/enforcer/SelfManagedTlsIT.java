package dev.zeebeambient.enforcer;

import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import dev.zeebeambient.enforcer.testsupport.Replica;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.ZonedDateTime;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Self-managed TLS from an empty TLS directory, as the packaged jar starts in a pod with
 * {@code overlays/self-managed-tls} (and exactly its RBAC): the start-up placeholder certificate
 * keeps the replica out of readiness (the API server would not trust it) until the leader has
 * written the Secret; keys are written 0600.
 */
class SelfManagedTlsIT {

    @Test
    void notReadyOnThePlaceholderThenReadyOnTheSecretsCertificate() throws Exception {
        KubeTestCluster cluster = KubeTestCluster.get();
        KubernetesClient admin = cluster.client();
        Path kubeconfig = cluster.installEnforcerIdentity("overlays/self-managed-tls");
        cluster.registerWebhook("zeebe-ambient-enforcer", "https://localhost:26443/mutate", "Ignore");
        admin.secrets().inNamespace(KubeTestCluster.SA_NAMESPACE).withName("zeebe-ambient-enforcer-tls").delete();
        // another replica holds the Lease: nobody writes the Secret yet
        var lease = admin.leases().inNamespace(KubeTestCluster.SA_NAMESPACE).resource(new LeaseBuilder().withNewMetadata()
                .withName("zeebe-ambient-enforcer-leader").withNamespace(KubeTestCluster.SA_NAMESPACE).endMetadata()
                .withNewSpec().withHolderIdentity("another-replica").withLeaseDurationSeconds(3600)
                .withRenewTime(ZonedDateTime.now()).withAcquireTime(ZonedDateTime.now()).endSpec().build());
        lease.forceConflicts().fieldManager("enforcer-tests").serverSideApply();
        Path tls = Files.createTempDirectory("self-managed-tls");
        try (Replica r = Replica.start("self-managed-tls", kubeconfig, 26443, 26444,
                Map.of("enforcer.self-managed-tls.enabled", "true", "enforcer.self-managed-tls.extra-dns-names", "localhost",
                        "enforcer.bootstrap.enabled", "false", "enforcer.leader-election.retry-period", "1s"),
                Map.of("ENFORCER_TLS_CERT", tls.resolve("tls.crt").toString(), "ENFORCER_TLS_KEY", tls.resolve("tls.key").toString()))) {
            FailoverIT.await(() -> r.get("/q/health/ready").getKey() == 503 || !r.alive(), 60, "started");
            Thread.sleep(3000);
            var ready = r.get("/q/health/ready");
            assertEquals(503, ready.getKey(), ready.getValue());
            assertTrue(ready.getValue().contains("placeholder"), ready.getValue());
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tls.resolve("tls.key"))));

            admin.leases().inNamespace(KubeTestCluster.SA_NAMESPACE).withName("zeebe-ambient-enforcer-leader").delete();
            long ms = FailoverIT.await(r::ready, 30, "ready once the Secret's certificate is served");
            System.out.println("SelfManagedTlsIT: ready " + ms + " ms after the Lease became free");
            assertNotNull(admin.secrets().inNamespace(KubeTestCluster.SA_NAMESPACE).withName("zeebe-ambient-enforcer-tls").get());
            assertFalse(Files.readString(tls.resolve("tls.crt")).isEmpty());
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tls.resolve("tls.key"))));
            assertFalse(FailoverIT.DENIED.matcher(r.log()).find(), r.log());

            // uninstall: the cleanup run (as the hook Job runs it, once the replicas are gone) removes the Secret it wrote,
            // with the CA's key, and the Lease: no installer owns either
            assertEquals(0 | 143, r.terminate(30) | 143, "the replica stops on SIGTERM");
            try (Replica cleanup = Replica.start("self-managed-tls-cleanup", kubeconfig, 26453, 26454,
                    Map.of("enforcer.self-managed-tls.enabled", "true", "enforcer.bootstrap.mode", "cleanup"),
                    Map.of("ENFORCER_TLS_CERT", tls.resolve("tls.crt").toString(), "ENFORCER_TLS_KEY", tls.resolve("tls.key").toString()))) {
                assertEquals(0, cleanup.awaitExit(60), cleanup.log());
                assertTrue(cleanup.log().contains("Secret " + KubeTestCluster.SA_NAMESPACE + "/zeebe-ambient-enforcer-tls"), cleanup.log());
            }
            assertNull(admin.secrets().inNamespace(KubeTestCluster.SA_NAMESPACE).withName("zeebe-ambient-enforcer-tls").get(),
                    "cleanup deletes the self-managed TLS Secret");
            assertNull(admin.leases().inNamespace(KubeTestCluster.SA_NAMESPACE).withName("zeebe-ambient-enforcer-leader").get(),
                    "cleanup deletes the Lease nobody holds");
        } finally {
            admin.leases().inNamespace(KubeTestCluster.SA_NAMESPACE).withName("zeebe-ambient-enforcer-leader").delete();
            admin.admissionRegistration().v1().mutatingWebhookConfigurations().withName("zeebe-ambient-enforcer").delete();
            admin.secrets().inNamespace(KubeTestCluster.SA_NAMESPACE).withName("zeebe-ambient-enforcer-tls").delete();
            cluster.resetEnforcerIdentity();
        }
    }
}
