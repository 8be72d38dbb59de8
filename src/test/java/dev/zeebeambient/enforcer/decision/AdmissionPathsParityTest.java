package dev.zeebeambient.enforcer.decision;

import dev.zeebeambient.enforcer.bench.SystemBenchmark;
import dev.zeebeambient.enforcer.install.InstallNames;
import dev.zeebeambient.enforcer.testsupport.EnrollPolicies;
import dev.zeebeambient.enforcer.testsupport.Endpoints;
import dev.zeebeambient.enforcer.testsupport.Eventually;
import dev.zeebeambient.enforcer.testsupport.KubeApiServerResource;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every pod of the corpus ({@code src/test/resources/corpus}: the other tests' pod shapes and match-condition pods,
 * every address form and look-alike, free text, host/port pairs, skip rules) through the real API server
 * three ways, with the running enforcer as the webhook: webhook only (the policy absent), policy only
 * (the webhook not registered), and both, as shipped. The policy never enrolls a pod the webhook does
 * not; with both, every pod ends exactly as with the webhook alone; the pods the policy enrolled
 * cost no webhook call (the API server's own metric); and the share of the webhook's enrollments the
 * policy covers is printed.
 */
@QuarkusTest
@WithTestResource(KubeApiServerResource.class)
class AdmissionPathsParityTest {

    static final String NS = "paths-parity";
    static final String HOOK_CONFIG = "zeebe-ambient-enforcer";
    static final String HOOK = "pods.zeebe-ambient-enforcer.io";
    static final String MODE = "istio.io/dataplane-mode";
    static final String BY = "zeebe-ambient-enforcer.io/enrolled-by";
    static final String REASON = "zeebe-ambient-enforcer.io/enrolled-because";

    /** What admission made of a pod: the label, who enrolled it and why. */
    record Admitted(String mode, String by, String reason) {
        boolean enrolled() {
            return "ambient".equals(mode);
        }

        boolean byPolicy() {
            return enrolled() && dev.zeebeambient.enforcer.enrollment.Origin.POLICY.tag().equals(by);
        }
    }

    @AfterAll
    static void removeThePolicy() {
        EnrollPolicies.remove(NS); // the other tests put the webhook under test
        KubeTestCluster.get().deregisterWebhook(HOOK_CONFIG); // and register their own (ExplainTest expects none)
    }

    @Test
    void thePolicyTheWebhookAndBothAgree() throws Exception {
        KubeTestCluster cluster = KubeTestCluster.get();
        KubernetesClient admin = cluster.client();
        cluster.namespace(NS, Map.of("zeebe-ambient-enforcer.io/enabled", "true"));
        admin.resource(new ConfigMapBuilder().withNewMetadata().withName("paths-probe").withNamespace(NS).endMetadata()
                .addToData("address", "camunda-zeebe-gateway-grpc.camunda:26500").build()).serverSideApply();
        Map<String, Pod> corpus = new LinkedHashMap<>(dev.zeebeambient.enforcer.testsupport.Corpus.pods());
        // pods that already carry our enrollment model the webhook's second call (after a later webhook changed the pod):
        // the API server makes it only then (OtherAdmissionIT), never for a pod created that way
        corpus.values().removeIf(p -> p.getMetadata().getAnnotations() != null
                && p.getMetadata().getAnnotations().containsKey("zeebe-ambient-enforcer.io/enrolled-by"));

        // webhook only
        EnrollPolicies.remove(NS);
        cluster.registerWebhook(HOOK_CONFIG, Endpoints.MUTATE_URL, "Ignore");
        awaitPaths(admin, false, true);
        Map<String, Admitted> webhook = admitAll(admin, corpus);

        // policy only
        EnrollPolicies.install(Files.readString(EnrollPolicies.SHIPPED));
        cluster.deregisterWebhook(HOOK_CONFIG);
        awaitPaths(admin, true, false);
        Map<String, Admitted> policy = admitAll(admin, corpus);

        // both, as shipped: the pods the policy enrolls first, to count their webhook calls apart
        cluster.registerWebhook(HOOK_CONFIG, Endpoints.MUTATE_URL, "Ignore");
        awaitPaths(admin, true, true);
        Map<String, Pod> policyPods = new LinkedHashMap<>();
        Map<String, Pod> rest = new LinkedHashMap<>();
        corpus.forEach((k, p) -> (dev.zeebeambient.enforcer.enrollment.Origin.POLICY.tag().equals(policy.get(k).by()) ? policyPods : rest).put(k, p));
        long before = SystemBenchmark.webhookCalls(admin, HOOK);
        Map<String, Admitted> both = admitAll(admin, policyPods);
        long policyPodCalls = SystemBenchmark.webhookCalls(admin, HOOK) - before;
        before = SystemBenchmark.webhookCalls(admin, HOOK);
        both.putAll(admitAll(admin, rest));
        long restCalls = SystemBenchmark.webhookCalls(admin, HOOK) - before;

        // the webhook through the API server answers as its golden verdict says (src/test/resources/corpus/verdicts)
        var golden = dev.zeebeambient.enforcer.testsupport.Corpus.verdicts();
        List<String> notGolden = corpus.keySet().stream().filter(k -> "ENROLL".equals(golden.get(k).get("kind").asText())
                != (webhook.get(k).enrolled() && webhook.get(k).by() != null)).toList();
        assertEquals(List.of(), notGolden, "the webhook's answer through the API server differs from the golden verdict");

        List<String> falsePositives = new ArrayList<>();
        List<String> differ = new ArrayList<>();
        List<String> literalMissed = new ArrayList<>();
        int webhookEnrolls = 0;
        int policyEnrolls = 0;
        for (String key : corpus.keySet()) {
            Admitted w = webhook.get(key);
            Admitted p = policy.get(key);
            Admitted b = both.get(key);
            webhookEnrolls += w.enrolled() && w.by() != null ? 1 : 0; // enrolled by admission (not labelled to begin with)
            policyEnrolls += p.byPolicy() ? 1 : 0;
            if (p.byPolicy() && !w.enrolled()) {
                falsePositives.add(key);
            }
            if (!Objects.equals(w.mode(), b.mode()) || (p.byPolicy() && !b.byPolicy())) {
                differ.add(key + ": webhook " + w + ", both " + b);
            }
            // a whole-value literal env address (or host/port pair) the webhook enrolls: the policy must too
            boolean literal = (key.startsWith("env ") || key.startsWith("pair ")) && w.enrolled() && w.reason() != null
                    && w.reason().contains(": env ") && !w.reason().contains(" contains ");
            if (literal && !p.byPolicy()) {
                literalMissed.add(key);
            }
        }
        System.out.printf("admission paths parity: %d pods; the webhook alone enrolls %d, the policy alone %d (%.0f%% of the "
                + "webhook's), both %d; false positives %d, outcome differs %d, literal forms missed %d; webhook calls with both: "
                + "%d for the %d pods the policy enrolled, %d for the other %d%n", corpus.size(), webhookEnrolls, policyEnrolls,
                100.0 * policyEnrolls / webhookEnrolls, both.values().stream().filter(Admitted::enrolled).count(), falsePositives.size(),
                differ.size(), literalMissed.size(), policyPodCalls, policyPods.size(), restCalls, rest.size());
        assertEquals(List.of(), falsePositives, "the policy enrolled pods the webhook does not");
        assertEquals(List.of(), differ, "with both, a pod ends differently than with the webhook alone");
        assertEquals(List.of(), literalMissed, "literal forms the webhook enrolls and the policy does not");
        assertEquals(0, policyPodCalls, "pods the policy enrolled are not sent to the webhook");
        assertTrue(restCalls > 0, "the pods the policy leaves are sent to the webhook");
        assertTrue(policyEnrolls >= 150, "policy enrollments: " + policyEnrolls);
    }

    static Map<String, Admitted> admitAll(KubernetesClient admin, Map<String, Pod> pods) {
        Map<String, Admitted> out = new LinkedHashMap<>();
        pods.forEach((k, p) -> out.put(k, admit(admin, p)));
        return out;
    }

    static Admitted admit(KubernetesClient admin, Pod pod) {
        Pod p = admin.pods().inNamespace(NS).resource(pod).dryRun().create();
        Map<String, String> labels = p.getMetadata().getLabels() == null ? Map.of() : p.getMetadata().getLabels();
        Map<String, String> annotations = p.getMetadata().getAnnotations() == null ? Map.of() : p.getMetadata().getAnnotations();
        return new Admitted(labels.get(MODE), annotations.get(BY), annotations.get(REASON));
    }

    /**
     * Waits until the API server applies exactly these paths (it loads admission configuration asynchronously):
     * a literal client shows the policy, a client whose address is in a ConfigMap (the policy leaves it) the webhook.
     */
    static void awaitPaths(KubernetesClient admin, boolean policy, boolean webhook) {
        Pod literal = new PodBuilder().withNewMetadata().withName("probe-literal").endMetadata().withNewSpec().addNewContainer()
                .withName("app").withImage("app:1").addNewEnv().withName("ZEEBE_ADDRESS").withValue("camunda-zeebe-gateway-grpc.camunda:26500")
                .endEnv().endContainer().endSpec().build();
        Pod configMap = new PodBuilder().withNewMetadata().withName("probe-configmap").endMetadata().withNewSpec().addNewContainer()
                .withName("app").withImage("app:1").addNewEnv().withName("ZEEBE_ADDRESS").withNewValueFrom()
                .withNewConfigMapKeyRef("address", "paths-probe", false).endValueFrom().endEnv().endContainer().endSpec().build();
        Eventually.await(() -> dev.zeebeambient.enforcer.enrollment.Origin.POLICY.tag().equals(admit(admin, literal).by()) == policy
                && admit(admin, configMap).enrolled() == webhook, 60, "policy " + policy + ", webhook " + webhook + " in force");
    }
}
