package dev.zeebeambient.enforcer.bootstrap;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import dev.zeebeambient.enforcer.install.InstallNames;
import dev.zeebeambient.enforcer.testsupport.Chart;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * When cleanup may run after scaling down: no pod of the Deployment exists any more (terminating ones included), and
 * nobody holds the leader Lease or its holder stopped renewing it. Against the real API server, as the ServiceAccount
 * with the base RBAC and the chart's cleanup Role.
 */
class ScaleDownTest {

    static final Instant NOW = Instant.parse("2026-12-02T10:00:00Z");

    static Lease lease(String holder, Instant renewed, Integer seconds) {
        return new LeaseBuilder().withNewMetadata().withName("zeebe-ambient-enforcer-leader").endMetadata().withNewSpec()
                .withHolderIdentity(holder).withRenewTime(renewed == null ? null : ZonedDateTime.ofInstant(renewed, ZoneOffset.UTC))
                .withLeaseDurationSeconds(seconds).endSpec().build();
    }

    @Test
    void cleanupWaitsOnlyForALiveHolder() {
        assertEquals(Optional.empty(), ScaleDown.leaseHeld(null, NOW), "no Lease yet");
        assertEquals(Optional.empty(), ScaleDown.leaseHeld(lease(null, NOW, 15), NOW), "released (SIGTERM)");
        assertEquals(Optional.empty(), ScaleDown.leaseHeld(lease("", NOW, 15), NOW), "released");
        assertEquals(Optional.empty(), ScaleDown.leaseHeld(lease("pod-a", NOW.minusSeconds(16), 15), NOW), "expired (holder killed)");
        Optional<String> held = ScaleDown.leaseHeld(lease("pod-a", NOW.minusSeconds(5), 15), NOW);
        assertTrue(held.isPresent() && held.get().startsWith("pod-a holds it until 2026-12-02T10:00:10Z"), held.toString());
        assertTrue(ScaleDown.leaseHeld(lease("pod-a", null, 15), NOW).isPresent(), "a holder without renew time is not assumed gone");
    }

    /** What the namespace's Pod Security level (restricted) requires of a container. */
    static final io.fabric8.kubernetes.api.model.SecurityContext RESTRICTED = new io.fabric8.kubernetes.api.model.SecurityContextBuilder()
            .withAllowPrivilegeEscalation(false).withRunAsNonRoot(true).withNewCapabilities().withDrop("ALL").endCapabilities()
            .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile().build();

    @Test
    void cleanupWaitsUntilNoPodOfTheDeploymentIsLeftEvenWhenTheLeaseIsFree() throws Exception {
        // an API server of its own: the suite's running enforcer holds the shared one's Lease
        try (dev.zeebeambient.enforcer.testsupport.FaultCluster own = new dev.zeebeambient.enforcer.testsupport.FaultCluster()) {
            scaleDownOn(own.cluster());
        }
    }

    static void scaleDownOn(KubeTestCluster cluster) throws Exception {
        KubernetesClient admin = cluster.client();
        String ns = KubeTestCluster.SA_NAMESPACE;
        KubernetesClient enforcer = new io.fabric8.kubernetes.client.KubernetesClientBuilder().withConfig(
                io.fabric8.kubernetes.client.Config.fromKubeconfig(java.nio.file.Files.readString(cluster.installEnforcerIdentity("base")))).build();
        // the chart's cleanup Role (the scale subresource of its own Deployment), as the uninstall hook runs with it
        for (var o : Chart.objects("--set", "cleanupOnUninstall=true")) {
            String kind = o.path("kind").asText();
            if ((kind.equals("Role") || kind.equals("RoleBinding")) && o.path("metadata").path("name").asText().endsWith("-cleanup")) {
                admin.resource(admin.getKubernetesSerialization().convertValue(o, io.fabric8.kubernetes.api.model.GenericKubernetesResource.class))
                        .inNamespace(ns).fieldManager("scale-down-test").forceConflicts().serverSideApply();
            }
        }
        // the Deployment as installed (an earlier test may have applied the shipped one): its selector picks its pods
        var existing = admin.apps().deployments().inNamespace(ns).withName(InstallNames.NAME).get();
        Integer replicasBefore = existing == null ? null : existing.getSpec().getReplicas();
        if (existing == null) {
            admin.apps().deployments().inNamespace(ns).resource(new DeploymentBuilder().withNewMetadata().withName(InstallNames.NAME)
                    .endMetadata().withNewSpec().withReplicas(2).withNewSelector().withMatchLabels(Map.of("app.kubernetes.io/name",
                            InstallNames.NAME)).endSelector().withNewTemplate().withNewMetadata().withLabels(Map.of("app.kubernetes.io/name",
                            InstallNames.NAME)).endMetadata().withNewSpec().addNewContainer().withName("enforcer").withImage("enforcer:1")
                    .withSecurityContext(RESTRICTED).endContainer().endSpec().endTemplate().endSpec().build()).create();
        }
        Map<String, String> labels = admin.apps().deployments().inNamespace(ns).withName(InstallNames.NAME).get().getSpec().getSelector()
                .getMatchLabels();
        // a follower whose SIGTERM has not arrived: its pod is terminating (a finalizer keeps it), the Lease was released
        admin.pods().inNamespace(ns).resource(new PodBuilder().withNewMetadata().withName("enforcer-follower").withLabels(labels)
                .withFinalizers("test.zeebe-ambient-enforcer.io/hold").endMetadata().withNewSpec().addNewContainer().withName("enforcer")
                .withImage("enforcer:1").withSecurityContext(RESTRICTED).endContainer().endSpec().build()).serverSideApply();
        admin.pods().inNamespace(ns).withName("enforcer-follower").delete();
        admin.leases().inNamespace(ns).resource(lease(null, NOW, 15)).serverSideApply();
        // and a pod that is not the Deployment's (the hook's own) does not count
        admin.pods().inNamespace(ns).resource(new PodBuilder().withNewMetadata().withName("cleanup-hook").withLabels(Map.of(
                "app.kubernetes.io/name", InstallNames.NAME + "-cleanup")).endMetadata().withNewSpec().addNewContainer().withName("c")
                .withImage("enforcer:1").withSecurityContext(RESTRICTED).endContainer().endSpec().build()).serverSideApply();
        String lease = "zeebe-ambient-enforcer-leader";
        try {
            ScaleDown scaleDown = new ScaleDown(enforcer, Clock.systemUTC());
            Optional<String> blocked = scaleDown.run(ns, InstallNames.NAME, lease, Duration.ofSeconds(2));
            assertEquals(0, admin.apps().deployments().inNamespace(ns).withName(InstallNames.NAME).get().getSpec().getReplicas(), "scaled to 0");
            assertTrue(blocked.isPresent() && blocked.get().contains("1 pod(s) of it still exist: enforcer-follower (terminating)")
                    && blocked.get().contains("Deployment " + ns + "/" + InstallNames.NAME), blocked.toString());
            // the pod ends: nothing runs, nothing leads
            admin.pods().inNamespace(ns).withName("enforcer-follower").edit(p -> {
                p.getMetadata().setFinalizers(List.of());
                return p;
            });
            assertEquals(Optional.empty(), scaleDown.run(ns, InstallNames.NAME, lease, Duration.ofSeconds(30)));
        } finally {
            admin.pods().inNamespace(ns).withName("cleanup-hook").withGracePeriod(0).delete();
            if (existing == null) {
                admin.apps().deployments().inNamespace(ns).withName(InstallNames.NAME).delete();
            } else {
                admin.apps().deployments().inNamespace(ns).withName(InstallNames.NAME).scale(replicasBefore == null ? 1 : replicasBefore);
            }
            admin.leases().inNamespace(ns).withName(lease).delete();
        }
    }
}
