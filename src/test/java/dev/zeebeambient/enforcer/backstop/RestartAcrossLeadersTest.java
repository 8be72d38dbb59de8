package dev.zeebeambient.enforcer.backstop;

import dev.zeebeambient.enforcer.leader.Leadership;
import dev.zeebeambient.enforcer.testsupport.Eventually;
import dev.zeebeambient.enforcer.testsupport.KubeApiServerResource;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.apps.ReplicaSetBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Restarts the backstop spaced out survive a change of leader: the replica that scheduled them loses the Lease (a
 * rollout of the enforcer, an API server hiccup) and whoever leads next finds the pods the backstop labelled while they
 * ran, reports them again and restarts the workloads not restarted yet, without restarting again one that was.
 * Here the same replica loses the Lease and takes it again: what it kept is cleared on losing it, as on any replica.
 */
@QuarkusTest
@WithTestResource(value = KubeApiServerResource.class,
        initArgs = @ResourceArg(name = KubeApiServerResource.IDENTITY, value = "overlays/restart-workloads"))
@TestProfile(RestartAcrossLeadersTest.Spaced.class)
class RestartAcrossLeadersTest {

    public static class Spaced implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("enforcer.backstop.enabled", "true", "enforcer.backstop.restart-workloads", "true",
                    "enforcer.backstop.restart-interval", "3s");
        }
    }

    static final String NS = "restart-leaders";
    static final int WORKLOADS = 4;

    @Inject
    Leadership leadership;
    @Inject
    Backstop backstop;

    static String restartedAt(KubernetesClient k8s, String name) {
        Deployment d = k8s.apps().deployments().inNamespace(NS).withName(name).get();
        return RestartWorkloadsTest.restartedAt(d.getSpec().getTemplate().getMetadata().getAnnotations());
    }

    @Test
    void restartsScheduledBeforeALeaderChangeAreMadeByTheNextLeader() throws Exception {
        KubeTestCluster cluster = KubeTestCluster.get();
        KubernetesClient k8s = cluster.client();
        cluster.namespace(NS, Map.of());
        Eventually.await(leadership::isLeader, 30, "leadership");
        List<String> names = new ArrayList<>();
        for (int i = 1; i <= WORKLOADS; i++) {
            String name = "worker-" + i;
            names.add(name);
            Deployment dep = k8s.resource(new DeploymentBuilder().withNewMetadata().withName(name).withNamespace(NS).endMetadata()
                    .withNewSpec().withNewSelector().addToMatchLabels("app", name).endSelector()
                    .withTemplate(RestartWorkloadsTest.client(RestartWorkloadsTest.template(name)).build()).endSpec().build()).create();
            ReplicaSet rs = k8s.resource(new ReplicaSetBuilder().withNewMetadata().withName(name + "-7d9f").withNamespace(NS)
                    .addToOwnerReferences(new OwnerReferenceBuilder().withApiVersion("apps/v1").withKind("Deployment").withName(name)
                            .withUid(dep.getMetadata().getUid()).withController(true).build()).endMetadata()
                    .withNewSpec().withNewSelector().addToMatchLabels("app", name).endSelector()
                    .withTemplate(RestartWorkloadsTest.template(name).build()).endSpec().build()).create();
            RestartWorkloadsTest.running(k8s, RestartWorkloadsTest.ownedPod(name + "-7d9f-a", "ReplicaSet", name + "-7d9f",
                    rs.getMetadata().getUid()).edit().editMetadata().withNamespace(NS).endMetadata().build());
        }
        cluster.namespace(NS, Map.of(RestartWorkloadsTest.OPT_IN, "true")); // the backstop enrolls all four, restarts 3 s apart
        Eventually.await(() -> names.stream().filter(n -> restartedAt(k8s, n) != null).count() == 1, 30, "the first restart");
        String first = names.stream().filter(n -> restartedAt(k8s, n) != null).findFirst().orElseThrow();
        String firstAt = restartedAt(k8s, first);

        // the leader changes before the others are due
        leadership.end();
        // the backstop follows on its own thread (Lease callbacks must not block): soon after, not at once
        Eventually.await(() -> backstop.enrolledWhileRunning().isEmpty(), 10, "a follower keeps no report");
        leadership.begin();
        Eventually.await(leadership::isLeader, 30, "leads again");

        Eventually.await(() -> names.stream().allMatch(n -> restartedAt(k8s, n) != null), 60,
                "every workload enrolled while running is restarted (restarted so far: "
                        + names.stream().filter(n -> restartedAt(k8s, n) != null).toList() + ")");
        assertEquals(firstAt, restartedAt(k8s, first), "the workload restarted before the change is not restarted again");
        Map<String, String> reported = backstop.enrolledWhileRunning().getOrDefault(NS, Map.of());
        assertEquals(WORKLOADS, reported.size(), "the new leader lists the pods enrolled while running: " + reported);
        assertTrue(reported.get(first + "-7d9f-a").startsWith("Restarted Deployment " + NS + "/" + first
                + " (enforcer.backstop.restart-workloads) restarted at "), reported.toString());
        assertTrue(reported.entrySet().stream().filter(e -> !e.getKey().startsWith(first + "-"))
                .allMatch(e -> e.getValue().startsWith("Restarting Deployment " + NS + "/worker-")), reported.toString());
        // and they count as bypassing until replaced: their connections from before the label are outside the waypoint
        String metrics = dev.zeebeambient.enforcer.testsupport.Endpoints.management().get("/q/metrics").asString();
        var m = java.util.regex.Pattern.compile("(?m)^zeebe_ambient_bypassing_clients(?:\\{[^}]*\\})? (\\S+)$").matcher(metrics);
        assertTrue(m.find() && Double.parseDouble(m.group(1)) >= WORKLOADS, "zeebe_ambient_bypassing_clients counts them");
    }
}
