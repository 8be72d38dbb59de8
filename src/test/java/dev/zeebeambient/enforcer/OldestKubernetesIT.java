package dev.zeebeambient.enforcer;

import dev.zeebeambient.enforcer.install.InstallNames;
import dev.zeebeambient.enforcer.install.InstalledConfiguration;
import dev.zeebeambient.enforcer.testsupport.FaultCluster;
import dev.zeebeambient.enforcer.testsupport.Helm;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import dev.zeebeambient.enforcer.testsupport.StubCrds;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The oldest Kubernetes the chart claims (Chart.yaml kubeVersion >=1.30), as a real kube-apiserver 1.30 built from the Go
 * module proxy (src/test/kube/v1.30): the default {@code helm install} installs (the enroll policy left out, as this API
 * server does not serve MutatingAdmissionPolicy, and NOTES say so), and the README's first kustomize command is accepted;
 * the 1.36+ component is refused with the message README's troubleshooting quotes.
 */
class OldestKubernetesIT {

    static final String VERSION = "1.30.14";

    static Path apiServer() {
        String dir = System.getenv().getOrDefault("KUBE_API_TEST_DIR", Paths.get(System.getProperty("user.home"), ".kube_api_test").toString());
        Path binary = Paths.get(dir, "k8s", VERSION + "-linux-amd64", "kube-apiserver");
        if (!Files.isExecutable(binary)) {
            throw new IllegalStateException(binary + " is missing: src/test/kube/build-binaries.sh builds it (mvn runs it in generate-test-resources)");
        }
        return binary;
    }

    @Test
    void theDefaultHelmInstallAndTheFirstKustomizeCommandWorkOnTheOldestSupportedMinor() throws Exception {
        try (FaultCluster oldest = new FaultCluster(apiServer())) {
            KubeTestCluster cluster = oldest.cluster();
            KubernetesClient admin = cluster.client();
            assertEquals("30", admin.getKubernetesVersion().getMinor(), "the API server is 1.30");
            for (String ns : List.of("camunda", "istio-system")) {
                cluster.namespace(ns, Map.of());
            }
            StubCrds.install(admin); // cert-manager's kinds, for the default TLS mode

            Map<String, String> env = Map.of("KUBECONFIG", cluster.kubeconfig().toAbsolutePath().toString());
            long t0 = System.nanoTime();
            Helm.Result install = Helm.run(env, List.of("install", "zeebe-ambient-enforcer", Helm.CHART.toString(), "-n", "zeebe-ambient-enforcer",
                    "--create-namespace"));
            System.out.printf("helm install, default values, Kubernetes %s: exit %d in %d ms%n", VERSION, install.exit(),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
            assertEquals(0, install.exit(), install.output());
            assertTrue(install.output().contains("Admission path: the webhook decides every pod (the enroll policy is off: this API server "
                    + "does not serve admissionregistration.k8s.io/v1 MutatingAdmissionPolicy"), install.output());
            // what the default was before enrollPolicy followed the cluster (true): refused by this API server
            Helm.Result always = Helm.run(env, List.of("upgrade", "zeebe-ambient-enforcer", Helm.CHART.toString(), "-n", "zeebe-ambient-enforcer",
                    "--dry-run=server", "--set", "enforcer.enrollPolicy=true"));
            assertTrue(always.exit() != 0 && always.output().contains("no matches for kind \"MutatingAdmissionPolicy\" in version "
                    + "\"admissionregistration.k8s.io/v1\""), always.output());
            var webhook = admin.admissionRegistration().v1().mutatingWebhookConfigurations().withName(InstallNames.NAME).get();
            assertNotNull(webhook, "the webhook is installed");
            assertTrue(webhook.getMetadata().getAnnotations().containsKey(InstalledConfiguration.ANNOTATION), "with the settings it was rendered from");
            assertNotNull(admin.admissionRegistration().v1().validatingAdmissionPolicies().withName(InstallNames.POD_PATCHES).get(),
                    "the pod-patch policy (ValidatingAdmissionPolicy v1, GA in 1.30)");
            assertNotNull(admin.configMaps().inNamespace("zeebe-ambient-enforcer").withName(InstallNames.CONFIG_MAP).get());

            // precheck says which admission path this minor allows
            var checks = dev.zeebeambient.enforcer.cli.Precheck.checks(dev.zeebeambient.enforcer.testsupport.TestConfig.defaults(), admin);
            String version = checks.stream().filter(c -> c.name().equals("Kubernetes version")).findFirst().orElseThrow().toString();
            System.out.println("precheck on " + VERSION + ": " + version);
            assertTrue(version.contains("PASS") && version.contains("no MutatingAdmissionPolicy v1 (1.36+), the webhook decides every pod"), version);
            // the README's first kustomize command, as a server-side dry run (the names are the Helm release's now)
            String[] kustomize = kubectl(cluster, "apply", "--dry-run=server", "-k", "webhook-config/overlays/cert-manager");
            assertEquals("0", kustomize[0], kustomize[1]);
            assertTrue(kustomize[1].contains("mutatingwebhookconfiguration.admissionregistration.k8s.io/zeebe-ambient-enforcer"), kustomize[1]);
            // and the 1.36+ component is refused here, with the message the troubleshooting section quotes
            Path overlay = Files.createDirectories(Paths.get("target", "oldest-kubernetes"));
            Files.writeString(overlay.resolve("kustomization.yaml"), """
                    apiVersion: kustomize.config.k8s.io/v1beta1
                    kind: Kustomization
                    resources: [../../webhook-config/overlays/cert-manager]
                    components: [../../webhook-config/components/enroll-policy]
                    """);
            String[] policy = kubectl(cluster, "apply", "--dry-run=server", "-k", overlay.toString());
            assertTrue(!policy[0].equals("0") && policy[1].contains("no matches for kind \"MutatingAdmissionPolicy\" in version "
                    + "\"admissionregistration.k8s.io/v1\""), policy[1]);
            try {
                admin.genericKubernetesResources("admissionregistration.k8s.io/v1", "MutatingAdmissionPolicy").list();
                throw new AssertionError("a 1.30 API server serving MutatingAdmissionPolicy v1");
            } catch (KubernetesClientException expected) {
                // not served: what enrollPolicy auto reads from discovery
            }
        }
    }

    /** Exit code and combined output of kubectl against {@code cluster}. */
    static String[] kubectl(KubeTestCluster cluster, String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of(cluster.kubectl().toString(), "--kubeconfig", cluster.kubeconfig().toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "kubectl " + String.join(" ", args));
        return new String[] {Integer.toString(p.exitValue()), out};
    }
}
