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
                    "enforcer.backstop.restart-interval", "1s"); // a workload at most once per 10 s
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

    /** A template whose pods the webhook enrolls (a Zeebe client): restarting brings enrolled pods. */
    static PodTemplateSpecBuilder client(PodTemplateSpecBuilder t) {
        return t.editSpec().editFirstContainer().addNewEnv().withName("ZEEBE_ADDRESS").withValue("camunda-zeebe-gateway-grpc.camunda:26500")
                .endEnv().endContainer().endSpec();
    }

    static Pod ownedPod(String name, String kind, String owner, String uid) {
        return Pods.pod(name, true).editMetadata().withNamespace(NS).addToOwnerReferences(new OwnerReferenceBuilder()
                .withApiVersion("apps/v1").withKind(kind).withName(owner).withUid(uid).withController(true).build()).endMetadata().build();
    }

    /** Creates the pod and reports its container running, as the kubelet would (no kubelet runs here). */
    static Pod running(KubernetesClient k8s, Pod pod) {
        Pod created = k8s.resource(pod).create();
        // a merge patch of the status subresource, not an update: the backstop may have labelled the pod meanwhile
        return k8s.pods().inNamespace(created.getMetadata().getNamespace()).withName(created.getMetadata().getName())
                .subresource("status").patch(PatchContext.of(PatchType.JSON_MERGE), """
                        {"status": {"phase": "Running", "containerStatuses": [{"name": "app", "image": "app:1", "imageID": "",
                          "ready": true, "restartCount": 0, "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}]}}""");
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
                .withTemplate(client(template("worker")).build()).endSpec().build()).create();
        ReplicaSet rs = k8s.resource(new ReplicaSetBuilder().withNewMetadata().withName("worker-7d9f").withNamespace(NS)
                .addToOwnerReferences(new OwnerReferenceBuilder().withApiVersion("apps/v1").withKind("Deployment").withName("worker")
                        .withUid(dep.getMetadata().getUid()).withController(true).build()).endMetadata()
                .withNewSpec().withNewSelector().addToMatchLabels("app", "worker").endSelector()
                .withTemplate(template("worker").build()).endSpec().build()).create();
        StatefulSet sts = k8s.resource(new StatefulSetBuilder().withNewMetadata().withName("exporter").withNamespace(NS).endMetadata()
                .withNewSpec().withServiceName("exporter").withNewSelector().addToMatchLabels("app", "exporter").endSelector()
                .withTemplate(client(template("exporter")).build()).endSpec().build()).create();
        running(k8s, ownedPod("worker-7d9f-a", "ReplicaSet", "worker-7d9f", rs.getMetadata().getUid()));
        running(k8s, ownedPod("worker-7d9f-b", "ReplicaSet", "worker-7d9f", rs.getMetadata().getUid()));
        running(k8s, ownedPod("exporter-0", "StatefulSet", "exporter", sts.getMetadata().getUid()));
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
        // per workload one Event series, its latest message: the first pod's "Restarting", or a later pod's "Restarted … at"
        // when the restart was made before that pod was enrolled
        assertTrue(Pods.enrolledEvents(NS).stream().anyMatch(e -> e.getMessage().contains("Restarting Deployment " + NS + "/worker")
                || e.getMessage().contains("Restarted Deployment " + NS + "/worker")), Pods.enrolledEvents(NS).toString());

        // the ServiceAccount can restart, nothing else
        Deployment live = k8s.apps().deployments().inNamespace(NS).withName("worker").get();
        KubernetesClientException e = assertThrows(KubernetesClientException.class, () -> app.apps().deployments().inNamespace(NS)
                .resource(live).patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"replicas\":5}}"));
        assertEquals(403, e.getCode(), e.getMessage());
        assertTrue(e.getMessage().contains("zeebe-ambient-enforcer-workload-restarts"), e.getMessage());
        Integer replicas = k8s.apps().deployments().inNamespace(NS).withName("worker").get().getSpec().getReplicas();
        assertTrue(replicas == null || replicas != 5, "not scaled");
    }

    static String restartedAtOf(KubernetesClient k8s, String ns, String deployment) {
        return restartedAt(k8s.apps().deployments().inNamespace(ns).withName(deployment).get().getSpec().getTemplate().getMetadata()
                .getAnnotations());
    }

    static String eventsAbout(String ns, String rs) {
        return Pods.enrolledEvents(ns).stream().filter(e -> rs.equals(e.getInvolvedObject().getName()))
                .map(io.fabric8.kubernetes.api.model.Event::getMessage).toList().toString();
    }

    /**
     * Pods the webhook misses again after a restart (here: no webhook is registered, as when it is
     * down) would restart their workload once per window for ever. Over several windows: one
     * restart at most; pods that never ran and workloads whose new pods would not be enrolled at
     * admission are never restarted.
     */
    @Test
    void aWorkloadWhosePodsAreMissedAgainIsRestartedAtMostOnce() throws Exception {
        String ns = "restart-loop";
        KubeTestCluster cluster = KubeTestCluster.get();
        KubernetesClient k8s = cluster.client();
        cluster.namespace(ns, Map.of());
        Eventually.await(leadership::isLeader, 30, "leadership");
        java.util.function.BiFunction<String, PodTemplateSpecBuilder, ReplicaSet> deployment = (name, t) -> {
            Deployment d = k8s.resource(new DeploymentBuilder().withNewMetadata().withName(name).withNamespace(ns).endMetadata()
                    .withNewSpec().withNewSelector().addToMatchLabels("app", name).endSelector().withTemplate(t.build()).endSpec().build())
                    .create();
            return k8s.resource(new ReplicaSetBuilder().withNewMetadata().withName(name + "-1").withNamespace(ns)
                    .addToOwnerReferences(new OwnerReferenceBuilder().withApiVersion("apps/v1").withKind("Deployment").withName(name)
                            .withUid(d.getMetadata().getUid()).withController(true).build()).endMetadata()
                    .withNewSpec().withNewSelector().addToMatchLabels("app", name).endSelector().withTemplate(t.build()).endSpec().build())
                    .create();
        };
        ReplicaSet looper = deployment.apply("looper", client(template("looper")));
        ReplicaSet pending = deployment.apply("pending", client(template("pending")));
        // its template is no client any more (changed since the pod was created): new pods would not be enrolled
        ReplicaSet changed = deployment.apply("changed", template("changed"));
        java.util.function.BiFunction<String, ReplicaSet, Pod> podOf = (name, rs) -> Pods.pod(name, true).editMetadata().withNamespace(ns)
                .addToLabels("app", rs.getMetadata().getName().replaceAll("-\\d+$", ""))
                .addToOwnerReferences(new OwnerReferenceBuilder().withApiVersion("apps/v1").withKind("ReplicaSet")
                        .withName(rs.getMetadata().getName()).withUid(rs.getMetadata().getUid()).withController(true).build())
                .endMetadata().build();
        running(k8s, podOf.apply("looper-1-a", looper));
        k8s.resource(podOf.apply("pending-1-a", pending)).create(); // never ran
        running(k8s, podOf.apply("changed-1-a", changed));

        cluster.namespace(ns, Map.of(OPT_IN, "true"));
        Eventually.await(() -> restartedAtOf(k8s, ns, "looper") != null, 30, "the workload whose running pod was missed is restarted");
        String first = restartedAtOf(k8s, ns, "looper");
        Eventually.await(() -> Pods.enrolledEvents(ns).size() >= 3, 15, "all three enrolled");

        // the rollout's pods, missed at admission again (the webhook is still not there), and a later scale-up
        Thread.sleep(1100); // creation timestamps have whole seconds: clearly after the restart
        ReplicaSet next = k8s.resource(new ReplicaSetBuilder().withNewMetadata().withName("looper-2").withNamespace(ns)
                .withOwnerReferences(looper.getMetadata().getOwnerReferences()).endMetadata().withSpec(looper.getSpec()).build()).create();
        // each new pod is seen running at once, as a pod the kubelet started before the backstop got to it: created while
        // the namespace is not watched, then the namespace opts in again
        java.util.function.Consumer<String> runningPod = name -> {
            cluster.namespace(ns, Map.of());
            Eventually.await(() -> BackstopTest.watch("Pods in " + ns) == null, 15, "not watched");
            running(k8s, podOf.apply(name, next));
            cluster.namespace(ns, Map.of(OPT_IN, "true"));
            Eventually.await(() -> "ambient".equals(k8s.pods().inNamespace(ns).withName(name).get().getMetadata().getLabels()
                    .get("istio.io/dataplane-mode")), 15, name + " enrolled by the backstop");
        };
        runningPod.accept("looper-2-a");
        long until = System.nanoTime() + Duration.ofSeconds(25).toNanos(); // 2.5 windows of 10 s
        int i = 0;
        while (System.nanoTime() < until) {
            Thread.sleep(5000);
            runningPod.accept("looper-2-scale-" + i++);
            assertEquals(first, restartedAtOf(k8s, ns, "looper"), "restarted again (events: " + eventsAbout(ns, "looper-2") + ")");
        }
        Eventually.await(() -> k8s.pods().inNamespace(ns).list().getItems().stream().allMatch(p ->
                "ambient".equals(p.getMetadata().getLabels().get("istio.io/dataplane-mode"))), 15, "every pod enrolled");
        assertEquals(first, restartedAtOf(k8s, ns, "looper"), "one restart at most");
        assertTrue(eventsAbout(ns, "looper-2").contains("Not restarting Deployment " + ns + "/looper: it was created after the enforcer "
                + "restarted the workload"), eventsAbout(ns, "looper-2"));
        assertEquals(null, restartedAtOf(k8s, ns, "pending"), "a pod that never ran holds no connection to move");
        assertTrue(eventsAbout(ns, "pending-1").contains("its containers had not run yet"), eventsAbout(ns, "pending-1"));
        assertEquals(null, restartedAtOf(k8s, ns, "changed"), "new pods would be missed too");
        assertTrue(eventsAbout(ns, "changed-1").contains("its new pods would not be enrolled at admission either (not-a-client"),
                eventsAbout(ns, "changed-1"));
    }
}
