package dev.zeebeambient.enforcer.install;

import dev.zeebeambient.enforcer.testsupport.Chart;
import dev.zeebeambient.enforcer.testsupport.Eventually;
import dev.zeebeambient.enforcer.testsupport.InstallFiles;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
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
 * The chart is the one author of the install: {@code files/constants.json} is written from the enforcer's classes, the
 * kustomize base and components are {@code helm template} output ({@link InstallFiles}); one switch,
 * {@code -Dinstall.refresh=true}, rewrites all of them, and without it any difference fails with a unified diff. Another
 * configuration renders objects the real API server accepts, whose webhook, policies and Roles follow it.
 */
class InstallFilesTest {

    static final Path CONSTANTS = Path.of("webhook-config", "helm", "zeebe-ambient-enforcer", "files", "constants.json");

    @Test
    void everyGeneratedFileIsCurrent() throws Exception {
        boolean refresh = Boolean.getBoolean("install.refresh");
        List<String> stale = new ArrayList<>();
        // first: the chart renders everything else from it
        check(CONSTANTS, ChartConstants.json(), refresh, stale);
        Map<String, String> files = InstallFiles.render();
        for (Map.Entry<String, String> f : files.entrySet()) {
            check(InstallFiles.ROOT.resolve(f.getKey()), f.getValue(), refresh, stale);
        }
        // no generated directory keeps a file the chart no longer renders
        List<Path> dirs = new ArrayList<>(List.of(InstallFiles.ROOT.resolve("base")));
        InstallFiles.COMPONENTS.forEach(c -> dirs.add(InstallFiles.ROOT.resolve("components").resolve(c.name())));
        for (Path dir : dirs) {
            try (Stream<Path> list = Files.list(dir)) {
                for (Path p : list.toList()) {
                    String rel = InstallFiles.ROOT.relativize(p).toString();
                    if (!files.containsKey(rel) && !rel.equals(InstallFiles.NAMESPACE_FILE)) {
                        if (refresh) {
                            Files.delete(p);
                        } else {
                            stale.add(p + " is not rendered by the chart any more: " + InstallFiles.REFRESH + " removes it");
                        }
                    }
                }
            }
        }
        assertEquals("", String.join("\n", stale));
    }

    /** Compares (or, refreshing, writes) one generated file; a difference is reported as a unified diff. */
    private static void check(Path path, String expected, boolean refresh, List<String> stale) throws Exception {
        String actual = Files.exists(path) ? Files.readString(path) : null;
        if (expected.equals(actual)) {
            return;
        }
        if (refresh) {
            Files.createDirectories(path.getParent());
            Files.writeString(path, expected);
            return;
        }
        Path want = Files.createDirectories(Path.of("target", "install-files")).resolve(path.toString().replace('/', '_'));
        Files.writeString(want, expected);
        Process diff = new ProcessBuilder("diff", "-u", actual == null ? "/dev/null" : path.toString(), want.toString())
                .redirectErrorStream(true).start();
        String out = new String(diff.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        diff.waitFor();
        stale.add(path + " differs from what the chart renders (" + InstallFiles.REFRESH + " rewrites it):\n" + out);
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
        String rendered = Chart.template("--set", "enforcer.targets={zeebe-prod/gw-grpc:26600}",
                "--set", "enforcer.namespaceOptInLabel=platform.example.com/zeebe=on",
                "--set", "enforcer.podEnrollKey=platform.example.com/enroll",
                "--set", "enforcer.reasonAnnotation=platform.example.com/zeebe-reason",
                "--set", "enforcer.bootstrap.waypointName=zeebe-waypoint");
        List<HasMetadata> objects = new ArrayList<>(admin.load(new java.io.ByteArrayInputStream(
                rendered.getBytes(java.nio.charset.StandardCharsets.UTF_8))).items());
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
        // the retract policy's conditions and variables are the enroll policy's, for this configuration too
        String retract = admin.getKubernetesSerialization().asJson(objects.stream()
                .filter(o -> o.getMetadata().getName().equals(InstallNames.ENROLL_POLICY + "-retract") && o.getKind().equals("MutatingAdmissionPolicy"))
                .findFirst().orElseThrow());
        assertTrue(retract.contains("'zeebe-prod'") && retract.contains("'platform.example.com/enroll'"), retract);
        assertFalse(retract.contains("'camunda'") || retract.contains("zeebe-ambient-enforcer.io/enroll'"), "no default target or enroll key: " + retract);
        String podPolicy = Chart.objects("--set", "enforcer.namespaceOptInLabel=platform.example.com/zeebe=on",
                "--set", "enforcer.reasonAnnotation=platform.example.com/zeebe-reason").stream()
                .filter(o -> o.path("metadata").path("name").asText().equals("zeebe-ambient-enforcer-pod-patches")).findFirst().orElseThrow()
                .path("spec").toString();
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
        List<String> refused = new ArrayList<>();
        int applied = 0;
        String rendered = Chart.template("--set",
                "enforcer.targets={camunda/camunda-zeebe-gateway-grpc:26500,c8-prod/c8-zeebe-gateway-grpc:26600,camunda/other-grpc:26500}");
        {
            for (HasMetadata o : admin.load(new java.io.ByteArrayInputStream(rendered.getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                    .items()) {
                if (!o.getKind().contains("Admission") && !o.getKind().equals("MutatingWebhookConfiguration")) {
                    continue; // the policies and the webhook are what CEL compiles; the Roles live in namespaces this test does not create
                }
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
    void auditModeRendersNoEnrollingPolicy() throws Exception {
        List<String> audit = enrollObjects("--set", "enforcer.mode=audit");
        assertEquals(List.of("ValidatingAdmissionPolicy/" + InstallNames.BYPASS_WARNING,
                "ValidatingAdmissionPolicyBinding/" + InstallNames.BYPASS_WARNING), audit, "only the bypass warning: a warning changes nothing");
        assertTrue(enrollObjects().contains("MutatingAdmissionPolicy/" + InstallNames.ENROLL_POLICY));
    }

    static List<String> enrollObjects(String... args) throws Exception {
        return Chart.objects(args).stream().filter(o -> o.path("metadata").path("name").asText().startsWith(InstallNames.ENROLL_POLICY))
                .map(o -> o.path("kind").asText() + "/" + o.path("metadata").path("name").asText()).sorted().toList();
    }
}
