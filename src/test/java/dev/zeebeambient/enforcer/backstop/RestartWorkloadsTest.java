package dev.zeebeambient.enforcer.backstop;

import dev.zeebeambient.enforcer.leader.Leadership;
import dev.zeebeambient.enforcer.testsupport.Eventually;
import dev.zeebeambient.enforcer.testsupport.KubeApiServerResource;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import dev.zeebeambient.enforcer.testsupport.Pods;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodTemplateSpecBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.apps.ReplicaSetBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13 §4, opt-in: pods the backstop enrolled while running get their Deployment or
 * StatefulSet restarted (rate-limited), never a bare pod; the ServiceAccount may change nothing
 * of a workload but the restart annotation (ValidatingAdmissionPolicy of components/restart-workloads).
 */
@QuarkusTest
@WithTestResource(value = KubeApiServerResource.class,
        initArgs = @ResourceArg(name = KubeApiServerResource.IDENTITY, value = "overlays/restart-workloads"))
@TestProfile(RestartWorkloadsTest.Restart.class)
class RestartWorkloadsTest {

    public static class Restart implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("enforcer.backstop.enabled", "true", "enforcer.backstop.restart-workloads", "true",
                    "enforcer.backstop.restart-interval", "2s");
        }
    }

    static final String OPT_IN = "zeebe-ambient-enforcer.io/enabled";
    static final String NS = "restart-apps";

    @Inject
    Leadership leadership;
    @Inject
    KubernetesClient app;

    static PodTemplateSpecBuilder template(String app) {
        return new PodTemplateSpecBuilder().withNewMetadata().addToLabels("app", app).endMetadata()
                .withNewSpec().addNewContainer().withName("app").withImage("app:1").endContainer().endSpec();
    }

    static Pod ownedPod(String name, String kind, String owner, String uid) {
        return Pods.pod(name, true).editMetadata().withNamespace(NS).addToOwnerReferences(new OwnerReferenceBuilder()
                .withApiVersion("apps/v1").withKind(kind).withName(owner).withUid(uid).withController(true).build()).endMetadata().build();
    }

    static String restartedAt(Map<String, String> annotations) {
        return annotations == null ? null : annotations.get(WorkloadRestarter.RESTARTED_AT);
    }

    @Test
    void enrolledWhileRunningRestartsTheOwningWorkloadOnly() {
        KubeTestCluster cluster = KubeTestCluster.get();
        KubernetesClient k8s = cluster.client();
        cluster.namespace(NS, Map.of());
        Eventually.await(leadership::isLeader, 30, "leadership");
        Deployment dep = k8s.resource(new DeploymentBuilder().withNewMetadata().withName("worker").withNamespace(NS).endMetadata()
                .withNewSpec().withNewSelector().addToMatchLabels("app", "worker").endSelector()
                .withTemplate(template("worker").build()).endSpec().build()).create();
        ReplicaSet rs = k8s.resource(new ReplicaSetBuilder().withNewMetadata().withName("worker-7d9f").withNamespace(NS)
                .addToOwnerReferences(new OwnerReferenceBuilder().withApiVersion("apps/v1").withKind("Deployment").withName("worker")
                        .withUid(dep.getMetadata().getUid()).withController(true).build()).endMetadata()
                .withNewSpec().withNewSelector().addToMatchLabels("app", "worker").endSelector()
                .withTemplate(template("worker").build()).endSpec().build()).create();
        StatefulSet sts = k8s.resource(new StatefulSetBuilder().withNewMetadata().withName("exporter").withNamespace(NS).endMetadata()
                .withNewSpec().withServiceName("exporter").withNewSelector().addToMatchLabels("app", "exporter").endSelector()
                .withTemplate(template("exporter").build()).endSpec().build()).create();
        k8s.resource(ownedPod("worker-7d9f-a", "ReplicaSet", "worker-7d9f", rs.getMetadata().getUid())).create();
        k8s.resource(ownedPod("worker-7d9f-b", "ReplicaSet", "worker-7d9f", rs.getMetadata().getUid())).create();
        k8s.resource(ownedPod("exporter-0", "StatefulSet", "exporter", sts.getMetadata().getUid())).create();
        k8s.resource(Pods.pod("bare", true).editMetadata().withNamespace(NS).endMetadata().build()).create();

        cluster.namespace(NS, Map.of(OPT_IN, "true")); // the backstop enrolls all four
        Eventually.await(() -> restartedAt(k8s.apps().deployments().inNamespace(NS).withName("worker").get()
                .getSpec().getTemplate().getMetadata().getAnnotations()) != null, 30, "Deployment restarted");
        Eventually.await(() -> restartedAt(k8s.apps().statefulSets().inNamespace(NS).withName("exporter").get()
                .getSpec().getTemplate().getMetadata().getAnnotations()) != null, 30, "StatefulSet restarted after the interval");
        String first = restartedAt(k8s.apps().deployments().inNamespace(NS).withName("worker").get().getSpec().getTemplate()
                .getMetadata().getAnnotations());
        Eventually.stays(() -> first.equals(restartedAt(k8s.apps().deployments().inNamespace(NS).withName("worker").get()
                .getSpec().getTemplate().getMetadata().getAnnotations())), Duration.ofSeconds(3), "two pods, one rollout");
        assertEquals("ambient", k8s.pods().inNamespace(NS).withName("bare").get().getMetadata().getLabels().get("istio.io/dataplane-mode"),
                "bare pods are enrolled, never restarted");
        assertTrue(Pods.enrolledEvents(NS).stream().anyMatch(e -> e.getMessage().contains("Restarting Deployment " + NS + "/worker")));

        // the ServiceAccount can restart, nothing else
        Deployment live = k8s.apps().deployments().inNamespace(NS).withName("worker").get();
        KubernetesClientException e = assertThrows(KubernetesClientException.class, () -> app.apps().deployments().inNamespace(NS)
                .resource(live).patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"replicas\":5}}"));
        assertEquals(403, e.getCode(), e.getMessage());
        assertTrue(e.getMessage().contains("zeebe-ambient-enforcer-workload-restarts"), e.getMessage());
        Integer replicas = k8s.apps().deployments().inNamespace(NS).withName("worker").get().getSpec().getReplicas();
        assertTrue(replicas == null || replicas != 5, "not scaled");
    }
}
