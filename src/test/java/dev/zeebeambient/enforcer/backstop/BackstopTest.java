package dev.zeebeambient.enforcer.backstop;

import dev.zeebeambient.enforcer.testsupport.Endpoints;
import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.leader.Leadership;
import dev.zeebeambient.enforcer.testsupport.KubeApiServerResource;
import dev.zeebeambient.enforcer.testsupport.Eventually;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import dev.zeebeambient.enforcer.testsupport.Pods;
import java.time.Duration;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The backstop against the real API server. No webhook is registered for these namespaces, which
 * is what "the webhook was down" looks like to the API server: pods are admitted unlabelled.
 */
@QuarkusTest
@WithTestResource(KubeApiServerResource.class)
@TestProfile(BackstopTest.Enabled.class)
class BackstopTest {

    public static class Enabled implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("enforcer.backstop.enabled", "true", "enforcer.backstop.patches-per-second", "50");
        }
    }

    static final String MODE = "istio.io/dataplane-mode";
    static final String OPT_IN = "zeebe-ambient-enforcer.io/enabled";
    static KubernetesClient k8s;

    @Inject
    Leadership leadership;
    @Inject
    EnforcerConfig config;
    /** The application's own client (the shipped ServiceAccount); k8s is the fixtures' admin. */
    @Inject
    KubernetesClient app;

    @BeforeAll
    static void client() {
        k8s = KubeTestCluster.get().client();
    }

    static PodBuilder pod(String name, boolean client) {
        return Pods.pod(name, client);
    }

    static Map<String, String> labels(String ns, String name) {
        Pod p = k8s.pods().inNamespace(ns).withName(name).get();
        return p.getMetadata().getLabels() == null ? Map.of() : p.getMetadata().getLabels();
    }

    static void await(BooleanSupplier condition, int seconds, String what) {
        Eventually.await(condition, seconds, what);
    }

    static List<Event> enrolledEvents(String ns) {
        return Pods.enrolledEvents(ns);
    }

    @Test
    void missedClientsAreEnrolledOnceWhenTheNamespaceOptsInLater() {
        String ns = "backstop-late";
        KubeTestCluster.get().namespace(ns, Map.of());
        await(leadership::isLeader, 30, "leadership");
        int n = 12;
        List<String> clients = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            clients.add(k8s.pods().inNamespace(ns).resource(pod("client-" + i, true).build()).create().getMetadata().getName());
        }
        // M pods that must stay untouched: not clients, or clients that opted out / get a sidecar
        List<Pod> untouched = List.of(
                pod("web-0", false).build(), pod("web-1", false).build(),
                pod("none-client", true).editMetadata().addToLabels(MODE, "none").endMetadata().build(),
                pod("optout-client", true).editMetadata().addToLabels("zeebe-ambient-enforcer.io/enroll", "false").endMetadata().build(),
                pod("sidecar-client", true).editMetadata().addToAnnotations("sidecar.istio.io/inject", "true").endMetadata().build());
        Map<String, String> versions = untouched.stream().map(p -> k8s.pods().inNamespace(ns).resource(p).create())
                .collect(Collectors.toMap(p -> p.getMetadata().getName(), p -> p.getMetadata().getResourceVersion()));
        // not opted in yet: nothing happens
        Eventually.stays(() -> clients.stream().allMatch(c -> labels(ns, c).get(MODE) == null), Duration.ofSeconds(1),
                "no client of a namespace that did not opt in is enrolled");
        clients.forEach(c -> assertNull(labels(ns, c).get(MODE), c));

        KubeTestCluster.get().namespace(ns, Map.of(OPT_IN, "true"));
        await(() -> clients.stream().allMatch(c -> "ambient".equals(labels(ns, c).get(MODE))), 30, "all clients enrolled");

        for (String c : clients) {
            Pod p = k8s.pods().inNamespace(ns).withName(c).get();
            assertEquals("backstop", p.getMetadata().getAnnotations().get("zeebe-ambient-enforcer.io/enrolled-by"));
            assertEquals("container app: env ZEEBE_ADDRESS -> camunda/camunda-zeebe-gateway-grpc:26500",
                    p.getMetadata().getAnnotations().get("zeebe-ambient-enforcer.io/enrolled-because"));
        }
        await(() -> enrolledEvents(ns).size() >= n, 10, "events");
        Map<String, Long> eventsPerPod = enrolledEvents(ns).stream()
                .collect(Collectors.groupingBy(e -> e.getInvolvedObject().getName(), Collectors.counting()));
        assertEquals(n, eventsPerPod.size());
        eventsPerPod.forEach((pod, count) -> assertEquals(1L, count, "patched once: " + pod));
        // issue 13 §4: a pod enrolled while running keeps its old connections outside the waypoint: say so
        enrolledEvents(ns).forEach(e -> assertTrue(e.getMessage().contains("restart the pod"), e.getMessage()));
        Map<String, String> restart = Endpoints.management().get("/status").jsonPath().getMap("backstop.enrolledWhileRunning.'" + ns + "'");
        assertEquals(new java.util.TreeSet<>(clients), new java.util.TreeSet<>(restart.keySet()));
        // the untouched ones kept their resourceVersion: never written
        versions.forEach((name, rv) -> assertEquals(rv, k8s.pods().inNamespace(ns).withName(name).get().getMetadata()
                .getResourceVersion(), name));
        String metrics = Endpoints.management().get("/q/metrics").asString();
        assertTrue(metrics.contains("zeebe_ambient_enrollments_total{origin=\"backstop\"}"), metrics);
    }

    @Test
    void podsEnrolledAtAdmissionGetAnEventToo() throws Exception {
        String ns = "backstop-admission";
        KubeTestCluster.get().namespace(ns, Map.of(OPT_IN, "true"));
        KubeTestCluster.get().registerWebhook("zeebe-ambient-enforcer", Endpoints.MUTATE_URL, "Ignore");
        await(leadership::isLeader, 30, "leadership");
        await(() -> "ambient".equals(k8s.pods().inNamespace(ns).resource(pod("probe", true).build()).dryRun().create()
                .getMetadata().getLabels().get(MODE)), 60, "the API server calls the webhook");
        Pod created = k8s.pods().inNamespace(ns).resource(pod("admitted", true).build()).create();
        assertEquals("ambient", created.getMetadata().getLabels().get(MODE));
        assertEquals("admission", created.getMetadata().getAnnotations().get("zeebe-ambient-enforcer.io/enrolled-by"));
        await(() -> enrolledEvents(ns).stream().anyMatch(e -> e.getInvolvedObject().getName().equals("admitted")
                && e.getMessage().startsWith("Enrolled in Istio ambient at admission: container app: env ZEEBE_ADDRESS")), 15,
                "Event for the admission enrollment");
        Eventually.stays(() -> enrolledEvents(ns).stream().filter(e -> e.getInvolvedObject().getName().equals("admitted")).count() == 1,
                Duration.ofSeconds(1), "no second Event");
        assertEquals(1, enrolledEvents(ns).stream().filter(e -> e.getInvolvedObject().getName().equals("admitted")).count(),
                "one Event, and the backstop did not patch it again");
        assertEquals(created.getMetadata().getResourceVersion(),
                k8s.pods().inNamespace(ns).withName("admitted").get().getMetadata().getResourceVersion());
        // a failover (here: this replica loses and regains the Lease) lists the pod again: not a second Event
        leadership.end();
        leadership.begin();
        await(leadership::isLeader, 30, "leadership back");
        await(() -> "watching".equals(watch("Pods in " + ns)), 15, "watching again");
        Eventually.stays(() -> enrolledEvents(ns).stream().filter(e -> e.getInvolvedObject().getName().equals("admitted"))
                .mapToInt(Event::getCount).sum() == 1, Duration.ofSeconds(3), "no second Event after the new leadership");
    }

    /** A pod the in-API-server enroll policy enrolled (no webhook call) gets its Event and is counted, once, by the leader. */
    @Test
    void podsEnrolledByTheEnrollPolicyGetAnEventAndAreCounted() throws Exception {
        String ns = "backstop-policy";
        KubeTestCluster.get().namespace(ns, Map.of(OPT_IN, "true"));
        await(leadership::isLeader, 30, "leadership");
        dev.zeebeambient.enforcer.testsupport.EnrollPolicies.installShipped(ns);
        try {
            double before = policyEnrollments();
            Pod created = k8s.pods().inNamespace(ns).resource(pod("by-policy", true).build()).create();
            assertEquals("policy", created.getMetadata().getAnnotations().get("zeebe-ambient-enforcer.io/enrolled-by"));
            await(() -> enrolledEvents(ns).stream().anyMatch(e -> e.getInvolvedObject().getName().equals("by-policy")
                    && e.getMessage().equals("Enrolled in Istio ambient by the API server's enroll policy: container app: env "
                    + "ZEEBE_ADDRESS -> camunda/camunda-zeebe-gateway-grpc:26500")), 15, "Event for the policy enrollment");
            await(() -> policyEnrollments() == before + 1, 10, "counted as origin=policy");
            Eventually.stays(() -> policyEnrollments() == before + 1, Duration.ofSeconds(1), "counted once");
            assertEquals(created.getMetadata().getResourceVersion(),
                    k8s.pods().inNamespace(ns).withName("by-policy").get().getMetadata().getResourceVersion(), "never patched");
        } finally {
            dev.zeebeambient.enforcer.testsupport.EnrollPolicies.remove(ns);
        }
    }

    static double policyEnrollments() {
        String metrics = Endpoints.management().get("/q/metrics").asString();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^zeebe_ambient_enrollments_total\\{origin=\"policy\"[^}]*} (\\S+)$",
                java.util.regex.Pattern.MULTILINE).matcher(metrics);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    /** Lose and regain the Lease in quick succession: the backstop ends up leading (watching and enrolling), whatever order its callbacks ran in. */
    @Test
    void quickLeadershipChangesLeaveTheBackstopLeading() {
        String ns = "backstop-flap";
        KubeTestCluster.get().namespace(ns, Map.of());
        await(leadership::isLeader, 30, "leadership");
        for (int i = 0; i < 5; i++) {
            leadership.end();
            leadership.begin();
        }
        await(leadership::isLeader, 30, "leadership back");
        await(() -> Endpoints.management().get("/status").jsonPath().getString("backstop.role").startsWith("leader: watching"), 15,
                "the backstop leads");
        k8s.pods().inNamespace(ns).resource(pod("after-flap", true).build()).create(); // not opted in: no webhook call
        KubeTestCluster.get().namespace(ns, Map.of(OPT_IN, "true"));
        await(() -> "ambient".equals(labels(ns, "after-flap").get(MODE)), 30, "and enrolls");
        assertEquals("backstop", k8s.pods().inNamespace(ns).withName("after-flap").get().getMetadata().getAnnotations()
                .get("zeebe-ambient-enforcer.io/enrolled-by"));
    }

    /** Issue 13 §1: running clients of the chart's own Service are listed per namespace, not enrolled. */
    @Test
    void runningClientsOfTheChartServiceAreReportedAsBypassing() {
        String ns = "backstop-bypass";
        KubeTestCluster.get().namespace("camunda", Map.of());
        k8s.resource(new io.fabric8.kubernetes.api.model.ServiceBuilder().withNewMetadata().withName("camunda-zeebe-gateway")
                .withNamespace("camunda").endMetadata().withNewSpec()
                .addToSelector(Map.of("app.kubernetes.io/component", "zeebe-gateway", "app.kubernetes.io/instance", "camunda"))
                .addNewPort().withName("gateway").withPort(26500).endPort().endSpec().build()).serverSideApply();
        KubeTestCluster.get().namespace(ns, Map.of());
        k8s.pods().inNamespace(ns).resource(pod("chart-client", false).editSpec().editFirstContainer().addNewEnv()
                .withName("ZEEBE_ADDRESS").withValue("camunda-zeebe-gateway.camunda:26500").endEnv().endContainer().endSpec()
                .build()).create();
        KubeTestCluster.get().namespace(ns, Map.of(OPT_IN, "true"));
        await(() -> Endpoints.management().get("/status").jsonPath()
                .getString("backstop.bypassingTheWaypoint.'" + ns + "'.chart-client") != null, 30, "listed in /status");
        String why = Endpoints.management().get("/status").jsonPath().getString("backstop.bypassingTheWaypoint.'" + ns + "'.chart-client");
        assertTrue(why.startsWith("talks to camunda/camunda-zeebe-gateway:26500 (env ZEEBE_ADDRESS)"), why);
        assertTrue(why.endsWith("point it at camunda-zeebe-gateway-grpc.camunda:26500"), why);
        assertNull(labels(ns, "chart-client").get(MODE), "not enrolled");
    }

    @Test
    void onlyTheLeaderPatches() {
        String ns = "backstop-leader";
        KubeTestCluster.get().namespace(ns, Map.of()); // opted in only below: the webhook never sees the pod
        await(leadership::isLeader, 30, "leadership");
        leadership.end(); // this replica steps down; another one takes the Lease
        Leadership other = new Leadership(app, config, null);
        other.begin();
        try {
            await(other::isLeader, 30, "the other replica leads");
            k8s.pods().inNamespace(ns).resource(pod("while-follower", true).build()).create();
            KubeTestCluster.get().namespace(ns, Map.of(OPT_IN, "true"));
            Eventually.stays(() -> labels(ns, "while-follower").get(MODE) == null, Duration.ofMillis(1500), "a follower never patches");
            assertNull(labels(ns, "while-follower").get(MODE), "a follower never patches");
            // issue 14: a follower watches no pods at all and points to the leader
            var status = Endpoints.management().get("/status").jsonPath();
            String role = status.getString("backstop.role");
            assertTrue(role.startsWith("follower: ") && role.endsWith("watches pods and reports them"), role);
            assertTrue(status.getMap("backstop.notEnrolled").isEmpty(), status.prettify());
            assertTrue(status.getMap("watches").keySet().stream().noneMatch(w -> w.toString().startsWith("Pods")), status.prettify());
        } finally {
            other.end();
            leadership.begin();
        }
        await(leadership::isLeader, 30, "leadership back");
        await(() -> "ambient".equals(labels(ns, "while-follower").get(MODE)), 30, "enrolled once leader");
        String role = Endpoints.management().get("/status").jsonPath().getString("backstop.role");
        assertTrue(role.startsWith("leader: watching") && role.contains(ns), role);
        assertTrue(Endpoints.management().get("/status").jsonPath().getString("watches.'Pods in " + ns + "'").equals("watching"));
    }

    static String watch(String what) {
        return Endpoints.management().get("/status").jsonPath().getString("watches.'" + what + "'");
    }

    /** Issue 14: pods are listed and cached only in opted-in namespaces; informers follow the opt-in label. */
    @Test
    void podsAreWatchedOnlyWhileTheirNamespaceOptsIn() {
        String ns = "backstop-scope";
        String what = "Pods in " + ns;
        KubeTestCluster.get().namespace(ns, Map.of());
        await(leadership::isLeader, 30, "leadership");
        k8s.pods().inNamespace(ns).resource(pod("before", true).build()).create();
        Eventually.stays(() -> watch(what) == null, Duration.ofSeconds(1), "no pod watch in a namespace that did not opt in");

        KubeTestCluster.get().namespace(ns, Map.of(OPT_IN, "true"));
        await(() -> "watching".equals(watch(what)), 15, "pod watch started on opt-in");
        await(() -> "ambient".equals(labels(ns, "before").get(MODE)), 15, "its pods are checked at once");

        KubeTestCluster.get().namespace(ns, Map.of());
        await(() -> watch(what) == null, 15, "pod watch stopped on opt-out");
        k8s.pods().inNamespace(ns).resource(pod("after-opt-out", true).build()).create();
        Eventually.stays(() -> labels(ns, "after-opt-out").get(MODE) == null, Duration.ofMillis(1500), "not watched: not enrolled");

        // opted in, but the namespace's own dataplane mode decides for all its pods: nothing to watch
        KubeTestCluster.get().namespace(ns, Map.of(OPT_IN, "true", MODE, "ambient"));
        Eventually.stays(() -> watch(what) == null, Duration.ofSeconds(1), "an ambient namespace needs no pod watch");
        KubeTestCluster.get().namespace(ns, Map.of(OPT_IN, "true"));
        await(() -> "ambient".equals(labels(ns, "after-opt-out").get(MODE)), 15, "opted in again: enrolled");

        // a namespace created already opted in is watched too
        String created = "backstop-scope-new";
        KubeTestCluster.get().namespace(created, Map.of(OPT_IN, "true"));
        await(() -> "watching".equals(watch("Pods in " + created)), 15, "new opted-in namespace watched");
    }

    /** A Deployment applied before its ConfigMap: the pod is decided again when the ConfigMap appears, not at the resync. */
    @Test
    void aClientWhoseConfigMapComesLaterIsEnrolledWhenItAppears() {
        String ns = "backstop-cm-later";
        KubeTestCluster.get().namespace(ns, Map.of(OPT_IN, "true"));
        await(leadership::isLeader, 30, "leadership");
        k8s.pods().inNamespace(ns).resource(pod("cm-later", false).editSpec().editFirstContainer().addNewEnvFrom()
                .withNewConfigMapRef().withName("zeebe-env").endConfigMapRef().endEnvFrom().endContainer().endSpec().build()).create();
        Eventually.stays(() -> labels(ns, "cm-later").get(MODE) == null, Duration.ofSeconds(2), "nothing to enroll yet");
        k8s.resource(new io.fabric8.kubernetes.api.model.ConfigMapBuilder().withNewMetadata().withName("zeebe-env").withNamespace(ns)
                .endMetadata().addToData("ZEEBE_ADDRESS", "camunda-zeebe-gateway-grpc.camunda:26500").build()).create();
        await(() -> "ambient".equals(labels(ns, "cm-later").get(MODE)), 30, "enrolled once its ConfigMap exists (resync: "
                + config.backstop().resyncPeriod() + ")");
        String because = k8s.pods().inNamespace(ns).withName("cm-later").get().getMetadata().getAnnotations()
                .get("zeebe-ambient-enforcer.io/enrolled-because");
        assertTrue(because.contains("zeebe-env") && because.endsWith("-> camunda/camunda-zeebe-gateway-grpc:26500"), because);
    }

    /** Issue 14: enrollments of one workload are one Event series whose count grows, not one Event per pod. */
    @Test
    void enrollmentsOfOneWorkloadAreOneEventSeries() {
        String ns = "backstop-events";
        KubeTestCluster.get().namespace(ns, Map.of());
        await(leadership::isLeader, 30, "leadership");
        var rs = k8s.apps().replicaSets().inNamespace(ns).resource(new io.fabric8.kubernetes.api.model.apps.ReplicaSetBuilder()
                .withNewMetadata().withName("worker-5d9").endMetadata().withNewSpec().withReplicas(0)
                .withNewSelector().addToMatchLabels("app", "worker").endSelector()
                .withTemplate(new io.fabric8.kubernetes.api.model.PodTemplateSpecBuilder().withNewMetadata().addToLabels("app", "worker")
                        .endMetadata().withSpec(pod("t", true).build().getSpec()).build())
                .endSpec().build()).create();
        int n = 7;
        for (int i = 0; i < n; i++) {
            k8s.pods().inNamespace(ns).resource(pod("worker-5d9-" + i, true).editMetadata().addToLabels("app", "worker")
                    .addNewOwnerReference().withApiVersion("apps/v1").withKind("ReplicaSet").withName("worker-5d9")
                    .withUid(rs.getMetadata().getUid()).withController(true).endOwnerReference().endMetadata().build()).create();
        }
        k8s.pods().inNamespace(ns).resource(pod("bare", true).build()).create();
        KubeTestCluster.get().namespace(ns, Map.of(OPT_IN, "true"));
        await(() -> java.util.stream.IntStream.range(0, n).allMatch(i -> "ambient".equals(labels(ns, "worker-5d9-" + i).get(MODE))),
                30, "all pods of the ReplicaSet enrolled");
        await(() -> enrolledEvents(ns).stream().filter(e -> "ReplicaSet".equals(e.getInvolvedObject().getKind()))
                .mapToInt(Event::getCount).sum() == n, 15, "the series counts every pod");
        List<Event> forRs = enrolledEvents(ns).stream().filter(e -> "ReplicaSet".equals(e.getInvolvedObject().getKind())).toList();
        assertTrue(forRs.size() < n, "aggregated: " + forRs.size() + " Events for " + n + " pods");
        forRs.forEach(e -> {
            assertEquals("worker-5d9", e.getInvolvedObject().getName());
            assertEquals(rs.getMetadata().getUid(), e.getInvolvedObject().getUid());
            assertTrue(e.getMessage().contains("pods of ReplicaSet worker-5d9") || e.getMessage().contains("pod of ReplicaSet"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("env ZEEBE_ADDRESS"), e.getMessage());
        });
        await(() -> enrolledEvents(ns).stream().anyMatch(e -> "bare".equals(e.getInvolvedObject().getName())), 15,
                "a bare pod's Event is on the pod");
        assertTrue(enrolledEvents(ns).stream().noneMatch(e -> e.getInvolvedObject().getName().startsWith("worker-5d9-")),
                "no Event per pod of the workload");
    }
}
