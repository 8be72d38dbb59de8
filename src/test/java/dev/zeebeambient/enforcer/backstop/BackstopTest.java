package dev.zeebeambient.enforcer.backstop;

import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.leader.Leadership;
import dev.zeebeambient.enforcer.testsupport.KubeApiServerResource;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
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

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import static io.restassured.RestAssured.given;
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
        PodBuilder b = new PodBuilder().withNewMetadata().withName(name).endMetadata()
                .withNewSpec().addNewContainer().withName("app").withImage("app:1").endContainer().endSpec();
        if (client) {
            b.editSpec().editFirstContainer().addNewEnv().withName("ZEEBE_ADDRESS")
                    .withValue("camunda-zeebe-gateway-grpc.camunda:26500").endEnv().endContainer().endSpec();
        }
        return b;
    }

    static Map<String, String> labels(String ns, String name) {
        Pod p = k8s.pods().inNamespace(ns).withName(name).get();
        return p.getMetadata().getLabels() == null ? Map.of() : p.getMetadata().getLabels();
    }

    static void await(BooleanSupplier condition, int seconds, String what) {
        Instant until = Instant.now().plusSeconds(seconds);
        while (!condition.getAsBoolean()) {
            if (Instant.now().isAfter(until)) {
                throw new AssertionError("not within " + seconds + " s: " + what);
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    static List<Event> enrolledEvents(String ns) {
        return KubeTestCluster.get().client().v1().events().inNamespace(ns).list().getItems().stream()
                .filter(e -> Backstop.EVENT_REASON.equals(e.getReason())).toList();
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
        try {
            Thread.sleep(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
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
        // the untouched ones kept their resourceVersion: never written
        versions.forEach((name, rv) -> assertEquals(rv, k8s.pods().inNamespace(ns).withName(name).get().getMetadata()
                .getResourceVersion(), name));
        String metrics = given().baseUri("http://localhost").port(19000).get("/q/metrics").asString();
        assertTrue(metrics.contains("zeebe_ambient_enrollments_total{origin=\"backstop\"}"), metrics);
    }

    @Test
    void podsEnrolledAtAdmissionGetAnEventToo() throws Exception {
        String ns = "backstop-admission";
        KubeTestCluster.get().namespace(ns, Map.of(OPT_IN, "true"));
        KubeTestCluster.get().registerWebhook("zeebe-ambient-enforcer", "https://localhost:18443/mutate", "Ignore");
        await(leadership::isLeader, 30, "leadership");
        await(() -> "ambient".equals(k8s.pods().inNamespace(ns).resource(pod("probe", true).build()).dryRun().create()
                .getMetadata().getLabels().get(MODE)), 60, "the API server calls the webhook");
        Pod created = k8s.pods().inNamespace(ns).resource(pod("admitted", true).build()).create();
        assertEquals("ambient", created.getMetadata().getLabels().get(MODE));
        assertEquals("admission", created.getMetadata().getAnnotations().get("zeebe-ambient-enforcer.io/enrolled-by"));
        await(() -> enrolledEvents(ns).stream().anyMatch(e -> e.getInvolvedObject().getName().equals("admitted")
                && e.getMessage().startsWith("Enrolled in Istio ambient at admission: container app: env ZEEBE_ADDRESS")), 15,
                "Event for the admission enrollment");
        Thread.sleep(1000);
        assertEquals(1, enrolledEvents(ns).stream().filter(e -> e.getInvolvedObject().getName().equals("admitted")).count(),
                "one Event, and the backstop did not patch it again");
        assertEquals(created.getMetadata().getResourceVersion(),
                k8s.pods().inNamespace(ns).withName("admitted").get().getMetadata().getResourceVersion());
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
            try {
                Thread.sleep(1500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            assertNull(labels(ns, "while-follower").get(MODE), "a follower never patches");
            String status = given().baseUri("http://localhost").port(19000).get("/status").asString();
            assertTrue(status.contains("while-follower") && status.contains("not the leader"), status);
        } finally {
            other.end();
            leadership.begin();
        }
        await(leadership::isLeader, 30, "leadership back");
        await(() -> "ambient".equals(labels(ns, "while-follower").get(MODE)), 30, "enrolled once leader");
    }
}
