package dev.zeebeambient.enforcer.decision;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.zeebeambient.enforcer.kube.PodProjection;
import dev.zeebeambient.enforcer.backstop.TrimmedPodStore;
import dev.zeebeambient.enforcer.detection.ResolvedSources;
import dev.zeebeambient.enforcer.detection.SourceRef;
import dev.zeebeambient.enforcer.testsupport.TestConfig;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The backstop keeps only a projection of each watched pod (issue 14). It must decide exactly as
 * on the full pod: every README decision-table case, the realistic fixtures, and pods whose
 * address sits in ConfigMaps (env keyRef, envFrom, mounted, projected) or in a fieldRef.
 */
class TrimmedPodDecisionTest {

    static final ObjectMapper M = new ObjectMapper();

    static Pod fixture(String name) throws Exception {
        try (InputStream in = TrimmedPodDecisionTest.class.getResourceAsStream("/fixtures/" + name)) {
            return M.readValue(in, Pod.class);
        }
    }

    static List<DecisionTableTest.Case> cases() throws Exception {
        List<DecisionTableTest.Case> cases = new ArrayList<>(DecisionTableTest.CASES.values());
        for (String f : List.of("spring-worker-pod.json", "nginx-pod.json")) {
            cases.add(DecisionTableTest.in("apps", DecisionTableTest.OPTED_IN, fixture(f)));
        }
        Pod viaSources = new PodBuilder().withNewMetadata().withName("cfg-client").withNamespace("apps")
                .addToAnnotations("kubectl.kubernetes.io/last-applied-configuration", "{\"huge\":true}").endMetadata()
                .withNewSpec()
                .addNewInitContainer().withName("wait").withCommand("sh", "-c", "until nc -z camunda-zeebe-gateway-grpc.camunda 26500; do sleep 1; done")
                .endInitContainer()
                .addNewContainer().withName("app").withImage("app:1").addToArgs("--ignored")
                .addNewEnv().withName("ADDR").withNewValueFrom().withNewConfigMapKeyRef().withName("zeebe").withKey("address")
                .endConfigMapKeyRef().endValueFrom().endEnv()
                .addNewEnv().withName("NS").withNewValueFrom().withNewFieldRef().withFieldPath("metadata.namespace").endFieldRef()
                .endValueFrom().endEnv()
                .addNewEnvFrom().withNewConfigMapRef().withName("env-all").endConfigMapRef().endEnvFrom()
                .addNewVolumeMount().withName("conf").withMountPath("/config").endVolumeMount()
                .addNewVolumeMount().withName("proj").withMountPath("/proj").endVolumeMount()
                .addNewVolumeMount().withName("scratch").withMountPath("/tmp").endVolumeMount()
                .withNewResources().addToLimits("memory", new io.fabric8.kubernetes.api.model.Quantity("1Gi")).endResources()
                .withNewReadinessProbe().withNewHttpGet().withPath("/ready").withNewPort(8080).endHttpGet().endReadinessProbe()
                .endContainer()
                .addNewVolume().withName("conf").withNewConfigMap().withName("app-config").endConfigMap().endVolume()
                .addNewVolume().withName("proj").withNewProjected().addNewSource().withNewConfigMap().withName("proj-config")
                .endConfigMap().endSource().endProjected().endVolume()
                .addNewVolume().withName("scratch").withNewEmptyDir().endEmptyDir().endVolume()
                .endSpec().withNewStatus().withPhase("Running").withPodIP("10.0.0.7").endStatus().build();
        cases.add(DecisionTableTest.in("apps", DecisionTableTest.OPTED_IN, viaSources));
        return cases;
    }

    static final ResolvedSources SOURCES = new ResolvedSources(Map.of(
            SourceRef.configMap("zeebe"), Map.of("address", "camunda-zeebe-gateway-grpc.camunda:26500"),
            SourceRef.configMap("app-config"), Map.of("application.yaml",
                    "camunda:\n  client:\n    zeebe:\n      grpc-address: http://camunda-zeebe-gateway-grpc.camunda:26500\n"),
            SourceRef.configMap("proj-config"), Map.of("x", "y")), Set.of());

    @Test
    void theTrimmedPodIsDecidedLikeTheFullPod() throws Exception {
        int n = 0;
        for (DecisionTableTest.Case c : cases()) {
            for (ResolvedSources sources : List.of(ResolvedSources.NONE, SOURCES)) {
                EnrollmentDecider decider = new EnrollmentDecider(c.rules());
                Decision full = decider.decide(new PodContext(c.pod(), c.namespace(), c.nsLabels(), c.selectors(), sources, c.bypass()));
                // as the backstop reads it: projected, stored as JSON bytes, decoded
                Pod trimmed = TrimmedPodStore.decode(TrimmedPodStore.encode(PodProjection.trim(c.pod())));
                Decision t = decider.decide(new PodContext(trimmed, c.namespace(), c.nsLabels(), c.selectors(), sources, c.bypass()));
                assertEquals(full, t, c.pod().getMetadata().getName());
                assertEquals(decider.detector().references(c.pod().getSpec()),
                        c.pod().getSpec() == null ? Set.of() : decider.detector().references(trimmed.getSpec()));
                n++;
            }
        }
        assertTrue(n >= 40, "cases: " + n);
    }

    @Test
    void theProjectionDropsWhatTheBackstopNeverReads() throws Exception {
        Pod full = fixture("spring-worker-pod.json");
        assertTrue(!full.getMetadata().getManagedFields().isEmpty(), "the fixture is a pod as the API server sends it");
        Pod t = PodProjection.trim(full);
        assertTrue(t.getMetadata().getManagedFields() == null || t.getMetadata().getManagedFields().isEmpty());
        assertEquals(full.getMetadata().getOwnerReferences(), t.getMetadata().getOwnerReferences(), "kept: the workload restart reads it");
        assertEquals(full.getMetadata().getLabels(), t.getMetadata().getLabels());
        t.getSpec().getContainers().forEach(c -> {
            assertNull(c.getImage());
            assertNull(c.getResources());
            assertNull(c.getReadinessProbe());
            assertNull(c.getLivenessProbe());
            assertTrue(c.getPorts() == null || c.getPorts().isEmpty());
        });
        Pod viaSources = cases().get(cases().size() - 1).pod();
        Pod tv = PodProjection.trim(viaSources);
        assertEquals(List.of("conf", "proj"), tv.getSpec().getVolumes().stream().map(v -> v.getName()).toList(),
                "only volumes that can hold a ConfigMap or Secret");
        assertNull(tv.getMetadata().getAnnotations().get("kubectl.kubernetes.io/last-applied-configuration"));
        assertEquals("Running", tv.getStatus().getPhase());
        assertNull(tv.getStatus().getPodIP());
        assertTrue(tv.getStatus().getContainerStatuses() == null || tv.getStatus().getContainerStatuses().isEmpty());
        int fullBytes = M.writeValueAsBytes(full).length;
        int trimmedBytes = M.writeValueAsBytes(t).length;
        assertTrue(trimmedBytes * 10 < fullBytes * 7, "trimmed " + trimmedBytes + " B of " + fullBytes + " B");
    }

    @Test
    void aPodWithoutSpecOrMetadataDoesNotBreakTheProjection() {
        Pod t = PodProjection.trim(new Pod());
        assertNull(t.getSpec());
        assertNull(t.getStatus());
        assertNull(t.getMetadata().getName());
        assertEquals(TestConfig.rules().optInKey(), "zeebe-ambient-enforcer.io/enabled");
    }

    /** Whether a pod's containers ever ran (the workload restart reads it) survives the projection and the store. */
    @Test
    void theProjectionKnowsWhetherAContainerRan() {
        java.util.function.Function<io.fabric8.kubernetes.api.model.ContainerState, Boolean> ran = state -> {
            Pod p = new PodBuilder().withNewMetadata().withName("p").endMetadata().withNewStatus().withPhase("Running")
                    .addNewContainerStatus().withName("app").withState(state).endContainerStatus().endStatus().build();
            return PodProjection.containersRan(TrimmedPodStore.decode(TrimmedPodStore.encode(PodProjection.trim(p))));
        };
        assertTrue(ran.apply(new io.fabric8.kubernetes.api.model.ContainerStateBuilder().withNewRunning().withStartedAt("2026-01-01T00:00:00Z")
                .endRunning().build()));
        assertTrue(ran.apply(new io.fabric8.kubernetes.api.model.ContainerStateBuilder().withNewTerminated().withExitCode(1).endTerminated()
                .build()));
        assertEquals(false, ran.apply(new io.fabric8.kubernetes.api.model.ContainerStateBuilder().withNewWaiting().withReason("ContainerCreating")
                .endWaiting().build()));
        Pod restarted = new PodBuilder().withNewMetadata().withName("p").endMetadata().withNewStatus().addNewInitContainerStatus()
                .withName("init").withNewState().withNewWaiting().endWaiting().endState().withNewLastState().withNewTerminated()
                .withExitCode(0).endTerminated().endLastState().endInitContainerStatus().endStatus().build();
        assertTrue(PodProjection.containersRan(TrimmedPodStore.decode(TrimmedPodStore.encode(PodProjection.trim(restarted)))),
                "an init container that ran before (lastState) counts");
        assertEquals(false, PodProjection.containersRan(PodProjection.trim(new PodBuilder().withNewMetadata().withName("new")
                .endMetadata().build())));
    }
}
