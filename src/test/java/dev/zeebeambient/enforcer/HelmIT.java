package dev.zeebeambient.enforcer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zeebeambient.enforcer.install.InstallNames;
import dev.zeebeambient.enforcer.testsupport.Helm;
import dev.zeebeambient.enforcer.testsupport.Istiod;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import dev.zeebeambient.enforcer.testsupport.Replica;
import dev.zeebeambient.enforcer.testsupport.TestPki;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static dev.zeebeambient.enforcer.FailoverIT.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The chart installed, tested, upgraded and uninstalled by the real helm against the real API server, with the packaged
 * enforcer running as the ServiceAccount with exactly the chart's RBAC and policies (the release's objects, no others).
 * There is no kubelet or controller manager here: the test does their part, from what Helm created — a Deployment's pod
 * is a replica started with that Deployment's env; scaling it to 0 stops the replicas; the test hook's pod and the
 * pre-delete Job run the image's command as processes, and their status is reported as the kubelet and the Job
 * controller would.
 */
class HelmIT {

    static final String NS = KubeTestCluster.SA_NAMESPACE;
    static final String RELEASE = "zeebe-ambient-enforcer";
    static final String APPS = "helm-apps";
    static final String DR = "networking.istio.io/v1";
    static KubeTestCluster cluster;
    static KubernetesClient admin;
    static Istiod istiod;
    static final List<Replica> replicas = new ArrayList<>();
    static final List<String> measured = new ArrayList<>();

    @BeforeAll
    static void cluster() throws Exception {
        cluster = KubeTestCluster.get();
        admin = cluster.client();
        cluster.installCrds();
        cluster.waypointGatewayClass();
        for (String ns : List.of("camunda", "istio-system", NS)) {
            cluster.namespace(ns, Map.of());
        }
        cluster.chartGatewayService();
        cluster.removeEnforcerIdentity(); // Helm refuses objects it does not own
        TestPki pki = TestPki.get();
        admin.resource(new SecretBuilder().withNewMetadata().withName("enforcer-test-tls").withNamespace(NS).endMetadata()
                .withType("kubernetes.io/tls").addToStringData("tls.crt", Files.readString(pki.cert()))
                .addToStringData("tls.key", Files.readString(pki.key())).build()).forceConflicts().fieldManager("helm-it").serverSideApply();
        istiod = Istiod.start(cluster.kubeconfig());
    }

    @AfterAll
    static void stop() throws Exception {
        replicas.forEach(Replica::close);
        cluster.deregisterWebhook("helm-route");
        if (helm("status", RELEASE, "-n", NS).exit() == 0) {
            helm("uninstall", RELEASE, "-n", NS, "--no-hooks");
        }
        cluster.resetEnforcerIdentity(); // the base again, for whatever runs next
        if (istiod != null) {
            istiod.close();
        }
        measured.forEach(m -> System.out.println("HelmIT: " + m));
    }

    static Helm.Result helm(String... args) throws Exception {
        return helm(List.of(args));
    }

    static Helm.Result helm(List<String> args) throws Exception {
        return Helm.run(Map.of("KUBECONFIG", cluster.kubeconfig().toString()), args);
    }

    static HasMetadata live(ObjectNode o) {
        var kind = admin.genericKubernetesResources(o.path("apiVersion").asText(), o.path("kind").asText());
        String ns = o.path("metadata").path("namespace").asText("");
        String name = o.path("metadata").path("name").asText();
        return ns.isEmpty() ? kind.withName(name).get() : kind.inNamespace(ns).withName(name).get();
    }

    static HasMetadata enrollPolicy() {
        return admin.genericKubernetesResources("admissionregistration.k8s.io/v1", "MutatingAdmissionPolicy").withName(InstallNames.ENROLL_POLICY).get();
    }

    static List<String> installValues(String mode) {
        return List.of("--set", "enforcer.mode=" + mode, "--set", "tls.mode=secret", "--set", "tls.secretName=enforcer-test-tls",
                "--set", "tls.caBundle=" + TestPki.get().caBundle(), "--set", "cleanupOnUninstall=true",
                "--set", "image.repository=localhost/zeebe-ambient-enforcer");
    }

    /** What the kubelet would give the Deployment's container: its literal env (the TLS files are the Secret's, as mounted). */
    static Map<String, String> containerEnv(List<EnvVar> env) {
        Map<String, String> m = new HashMap<>();
        for (EnvVar e : env) {
            if (e.getValue() != null && !e.getName().startsWith("ENFORCER_TLS_")) {
                m.put(e.getName(), e.getValue());
            }
        }
        return m;
    }

    static Deployment deployment() {
        return admin.apps().deployments().inNamespace(NS).withName("zeebe-ambient-enforcer").get();
    }

    /** A pod of the Deployment, as it is now: a replica with its env, authenticating as the release's ServiceAccount. */
    static Replica pod(String name, int port) throws Exception {
        // envFrom first (the configuration the chart rendered the admission objects from), then the container's own env
        Map<String, String> env = new HashMap<>(admin.configMaps().inNamespace(NS).withName(InstallNames.CONFIG_MAP).get().getData());
        env.putAll(containerEnv(deployment().getSpec().getTemplate().getSpec().getContainers().get(0).getEnv()));
        Replica r = Replica.start(name, cluster.freshServiceAccountKubeconfig(), port, port + 1,
                Map.of("enforcer.leader-election.identity", name, "quarkus.shutdown.delay", "1s"), env);
        replicas.add(r);
        await(() -> r.ready() || !r.alive(), 60, name + " ready");
        assertTrue(r.alive(), name + " exited:\n" + r.log());
        await(r::leads, 30, name + " leads");
        return r;
    }

    static GenericOrNull dr(String name) {
        return new GenericOrNull(admin.genericKubernetesResources(DR, "DestinationRule").inNamespace("camunda").withName(name).get());
    }

    record GenericOrNull(HasMetadata o) {
    }

    static Pod client(String name, boolean literal) {
        EnvVar address = literal ? new io.fabric8.kubernetes.api.model.EnvVarBuilder().withName("ZEEBE_ADDRESS")
                .withValue("camunda-zeebe-gateway-grpc.camunda:26500").build()
                : new io.fabric8.kubernetes.api.model.EnvVarBuilder().withName("ZEEBE_ADDRESS").withNewValueFrom().withNewConfigMapKeyRef()
                        .withName("zeebe").withKey("address").endConfigMapKeyRef().endValueFrom().build();
        return admin.resource(new PodBuilder().withNewMetadata().withName(name).withNamespace(APPS).endMetadata().withNewSpec()
                .addNewContainer().withName("app").withImage("client:1").withEnv(address).endContainer().endSpec().build()).create();
    }

    static String label(String pod) {
        Pod p = admin.pods().inNamespace(APPS).withName(pod).get();
        return p.getMetadata().getLabels() == null ? null : p.getMetadata().getLabels().get("istio.io/dataplane-mode");
    }

    @Test
    void installTestUpgradeAndUninstall() throws Exception {
        // install, audit mode
        Helm.Result install = helm(concat(List.of("install", RELEASE, Helm.CHART.toString(), "-n", NS), installValues("audit")));
        assertEquals(0, install.exit(), install.output());
        assertTrue(install.output().contains("kubectl label namespace <namespace> zeebe-ambient-enforcer.io/enabled=true"), install.output());
        // every object of the release is there, as rendered
        List<ObjectNode> manifest = Helm.documents(helm("get", "manifest", RELEASE, "-n", NS).output());
        assertTrue(manifest.size() >= 15, "objects in the release: " + manifest.size());
        for (ObjectNode o : manifest) {
            var live = live(o);
            assertTrue(live != null, Helm.key(o) + " was not created");
        }
        assertNull(enrollPolicy(),
                "audit mode installs no enroll policy");
        String auditChecksum = deployment().getSpec().getTemplate().getMetadata().getAnnotations().get("checksum/config");

        // a pod of the Deployment, with the chart's ServiceAccount and RBAC; the API server calls it (through a route to 127.0.0.1)
        Replica audit = pod("helm-audit", 29443);
        await(() -> dr("camunda-zeebe-gateway-grpc").o() != null, 60, "bootstrap under the chart's RBAC");
        var hook = admin.admissionRegistration().v1().mutatingWebhookConfigurations().withName("zeebe-ambient-enforcer").get().getWebhooks().get(0);
        cluster.registerWebhook("helm-route", "https://127.0.0.1:29443/mutate", "Ignore", h -> {
            h.setNamespaceSelector(hook.getNamespaceSelector());
            h.setObjectSelector(hook.getObjectSelector());
            h.setMatchConditions(hook.getMatchConditions());
        });
        cluster.namespace(APPS, Map.of("zeebe-ambient-enforcer.io/enabled", "true"));
        admin.resource(new io.fabric8.kubernetes.api.model.ConfigMapBuilder().withNewMetadata().withName("zeebe").withNamespace(APPS)
                .endMetadata().addToData("address", "camunda-zeebe-gateway-grpc.camunda:26500").build()).create();
        client("audit-literal", true);
        client("audit-configmap", false);
        await(() -> audit.get("/q/metrics").getValue().contains("decision=\"would-enroll\""), 30, "the webhook answered in audit mode");
        assertNull(label("audit-literal"), "audit mode: nothing is labelled");
        assertNull(label("audit-configmap"), "audit mode: nothing is labelled");

        // helm test: the hook's pod runs the image's check (here: the jar's) against the replica
        CompletableFuture<Helm.Result> test = CompletableFuture.supplyAsync(() -> call(() -> helm("test", RELEASE, "-n", NS, "--timeout", "120s")));
        await(() -> admin.pods().inNamespace(NS).withName("zeebe-ambient-enforcer-check-webhook-and-bootstrap").get() != null, 60, "helm test creates its pod");
        Pod testPod = admin.pods().inNamespace(NS).withName("zeebe-ambient-enforcer-check-webhook-and-bootstrap").get();
        List<String> args = testPod.getSpec().getContainers().get(0).getArgs();
        assertEquals(List.of("http://zeebe-ambient-enforcer." + NS + ".svc:9000", "https://zeebe-ambient-enforcer." + NS + ".svc:443",
                "/etc/zeebe-ambient-enforcer/ca/ca.crt"), args);
        Path ca = Files.writeString(Files.createTempFile("helm-test-ca", ".crt"),
                new String(Base64.getDecoder().decode(TestPki.get().caBundle()), StandardCharsets.UTF_8));
        // the Service's names resolve to the replica here; the certificate is checked against the CA the API server trusts
        int exit = runCheck(List.of("http://127.0.0.1:29444", "https://localhost:29443", ca.toString()));
        reportPodPhase(testPod, exit == 0 ? "Succeeded" : "Failed");
        Helm.Result tested = test.get();
        assertEquals(0, exit, "the test hook's check failed");
        assertEquals(0, tested.exit(), tested.output());
        assertTrue(tested.output().contains("Phase:          Succeeded") || tested.output().contains("Succeeded"), tested.output());

        // upgrade to enforce: the configuration changed, so the pod template's checksum does (the pods roll)
        // ... and renames the waypoint and the waypoint defaults: the new revision retires the old names
        Helm.Result upgrade = helm(concat(concat(List.of("upgrade", RELEASE, Helm.CHART.toString(), "-n", NS), installValues("enforce")),
                List.of("--set", "enforcer.bootstrap.waypointName=waypoint-enforce",
                        "--set", "enforcer.bootstrap.waypointDefaults.name=zeebe-ambient-enforcer-defaults-enforce")));
        assertEquals(0, upgrade.exit(), upgrade.output());
        String enforceChecksum = deployment().getSpec().getTemplate().getMetadata().getAnnotations().get("checksum/config");
        assertNotEquals(auditChecksum, enforceChecksum, "the checksum rolls the pods");
        assertEquals("false", admin.configMaps().inNamespace(NS).withName(InstallNames.CONFIG_MAP).get().getData().get("ENFORCER_AUDIT"));
        assertEquals("ConfigMap istio-system/zeebe-ambient-enforcer-waypoint-defaults,Gateway camunda/waypoint",
                admin.configMaps().inNamespace(NS).withName(InstallNames.CONFIG_MAP).get().getData().get("ENFORCER_BOOTSTRAP_RETIRED"),
                "the upgrade names what the revision before wrote and this one does not");
        assertTrue(enrollPolicy() != null,
                "enforce mode installs the enroll policy");
        assertEquals(0 | 143, audit.terminate(30) | 143, "the old pod stops on SIGTERM");
        Replica enforce = pod("helm-enforce", 29453);
        cluster.registerWebhook("helm-route", "https://127.0.0.1:29453/mutate", "Ignore", h -> {
            h.setNamespaceSelector(hook.getNamespaceSelector());
            h.setObjectSelector(hook.getObjectSelector());
            h.setMatchConditions(hook.getMatchConditions());
        });
        // the new leader converges on the new names, then removes the old ones (the chart granted exactly that)
        await(() -> gateway("waypoint-enforce") != null && gateway("waypoint") == null
                && admin.configMaps().inNamespace("istio-system").withName("zeebe-ambient-enforcer-waypoint-defaults").get() == null
                && admin.configMaps().inNamespace("istio-system").withName("zeebe-ambient-enforcer-defaults-enforce").get() != null, 60,
                "the renamed waypoint and defaults replace the old ones (log:\n" + enforce.log() + ")");
        assertEquals("waypoint-enforce", admin.services().inNamespace("camunda").withName("camunda-zeebe-gateway-grpc").get().getMetadata()
                .getLabels().get("istio.io/use-waypoint"), "the gRPC Service points at the new waypoint");
        // behaviour changed: the backstop enrolls what audit mode only reported; new clients are enrolled at admission
        await(() -> "ambient".equals(label("audit-literal")) && "ambient".equals(label("audit-configmap")), 60,
                "the backstop enrolls the clients audit mode reported");
        client("enforce-configmap", false);
        await(() -> "ambient".equals(label("enforce-configmap")), 30, "the webhook enrolls a ConfigMap client at admission");
        client("enforce-literal", true);
        assertEquals("ambient", label("enforce-literal"), "the enroll policy enrolls a literal client inside the API server");
        assertEquals("policy", admin.pods().inNamespace(APPS).withName("enforce-literal").get().getMetadata().getAnnotations()
                .get("zeebe-ambient-enforcer.io/enrolled-by"));

        // uninstall with cleanup: the pre-delete Job scales the Deployment to 0 (the replica stops), waits for the Lease, deletes ours
        assertTrue(gateway("waypoint-enforce") != null);
        long t0 = System.nanoTime();
        CompletableFuture<Helm.Result> uninstall = CompletableFuture.supplyAsync(() -> call(() -> helm("uninstall", RELEASE, "-n", NS,
                "--timeout", "180s")));
        await(() -> admin.batch().v1().jobs().inNamespace(NS).withName("zeebe-ambient-enforcer-cleanup").get() != null, 60,
                "helm uninstall creates the cleanup Job");
        Job job = admin.batch().v1().jobs().inNamespace(NS).withName("zeebe-ambient-enforcer-cleanup").get();
        // the Job's container as the kubelet runs it: envFrom the release's ConfigMap, then its own env
        Map<String, String> jobEnv = new HashMap<>(admin.configMaps().inNamespace(NS).withName(InstallNames.CONFIG_MAP).get().getData());
        jobEnv.putAll(containerEnv(job.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv()));
        Replica cleanup = Replica.start("helm-cleanup", cluster.freshServiceAccountKubeconfig(), 29463, 29464, Map.of(), jobEnv);
        replicas.add(cleanup);
        // the ReplicaSet controller's part: a Deployment scaled to 0 loses its pods (SIGTERM)
        await(() -> deployment().getSpec().getReplicas() == 0 || !cleanup.alive(), 60, "cleanup scales the Deployment to 0");
        enforce.terminate(30);
        int cleanupExit = cleanup.awaitExit(90);
        assertEquals(0, cleanupExit, cleanup.log());
        reportJob(job, cleanupExit == 0);
        Helm.Result uninstalled = uninstall.get();
        assertEquals(0, uninstalled.exit(), uninstalled.output() + "\n" + cleanup.log());
        measured.add("helm uninstall with cleanup: " + Duration.ofNanos(System.nanoTime() - t0).toMillis() + " ms (Job run here)");

        // nothing of ours is left; what is not ours stays
        assertNull(dr("camunda-zeebe-gateway-grpc").o(), "DestinationRule");
        assertNull(admin.services().inNamespace("camunda").withName("camunda-zeebe-gateway-grpc").get(), "gRPC Service");
        assertNull(gateway("waypoint-enforce"), "waypoint");
        assertNull(admin.configMaps().inNamespace("istio-system").withName("zeebe-ambient-enforcer-defaults-enforce").get(), "defaults");
        assertTrue(admin.services().inNamespace("camunda").withName("camunda-zeebe-gateway").get() != null, "the chart's Service stays");
        for (ObjectNode o : manifest) {
            var live = live(o);
            assertTrue(live == null || live.getMetadata().getDeletionTimestamp() != null, Helm.key(o) + " survived helm uninstall");
        }
        cluster.deregisterWebhook("helm-route"); // the test's own route to the replica (a copy of the shipped webhook, labelled alike)
        await(() -> admin.admissionRegistration().v1().mutatingWebhookConfigurations().withName("helm-route").get() == null, 30, "route gone");
        assertEquals(List.of(), leftovers(), "every kind the chart or the enforcer ever writes, cluster-wide");
        assertFalse(cleanup.log().contains("403"), cleanup.log());
        for (Replica r : List.of(audit, enforce)) {
            assertFalse(FailoverIT.DENIED.matcher(r.log()).find(), r.name() + " was denied something by the chart's RBAC:\n" + r.log());
        }
    }

    static HasMetadata gateway(String name) {
        return admin.genericKubernetesResources("gateway.networking.k8s.io/v1", "Gateway").inNamespace("camunda").withName(name).get();
    }

    /**
     * What is left of the release after uninstall, cluster-wide: objects the chart renders (labelled part-of), the ones the
     * enforcer writes (labelled managed-by: waypoint, gRPC Service, DestinationRule, defaults, self-managed TLS Secret),
     * the Lease, the hooks' Jobs and pods. Enrolled pods keep their label by design and are not listed.
     */
    static List<String> leftovers() {
        List<String> left = new ArrayList<>();
        String partOf = "app.kubernetes.io/part-of";
        String managedBy = "app.kubernetes.io/managed-by";
        java.util.function.BiConsumer<String, List<? extends HasMetadata>> add = (kind, items) -> items.stream()
                .filter(o -> o.getMetadata().getDeletionTimestamp() == null)
                // istiod's Deployment, Service and ServiceAccount of a waypoint copy its labels and are owned by the Gateway:
                // the garbage collector removes them with it (no controller manager runs here)
                .filter(o -> o.getMetadata().getOwnerReferences() == null || o.getMetadata().getOwnerReferences().isEmpty())
                .forEach(o -> left.add(kind + " " + (o.getMetadata().getNamespace() == null ? "" : o.getMetadata().getNamespace() + "/")
                        + o.getMetadata().getName()));
        for (String label : List.of(partOf, managedBy)) {
            String value = "zeebe-ambient-enforcer";
            add.accept("ClusterRole", admin.rbac().clusterRoles().withLabel(label, value).list().getItems());
            add.accept("ClusterRoleBinding", admin.rbac().clusterRoleBindings().withLabel(label, value).list().getItems());
            add.accept("Role", admin.rbac().roles().inAnyNamespace().withLabel(label, value).list().getItems());
            add.accept("RoleBinding", admin.rbac().roleBindings().inAnyNamespace().withLabel(label, value).list().getItems());
            add.accept("ConfigMap", admin.configMaps().inAnyNamespace().withLabel(label, value).list().getItems());
            add.accept("Secret", admin.secrets().inAnyNamespace().withLabel(label, value).list().getItems());
            add.accept("Service", admin.services().inAnyNamespace().withLabel(label, value).list().getItems());
            add.accept("Deployment", admin.apps().deployments().inAnyNamespace().withLabel(label, value).list().getItems());
            add.accept("Job", admin.batch().v1().jobs().inAnyNamespace().withLabel(label, value).list().getItems());
            add.accept("Pod", admin.pods().inAnyNamespace().withLabel(label, value).list().getItems());
            add.accept("ServiceAccount", admin.serviceAccounts().inAnyNamespace().withLabel(label, value).list().getItems());
            add.accept("MutatingWebhookConfiguration", admin.admissionRegistration().v1().mutatingWebhookConfigurations().withLabel(label, value)
                    .list().getItems());
            add.accept("ValidatingAdmissionPolicy", admin.admissionRegistration().v1().validatingAdmissionPolicies().withLabel(label, value)
                    .list().getItems());
            add.accept("ValidatingAdmissionPolicyBinding", admin.admissionRegistration().v1().validatingAdmissionPolicyBindings()
                    .withLabel(label, value).list().getItems());
            for (String[] k : List.of(new String[] {"admissionregistration.k8s.io/v1", "MutatingAdmissionPolicy"},
                    new String[] {"admissionregistration.k8s.io/v1", "MutatingAdmissionPolicyBinding"},
                    new String[] {"gateway.networking.k8s.io/v1", "Gateway"}, new String[] {DR, "DestinationRule"},
                    new String[] {"networking.k8s.io/v1", "NetworkPolicy"}, new String[] {"policy/v1", "PodDisruptionBudget"})) {
                add.accept(k[1], admin.genericKubernetesResources(k[0], k[1]).inAnyNamespace().withLabel(label, value).list().getItems());
            }
        }
        // the Lease carries no label: by name
        if (admin.leases().inNamespace(NS).withName("zeebe-ambient-enforcer-leader").get() != null) {
            left.add("Lease " + NS + "/zeebe-ambient-enforcer-leader");
        }
        // the hooks' objects, whatever their labels
        admin.pods().inNamespace(NS).list().getItems().stream().filter(p -> p.getMetadata().getName().startsWith(RELEASE))
                .forEach(p -> left.add("Pod " + NS + "/" + p.getMetadata().getName()));
        admin.batch().v1().jobs().inNamespace(NS).list().getItems().forEach(j -> left.add("Job " + NS + "/" + j.getMetadata().getName()));
        return left.stream().distinct().sorted().toList();
    }

    /** The kubelet's part for the test hook's pod: its phase once the container exited. */
    static void reportPodPhase(Pod pod, String phase) {
        admin.pods().inNamespace(NS).withName(pod.getMetadata().getName()).editStatus(p -> {
            p.setStatus(new io.fabric8.kubernetes.api.model.PodStatusBuilder().withPhase(phase).build());
            return p;
        });
    }

    /** The Job controller's part: Complete (or Failed) once its pod exited. */
    static void reportJob(Job job, boolean succeeded) {
        String now = Instant.now().toString();
        admin.batch().v1().jobs().inNamespace(NS).withName(job.getMetadata().getName()).editStatus(j -> {
            var s = new io.fabric8.kubernetes.api.model.batch.v1.JobStatusBuilder().withStartTime(now)
                    .withSucceeded(succeeded ? 1 : 0).withFailed(succeeded ? 0 : 1);
            if (succeeded) {
                s.withCompletionTime(now).addNewCondition().withType("SuccessCriteriaMet").withStatus("True").withLastTransitionTime(now)
                        .endCondition().addNewCondition().withType("Complete").withStatus("True").withLastTransitionTime(now).endCondition();
            } else {
                s.addNewCondition().withType("FailureTarget").withStatus("True").withLastTransitionTime(now).endCondition()
                        .addNewCondition().withType("Failed").withStatus("True").withLastTransitionTime(now).endCondition();
            }
            j.setStatus(s.build());
            return j;
        });
    }

    /** The test hook's container command, run from the packaged jar (the image's /deployments/quarkus-run.jar). */
    static int runCheck(List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Replica.javaHome().resolve("bin/java").toString(), "-jar", Replica.JAR.toString(), "check"));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        measured.add("helm test check:\n" + out.strip());
        return p.exitValue();
    }

    interface Call<T> {
        T call() throws Exception;
    }

    static <T> T call(Call<T> c) {
        try {
            return c.call();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static List<String> concat(List<String> a, List<String> b) {
        List<String> l = new ArrayList<>(a);
        l.addAll(b);
        return l;
    }
}
