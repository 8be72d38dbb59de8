package dev.zeebeambient.enforcer.install;

import dev.zeebeambient.enforcer.testsupport.Eventually;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import dev.zeebeambient.enforcer.testsupport.TestConfig;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * webhook-config/base's files that repeat the configuration are its rendering ({@link InstallManifest}); another
 * configuration renders a base the real API server accepts, whose webhook, policies and Roles follow it.
 */
class InstallManifestTest {

    static final Path BASE = Path.of("webhook-config", "base");

    /** The checked-in base is the defaults' rendering; {@code -Dinstall.update=true} rewrites it. */
    @Test
    void theBaseIsTheDefaultsRendering() throws IOException {
        var defaults = TestConfig.defaults();
        if (Boolean.getBoolean("install.update")) {
            InstallManifest.write(defaults, BASE);
        }
        Map<String, String> rendered = InstallManifest.render(defaults);
        assertEquals(List.of("mutatingwebhook.yaml", "pod-patch-policy.yaml", "rbac-bootstrap.yaml", "enroll-policy.yaml"),
                List.copyOf(rendered.keySet()));
        for (Map.Entry<String, String> f : rendered.entrySet()) {
            assertEquals(f.getValue(), Files.readString(BASE.resolve(f.getKey())), f.getKey()
                    + " is generated from the configuration: mvn test -Dtest=InstallManifestTest -Dinstall.update=true rewrites it");
        }
    }

    /**
     * Another configuration (target, opt-in label, enroll key, annotation prefix, waypoint name) rendered into a copy of
     * the base: kubectl renders it, the API server accepts every object, the Roles and policies carry its names, and
     * the API server sends the pods the webhook's selectors and conditions should send, and no others.
     */
    @Test
    void anotherConfigurationRendersABaseThatFollowsIt() throws Exception {
        KubeTestCluster cluster = KubeTestCluster.get();
        KubernetesClient admin = cluster.client();
        var config = TestConfig.with(Map.of("enforcer.targets", "zeebe-prod/gw-grpc:26600",
                "enforcer.namespace-opt-in-label", "platform.example.com/zeebe=on",
                "enforcer.pod-enroll-key", "platform.example.com/enroll",
                "enforcer.reason-annotation", "platform.example.com/zeebe-reason",
                "enforcer.bootstrap.waypoint-name", "zeebe-waypoint"));
        Path dir = Path.of("target", "install-other-base");
        try (Stream<Path> files = Files.list(BASE)) {
            Files.createDirectories(dir);
            for (Path f : files.toList()) {
                Files.copy(f, dir.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
        InstallManifest.write(config, dir);
        List<HasMetadata> objects = new ArrayList<>(cluster.render(dir));
        for (String ns : List.of("zeebe-prod", "camunda", "istio-system", "zeebe-ambient-enforcer")) {
            cluster.namespace(ns, Map.of());
        }
        List<String> generatedKinds = List.of("MutatingWebhookConfiguration", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
                "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding", "Role", "RoleBinding");
        for (HasMetadata o : objects) { // validated and defaulted, not stored: the shipped identity stays in force
            if (!generatedKinds.contains(o.getKind())) {
                continue; // the Deployment & co. are the base's, as ManifestsTest applies them
            }
            HasMetadata candidate = o;
            if (o instanceof MutatingWebhookConfiguration) { // other tests register one by that name, calling a URL
                candidate = admin.getKubernetesSerialization().clone(o);
                candidate.getMetadata().setName(o.getMetadata().getName() + "-install-test");
            }
            assertEquals(candidate.getMetadata().getName(), admin.resource(candidate).dryRun().fieldManager("install-test").forceConflicts()
                    .serverSideApply().getMetadata().getName(), o.getKind());
        }
        Role role = (Role) objects.stream().filter(o -> o instanceof Role && "zeebe-prod".equals(o.getMetadata().getNamespace()))
                .findFirst().orElseThrow();
        assertEquals(List.of("gw-grpc"), role.getRules().get(0).getResourceNames());
        assertEquals(List.of("zeebe-waypoint"), role.getRules().get(1).getResourceNames());
        assertFalse(objects.stream().anyMatch(o -> o instanceof Role && "camunda".equals(o.getMetadata().getNamespace())),
                "no Role in the default target's namespace");
        String podPolicy = Files.readString(dir.resolve("pod-patch-policy.yaml"));
        assertTrue(podPolicy.contains("k.startsWith('platform.example.com/')") && podPolicy.contains("'platform.example.com/zeebe' in namespaceObject"),
                podPolicy);
        assertFalse(podPolicy.contains("zeebe-ambient-enforcer.io/"), "no default annotation prefix or label left");

        // the rendered webhook's selectors and conditions, evaluated by the API server: failurePolicy Fail at a closed port
        MutatingWebhookConfiguration mwc = (MutatingWebhookConfiguration) objects.stream()
                .filter(o -> o instanceof MutatingWebhookConfiguration).findFirst().orElseThrow();
        String hookName = "install-other.zeebe-ambient-enforcer.io";
        String never = "https://localhost:1/install-other";
        cluster.namespace("install-other-apps", Map.of("platform.example.com/zeebe", "on"));
        cluster.namespace("install-default-apps", Map.of("zeebe-ambient-enforcer.io/enabled", "true"));
        cluster.registerWebhook("install-other", never, "Fail", hook -> {
            hook.setName(hookName);
            hook.setTimeoutSeconds(1);
            hook.setNamespaceSelector(mwc.getWebhooks().get(0).getNamespaceSelector());
            hook.setMatchConditions(mwc.getWebhooks().get(0).getMatchConditions());
        });
        try {
            var k8sConfig = cluster.config();
            k8sConfig.setRequestRetryBackoffLimit(0);
            try (KubernetesClient k8s = new io.fabric8.kubernetes.client.KubernetesClientBuilder().withConfig(k8sConfig).build()) {
                Eventually.await(() -> called(k8s, "install-other-apps", client("gw-grpc.zeebe-prod:26600"), hookName), 60,
                        "the API server calls the rendered webhook");
                assertTrue(called(k8s, "install-other-apps", client("grpc://GW-GRPC.ZEEBE-PROD.svc:26600"), hookName));
                assertFalse(called(k8s, "install-other-apps", client("camunda-zeebe-gateway-grpc.camunda:26500"), hookName),
                        "the default target is not this configuration's");
                assertTrue(called(k8s, "install-other-apps", new PodBuilder(client("x")).editMetadata()
                        .addToLabels("platform.example.com/enroll", "true").endMetadata().build(), hookName), "its enroll key");
                assertFalse(called(k8s, "install-default-apps", client("gw-grpc.zeebe-prod:26600"), hookName),
                        "a namespace with the default opt-in label did not opt in here");
            }
        } finally {
            cluster.deregisterWebhook("install-other");
        }
    }

    static Pod client(String address) {
        return new PodBuilder().withNewMetadata().withName("probe").endMetadata().withNewSpec().addNewContainer().withName("app")
                .withImage("app:1").addNewEnv().withName("GATEWAY").withValue(address).endEnv().endContainer().endSpec().build();
    }

    /** Whether the API server called the webhook for a dry-run create (only the call fails: failurePolicy Fail). */
    static boolean called(KubernetesClient k8s, String ns, Pod pod, String hookName) {
        try {
            k8s.pods().inNamespace(ns).resource(pod).dryRun().create();
            return false;
        } catch (KubernetesClientException e) {
            if (String.valueOf(e.getMessage()).contains("failed calling webhook \"" + hookName + "\"")) {
                return true;
            }
            throw e;
        }
    }

    /**
     * Several targets: the API server compiles every generated expression (a conditional after {@code +} once read as
     * {@code (string + bool) ? ...} and was refused with "no matching overload for '_+_' applied to '(string, bool)'").
     */
    @Test
    void severalTargetsRenderPoliciesTheApiServerCompiles() throws Exception {
        KubernetesClient admin = KubeTestCluster.get().client();
        var config = TestConfig.with(Map.of("enforcer.targets",
                "camunda/camunda-zeebe-gateway-grpc:26500,c8-prod/c8-zeebe-gateway-grpc:26600,camunda/other-grpc:26500"));
        List<String> refused = new ArrayList<>();
        int applied = 0;
        for (Map.Entry<String, String> f : InstallManifest.render(config).entrySet()) {
            if (f.getKey().startsWith("rbac")) {
                continue; // namespaced Roles in namespaces this test does not create; the policies are what CEL compiles
            }
            for (HasMetadata o : admin.load(new java.io.ByteArrayInputStream(f.getValue().getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                    .items()) {
                HelmChartTest.dryRunName(o);
                try {
                    admin.resource(o).dryRun().create();
                    applied++;
                } catch (KubernetesClientException e) {
                    refused.add(o.getKind() + " " + o.getMetadata().getName() + ": " + e.getMessage());
                }
            }
        }
        assertEquals(List.of(), refused);
        assertTrue(applied >= 8, "policies, bindings and the webhook were applied: " + applied);
    }

    /** Audit mode changes nothing: no enrolling policy is rendered (it would label pods inside the API server); the bypass warning stays. */
    @Test
    void auditModeRendersNoEnrollingPolicy() {
        String audit = InstallManifest.render(TestConfig.with(Map.of("enforcer.audit", "true"))).get("enroll-policy.yaml");
        assertFalse(audit.contains("kind: MutatingAdmissionPolicy"), audit);
        assertFalse(audit.contains("name: " + EnrollPolicy.WARNING + "\n"), audit);
        assertTrue(audit.contains("name: " + EnrollPolicy.BYPASS_WARNING), audit);
        assertTrue(InstallManifest.render(TestConfig.defaults()).get("enroll-policy.yaml").contains("kind: MutatingAdmissionPolicy"));
    }
}
