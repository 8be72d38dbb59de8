package dev.zeebeambient.enforcer.decision;

import dev.zeebeambient.enforcer.detection.ResolvedSources;
import dev.zeebeambient.enforcer.detection.Target;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EnrollmentDeciderTest {

    static final Target GW = Target.parse("camunda/camunda-zeebe-gateway-grpc:26500");
    static final Map<String, String> OPTED_IN = Map.of("zeebe-ambient-enforcer.io/enabled", "true");
    final EnrollmentDecider decider = new EnrollmentDecider(dev.zeebeambient.enforcer.testsupport.TestConfig.rules());

    static PodBuilder client() {
        return new PodBuilder().withNewMetadata().withGenerateName("worker-").endMetadata()
                .withNewSpec().addNewContainer().withName("worker").withImage("worker:1")
                .addNewEnv().withName("ZEEBE_ADDRESS").withValue("camunda-zeebe-gateway-grpc.camunda:26500").endEnv()
                .endContainer().endSpec();
    }

    static PodBuilder nonClient() {
        return new PodBuilder().withNewMetadata().withName("web").endMetadata()
                .withNewSpec().addNewContainer().withName("web").withImage("nginx").endContainer().endSpec();
    }

    Decision decide(Pod pod, String ns, Map<String, String> nsLabels) {
        return decider.decide(new PodContext(pod, ns, nsLabels, Map.of(), ResolvedSources.NONE));
    }

    Decision decide(Pod pod) {
        return decide(pod, "apps", OPTED_IN);
    }

    static Map<String, String> with(Map<String, String> base, String k, String v) {
        Map<String, String> m = new HashMap<>(base);
        m.put(k, v);
        return m;
    }

    @Test
    void zeebeClientInOptedInNamespaceIsEnrolledWithEvidence() {
        Decision d = decide(client().build());
        assertEquals(Reason.ZEEBE_CLIENT, d.reason());
        assertTrue(d.enroll());
        assertEquals("container worker: env ZEEBE_ADDRESS -> " + GW, d.detail());
        assertEquals(GW, d.evidence().orElseThrow().target());
    }

    @Test
    void nonClientIsSkipped() {
        Decision d = decide(nonClient().build());
        assertEquals(Reason.NOT_A_CLIENT, d.reason());
        assertFalse(d.enroll());
    }

    @Test
    void explicitOptInEnrollsWithoutVisibleAddress() {
        assertEquals(Reason.EXPLICIT_OPT_IN, decide(nonClient().editMetadata()
                .addToLabels("zeebe-ambient-enforcer.io/enroll", "true").endMetadata().build()).reason());
        assertEquals(Reason.EXPLICIT_OPT_IN, decide(nonClient().editMetadata()
                .addToAnnotations("zeebe-ambient-enforcer.io/enroll", "true").endMetadata().build()).reason());
    }

    @Test
    void excludedNamespacesIncludingOwn() {
        for (String ns : new String[] {"kube-system", "kube-public", "kube-node-lease", "istio-system", "zeebe-ambient-enforcer"}) {
            assertEquals(Reason.EXCLUDED_NAMESPACE, decide(client().build(), ns, OPTED_IN).reason(), ns);
        }
    }

    @Test
    void mirrorPod() {
        assertEquals(Reason.MIRROR_POD, decide(client().editMetadata()
                .addToAnnotations("kubernetes.io/config.mirror", "abc").endMetadata().build()).reason());
    }

    @Test
    void existingDataplaneModeIsNeverOverridden() {
        assertEquals(Reason.ALREADY_AMBIENT, decide(client().editMetadata()
                .addToLabels("istio.io/dataplane-mode", "ambient").endMetadata().build()).reason());
        Decision none = decide(client().editMetadata().addToLabels("istio.io/dataplane-mode", "none").endMetadata().build());
        assertEquals(Reason.DATAPLANE_NONE, none.reason());
        assertTrue(none.evidence().isPresent(), "a client that opts out is worth a warning");
        assertEquals(Reason.DATAPLANE_OTHER, decide(client().editMetadata()
                .addToLabels("istio.io/dataplane-mode", "sidecar").endMetadata().build()).reason());
    }

    @Test
    void projectOptOutByLabelOrAnnotation() {
        assertEquals(Reason.OPTED_OUT, decide(client().editMetadata()
                .addToLabels("zeebe-ambient-enforcer.io/enroll", "false").endMetadata().build()).reason());
        assertEquals(Reason.OPTED_OUT, decide(client().editMetadata()
                .addToAnnotations("zeebe-ambient-enforcer.io/enroll", "FALSE").endMetadata().build()).reason());
    }

    @Test
    void hostNetwork() {
        Decision d = decide(client().editSpec().withHostNetwork(true).endSpec().build());
        assertEquals(Reason.HOST_NETWORK, d.reason());
        assertTrue(d.evidence().isPresent());
        assertFalse(decide(nonClient().editSpec().withHostNetwork(true).endSpec().build()).evidence().isPresent());
    }

    @Test
    void namespaceNotOptedIn() {
        assertEquals(Reason.NAMESPACE_NOT_OPTED_IN, decide(client().build(), "apps", Map.of()).reason());
        assertEquals(Reason.NAMESPACE_NOT_OPTED_IN, decide(client().build(), "apps",
                Map.of("zeebe-ambient-enforcer.io/enabled", "false")).reason());
    }

    @Test
    void unknownNamespaceLabelsDecideFromThePodAlone() {
        assertEquals(Reason.ZEEBE_CLIENT, decide(client().build(), "apps", null).reason());
    }

    @Test
    void namespaceDataplaneMode() {
        assertEquals(Reason.NAMESPACE_AMBIENT, decide(client().build(), "apps",
                with(OPTED_IN, "istio.io/dataplane-mode", "ambient")).reason());
        assertEquals(Reason.NAMESPACE_DATAPLANE_NONE, decide(client().build(), "apps",
                with(OPTED_IN, "istio.io/dataplane-mode", "none")).reason());
    }

    @Test
    void sidecarInjectionWinsOverAmbient() {
        assertEquals(Reason.SIDECAR, decide(client().build(), "apps", with(OPTED_IN, "istio-injection", "enabled")).reason());
        assertEquals(Reason.SIDECAR, decide(client().build(), "apps", with(OPTED_IN, "istio.io/rev", "canary")).reason());
        assertEquals(Reason.SIDECAR, decide(client().editMetadata().addToLabels("sidecar.istio.io/inject", "true")
                .endMetadata().build()).reason());
        assertEquals(Reason.SIDECAR, decide(client().editMetadata().addToAnnotations("sidecar.istio.io/inject", "true")
                .endMetadata().build()).reason());
        assertEquals(Reason.SIDECAR, decide(client().editMetadata().addToLabels("istio.io/rev", "stable")
                .endMetadata().build()).reason());
        assertEquals(Reason.SIDECAR, decide(client().editMetadata().addToAnnotations("sidecar.istio.io/status", "{}")
                .endMetadata().build()).reason());
        Decision d = decide(client().build(), "apps", with(OPTED_IN, "istio-injection", "enabled"));
        assertTrue(d.detail().contains("istio-injection=enabled"), d.detail());
        assertTrue(d.evidence().isPresent());
    }

    @Test
    void podSidecarOptOutBeatsNamespaceInjection() {
        Pod pod = client().editMetadata().addToLabels("sidecar.istio.io/inject", "false").endMetadata().build();
        assertEquals(Reason.ZEEBE_CLIENT, decide(pod, "apps", with(OPTED_IN, "istio-injection", "enabled")).reason());
        assertEquals(Reason.ZEEBE_CLIENT, decide(client().build(), "apps",
                with(with(OPTED_IN, "istio.io/rev", "x"), "istio-injection", "disabled")).reason());
    }

    @Test
    void gatewayBackendBySelector() {
        Pod gateway = client().editMetadata().addToLabels(Map.of("app", "zeebe-gw", "tier", "gw")).endMetadata().build();
        Map<Target, Map<String, String>> selectors = Map.of(GW, Map.of("app", "zeebe-gw"));
        Decision d = decider.decide(new PodContext(gateway, "camunda", OPTED_IN, selectors, ResolvedSources.NONE));
        assertEquals(Reason.GATEWAY_BACKEND, d.reason());
        // same labels in another namespace: not a backend of this Service
        assertEquals(Reason.ZEEBE_CLIENT,
                decider.decide(new PodContext(gateway, "apps", OPTED_IN, selectors, ResolvedSources.NONE)).reason());
        // selector not matched
        assertEquals(Reason.ZEEBE_CLIENT, decider.decide(new PodContext(gateway, "camunda", OPTED_IN,
                Map.of(GW, Map.of("app", "other")), ResolvedSources.NONE)).reason());
    }

    @Test
    void gatewayPodsAreEnrolledOnlyWhenConfigured() {
        Rules r = dev.zeebeambient.enforcer.testsupport.TestConfig.rules();
        EnrollmentDecider enrolling = new EnrollmentDecider(new Rules(r.targets(), r.clusterDomain(), r.optInKey(),
                r.optInValue(), r.excludedNamespaces(), r.enrollKey(), r.serverComponents(), r.readSecrets(), true));
        Pod gateway = nonClient().editMetadata().addToLabels("app", "zeebe-gw").endMetadata().build();
        Map<Target, Map<String, String>> selectors = Map.of(GW, Map.of("app", "zeebe-gw"));
        Decision d = enrolling.decide(new PodContext(gateway, "camunda", OPTED_IN, selectors, ResolvedSources.NONE));
        assertEquals(Reason.GATEWAY_POD, d.reason());
        assertTrue(d.enroll());
        assertEquals(Reason.GATEWAY_BACKEND,
                decider.decide(new PodContext(gateway, "camunda", OPTED_IN, selectors, ResolvedSources.NONE)).reason());
    }

    @Test
    void zeebeServerComponentsInTargetNamespaceAreNeverClients() {
        for (String component : new String[] {"zeebe-gateway", "zeebe-broker", "orchestration"}) {
            Pod pod = client().editMetadata().addToLabels("app.kubernetes.io/component", component).endMetadata().build();
            assertEquals(Reason.GATEWAY_BACKEND, decide(pod, "camunda", OPTED_IN).reason(), component);
            assertEquals(Reason.ZEEBE_CLIENT, decide(pod, "apps", OPTED_IN).reason(), component);
        }
    }

    @Test
    void precedence() {
        // excluded namespace beats everything; opt-out "none" beats explicit opt-in
        Pod everything = client().editMetadata().addToLabels(Map.of("istio.io/dataplane-mode", "none",
                "zeebe-ambient-enforcer.io/enroll", "true")).endMetadata().build();
        assertEquals(Reason.EXCLUDED_NAMESPACE, decide(everything, "kube-system", OPTED_IN).reason());
        assertEquals(Reason.DATAPLANE_NONE, decide(everything).reason());
        // explicit opt-in does not override sidecar injection or the namespace switch
        Pod explicit = nonClient().editMetadata().addToLabels("zeebe-ambient-enforcer.io/enroll", "true").endMetadata().build();
        assertEquals(Reason.SIDECAR, decide(explicit, "apps", with(OPTED_IN, "istio-injection", "enabled")).reason());
        assertEquals(Reason.NAMESPACE_NOT_OPTED_IN, decide(explicit, "apps", Map.of()).reason());
    }

    @Test
    void unknownNamespaceName() {
        assertEquals(Reason.ZEEBE_CLIENT, decide(client().build(), null, null).reason());
    }

    @Test
    void podWithoutMetadataOrSpec() {
        assertEquals(Reason.NOT_A_CLIENT, decide(new Pod()).reason());
    }

    @Test
    void everyReasonHasADistinctTag() {
        assertEquals(Reason.values().length,
                java.util.Arrays.stream(Reason.values()).map(Reason::tag).distinct().count());
    }
}
