package dev.zeebeambient.enforcer.decision;

import dev.zeebeambient.enforcer.detection.ResolvedSources;
import dev.zeebeambient.enforcer.detection.SourceRef;
import dev.zeebeambient.enforcer.detection.Target;
import dev.zeebeambient.enforcer.testsupport.Eventually;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import dev.zeebeambient.enforcer.testsupport.Pods;
import dev.zeebeambient.enforcer.testsupport.TestConfig;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code matchConditions} of webhook-config/base/mutatingwebhook.yaml never keep the API server
 * from calling the enforcer for a pod it would enroll. Evaluated by the real kube-apiserver (its
 * own CEL, not an imitation): the shipped webhook is registered with failurePolicy Fail pointing at
 * a port nothing listens on, so a dry-run create fails with the connection error exactly when the
 * API server calls it, and succeeds when the condition skips the call.
 *
 * <p>The corpus: every README decision-table case, the fixtures and the ConfigMap pod of
 * {@link TrimmedPodDecisionTest}, the decider tests' positive pods (explicit opt-in by label and by
 * annotation, gateway pods with enroll-gateway-pods) and one pod per detection source of
 * ZeebeClientDetectorTest / AdmissionThroughApiServerTest (env, host+port, fieldRef, args, command,
 * init container, configMapKeyRef, envFrom, mounted, projected, Secrets). Each is decided by the
 * real {@link EnrollmentDecider} with the ConfigMap data it reads.
 */
class MatchConditionTest {

    static final String CONFIG = "zeebe-ambient-enforcer-matchcondition-probe";
    static final String HOOK = "matchcondition-probe.zeebe-ambient-enforcer.io";
    static final String NEVER = "https://localhost:1/never-answered";
    static final String APPS = "matchcondition-apps";
    static final String TARGET_NS = "camunda";
    static final Map<String, String> OPTED_IN = Map.of("zeebe-ambient-enforcer.io/enabled", "true");
    static final String ADDR = "camunda-zeebe-gateway-grpc.camunda:26500";
    static final Target GW = Target.parse("camunda/camunda-zeebe-gateway-grpc:26500");

    static KubeTestCluster cluster;
    static KubernetesClient k8s;

    /** A pod, the namespace it is decided (and created) in, and whether the full decision enrolls it. */
    record Entry(String what, String namespace, Pod pod, boolean enrolled) {
    }

    @BeforeAll
    static void register() throws Exception {
        cluster = KubeTestCluster.get();
        var config = cluster.config();
        config.setRequestRetryBackoffLimit(0); // the failing call is a 500, which the client would retry with backoff
        k8s = new io.fabric8.kubernetes.client.KubernetesClientBuilder().withConfig(config).build();
        cluster.namespace(APPS, OPTED_IN);
        cluster.namespace(TARGET_NS, OPTED_IN); // gateway pods are only called when their namespace opted in
        cluster.registerWebhook(CONFIG, NEVER, "Fail", hook -> {
            hook.setName(HOOK);
            hook.setTimeoutSeconds(1); // the API server retries a refused connection until the timeout
        });
        Eventually.await(() -> called(Pods.pod("probe", true).build(), APPS), 60, "the API server calls the probe webhook");
    }

    @AfterAll
    static void deregister() {
        cluster.deregisterWebhook(CONFIG);
        cluster.namespace(TARGET_NS, Map.of());
    }

    /** Whether the API server called the webhook for a dry-run create (only the call fails: failurePolicy Fail). */
    static boolean called(Pod pod, String ns) {
        try {
            k8s.pods().inNamespace(ns).resource(pod).dryRun().create();
            return false;
        } catch (KubernetesClientException e) {
            String m = String.valueOf(e.getMessage());
            if (m.contains("failed calling webhook \"" + HOOK + "\"") && m.contains(NEVER)) {
                return true; // a CEL error would also fail the request, but without a call to the URL
            }
            throw new AssertionError("unexpected answer for " + pod.getMetadata().getName() + ": " + m, e);
        }
    }

    static Entry entry(String what, String ns, Pod pod, Rules rules, Map<Target, Map<String, String>> selectors,
            ResolvedSources sources) {
        Decision d = new EnrollmentDecider(rules).decide(new PodContext(pod, ns, OPTED_IN, selectors, sources,
                List.of(DecisionTableTest.CHART_SERVICE)));
        return new Entry(what + " (" + d.reason().tag() + ")", ns, pod, d.enroll());
    }

    static Entry client(String what, Pod pod, ResolvedSources sources, Rules rules) {
        Entry e = entry(what, "apps", pod, rules, Map.of(), sources);
        assertTrue(e.enrolled(), "the corpus case is a client: " + e.what());
        return e;
    }

    static Pod pod(String name, Container... containers) {
        return new PodBuilder().withNewMetadata().withName(name).endMetadata().withNewSpec().withContainers(containers)
                .endSpec().build();
    }

    static ContainerBuilder c() {
        return new ContainerBuilder().withName("app").withImage("app:1");
    }

    static ResolvedSources sources(SourceRef ref, Map<String, String> data) {
        return new ResolvedSources(Map.of(ref, data), Set.of());
    }

    /** The volume the API server's ServiceAccount admission gives every pod (kube-api-access-*). */
    static PodBuilder withServiceAccountVolume(PodBuilder b) {
        return b.editSpec().withServiceAccountName("default").addNewVolume().withName("kube-api-access-x7k2p").withNewProjected().withDefaultMode(420)
                .addNewSource().withNewServiceAccountToken().withPath("token").withExpirationSeconds(3607L).endServiceAccountToken()
                .endSource()
                .addNewSource().withNewConfigMap().withName("kube-root-ca.crt").addNewItem().withKey("ca.crt").withPath("ca.crt")
                .endItem().endConfigMap().endSource()
                .addNewSource().withNewDownwardAPI().addNewItem().withPath("namespace").withNewFieldRef().withFieldPath("metadata.namespace")
                .endFieldRef().endItem().endDownwardAPI().endSource()
                .endProjected().endVolume()
                .editFirstContainer().addNewVolumeMount().withName("kube-api-access-x7k2p")
                .withMountPath("/var/run/secrets/kubernetes.io/serviceaccount").withReadOnly(true).endVolumeMount().endContainer()
                .endSpec();
    }

    static List<Entry> corpus() throws Exception {
        Rules rules = TestConfig.rules();
        Rules withSecrets = Rules.from(TestConfig.with(Map.of("enforcer.detection.read-secrets", "true")));
        Rules gatewayPods = Rules.from(TestConfig.with(Map.of("enforcer.bootstrap.enroll-gateway-pods", "true")));
        List<Entry> out = new ArrayList<>();
        int i = 0;
        for (DecisionTableTest.Case c : TrimmedPodDecisionTest.cases()) {
            for (ResolvedSources s : List.of(ResolvedSources.NONE, TrimmedPodDecisionTest.SOURCES)) {
                Decision d = new EnrollmentDecider(c.rules()).decide(new PodContext(c.pod(), c.namespace(), c.nsLabels(),
                        c.selectors(), s, c.bypass()));
                out.add(new Entry("table/fixture case " + i + " " + c.pod().getMetadata().getName() + " (" + d.reason().tag() + ")",
                        c.namespace(), c.pod(), d.enroll()));
            }
            i++;
        }
        // EnrollmentDeciderTest
        out.add(entry("explicit opt-in label", "apps", EnrollmentDeciderTest.nonClient().editMetadata()
                .addToLabels("zeebe-ambient-enforcer.io/enroll", "true").endMetadata().build(), rules, Map.of(), ResolvedSources.NONE));
        out.add(entry("explicit opt-in annotation", "apps", EnrollmentDeciderTest.nonClient().editMetadata()
                .addToAnnotations("zeebe-ambient-enforcer.io/enroll", "True ").endMetadata().build(), rules, Map.of(), ResolvedSources.NONE));
        Pod gateway = EnrollmentDeciderTest.nonClient().editMetadata().addToLabels("app", "zeebe-gw").endMetadata().build();
        out.add(entry("gateway pod by selector, enroll-gateway-pods", TARGET_NS, gateway, gatewayPods,
                Map.of(GW, Map.of("app", "zeebe-gw")), ResolvedSources.NONE));
        out.add(entry("gateway pod by component label, enroll-gateway-pods", TARGET_NS, EnrollmentDeciderTest.nonClient()
                .editMetadata().addToLabels("app.kubernetes.io/component", "zeebe-broker").endMetadata().build(), gatewayPods,
                Map.of(), ResolvedSources.NONE));
        out.add(client("client with sidecar.istio.io/inject=false", EnrollmentDeciderTest.client().editMetadata()
                .addToLabels("sidecar.istio.io/inject", "false").endMetadata().build(), ResolvedSources.NONE, rules));
        // one pod per detection source (ZeebeClientDetectorTest, AdmissionThroughApiServerTest)
        out.add(client("env", pod("env", c().addNewEnv().withName("CAMUNDA_CLIENT_ZEEBE_GRPCADDRESS").withValue(ADDR).endEnv().build()),
                ResolvedSources.NONE, rules));
        out.add(client("host + port", pod("hostport", c().addNewEnv().withName("ZEEBE_HOST")
                .withValue("camunda-zeebe-gateway-grpc.camunda.svc.cluster.local").endEnv()
                .addNewEnv().withName("ZEEBE_PORT").withValue("26500").endEnv().build()), ResolvedSources.NONE, rules));
        out.add(client("fieldRef label expansion", new PodBuilder(pod("fieldref", c()
                .addNewEnv().withName("RELEASE").withNewValueFrom().withNewFieldRef().withFieldPath("metadata.labels['release']")
                .endFieldRef().endValueFrom().endEnv()
                .addNewEnv().withName("ZEEBE_ADDRESS").withValue("$(RELEASE)-zeebe-gateway-grpc.camunda:26500").endEnv().build()))
                .editMetadata().addToLabels("release", "camunda").endMetadata().build(), ResolvedSources.NONE, rules));
        Pod fieldRefNs = pod("fieldref-ns", c().addNewEnv().withName("POD_NAMESPACE").withNewValueFrom().withNewFieldRef()
                .withFieldPath("metadata.namespace").endFieldRef().endValueFrom().endEnv()
                .addNewEnv().withName("ZEEBE_ADDRESS").withValue("camunda-zeebe-gateway-grpc.$(POD_NAMESPACE):26500").endEnv().build());
        Entry inTarget = entry("fieldRef namespace expansion", TARGET_NS, fieldRefNs, rules, Map.of(), ResolvedSources.NONE);
        assertTrue(inTarget.enrolled(), inTarget.what());
        out.add(inTarget);
        out.add(client("args with $(VAR)", pod("args", c().addNewEnv().withName("GW_NAME").withValue("camunda-zeebe-gateway-grpc").endEnv()
                .withArgs("--zeebe.client.broker.gateway-address=$(GW_NAME).camunda:26500").build()), ResolvedSources.NONE, rules));
        out.add(client("args only", pod("argsonly", c().withArgs("-jar", "app.jar", "--address", ADDR).build()), ResolvedSources.NONE, rules));
        out.add(client("command only", pod("command", c().withCommand("sh", "-c", "exec zbctl --address " + ADDR + " status").build()),
                ResolvedSources.NONE, rules));
        out.add(client("zbctl --host", pod("zbctl", c().withCommand("zbctl", "--host", "camunda-zeebe-gateway-grpc.camunda", "status")
                .build()), ResolvedSources.NONE, rules));
        out.add(client("init container only", new PodBuilder().withNewMetadata().withName("init").endMetadata().withNewSpec()
                .addNewInitContainer().withName("wait").withImage("busybox").withCommand("sh", "-c",
                        "until nc -vz camunda-zeebe-gateway-grpc.camunda 26500; do sleep 2; done").endInitContainer()
                .addToContainers(c().build()).endSpec().build(), ResolvedSources.NONE, rules));
        out.add(client("init container env", new PodBuilder().withNewMetadata().withName("init-env").endMetadata().withNewSpec()
                .addNewInitContainer().withName("init").withImage("busybox").addNewEnv().withName("ZEEBE_ADDRESS").withValue(ADDR)
                .endEnv().endInitContainer().addToContainers(c().build()).endSpec().build(), ResolvedSources.NONE, rules));
        out.add(client("configMapKeyRef", pod("keyref", c().addNewEnv().withName("CAMUNDA_GRPC_ADDRESS").withNewValueFrom()
                .withNewConfigMapKeyRef("address", "zeebe-address", false).endValueFrom().endEnv().build()),
                sources(SourceRef.configMap("zeebe-address"), Map.of("address", "grpc://" + ADDR)), rules));
        out.add(client("envFrom ConfigMap with prefix", pod("envfrom", c().addNewEnvFrom().withPrefix("ZEEBE_")
                .withNewConfigMapRef("zeebe-env", false).endEnvFrom().build()),
                sources(SourceRef.configMap("zeebe-env"), Map.of("ADDRESS", ADDR)), rules));
        String yaml = "camunda:\n  operate:\n    zeebe:\n      gatewayAddress: \"" + ADDR + "\"\n";
        out.add(client("mounted ConfigMap (application.yaml)", new PodBuilder(pod("mounted", c().addNewVolumeMount().withName("config")
                .withMountPath("/usr/local/operate/config/application.yaml").withSubPath("application.yaml").endVolumeMount().build()))
                .editSpec().addToVolumes(new VolumeBuilder().withName("config").withNewConfigMap()
                        .withName("camunda-operate-configuration").endConfigMap().build()).endSpec().build(),
                sources(SourceRef.configMap("camunda-operate-configuration"), Map.of("application.yaml", yaml)), rules));
        Pod projected = withServiceAccountVolume(new PodBuilder(pod("projected", c().addNewVolumeMount().withName("p")
                .withMountPath("/p").endVolumeMount().build()))).editSpec().addToVolumes(new VolumeBuilder().withName("p")
                .withNewProjected().addNewSource().withNewServiceAccountToken().withPath("token").endServiceAccountToken().endSource()
                .addNewSource().withNewConfigMap().withName("kube-root-ca.crt").endConfigMap().endSource()
                .addNewSource().withNewConfigMap().withName("zeebe-config").endConfigMap().endSource().endProjected().build())
                .endSpec().build();
        out.add(client("projected token + kube-root-ca.crt + ConfigMap", projected,
                sources(SourceRef.configMap("zeebe-config"), Map.of("application.yaml", "zeebe:\n  address: " + ADDR)), rules));
        out.add(client("secretKeyRef (read-secrets)", pod("secretkeyref", c().addNewEnv().withName("ZEEBE_ADDRESS").withNewValueFrom()
                .withNewSecretKeyRef("addr", "s1", false).endValueFrom().endEnv().build()),
                sources(SourceRef.secret("s1"), Map.of("addr", ADDR)), withSecrets));
        out.add(client("envFrom Secret (read-secrets)", pod("secretenvfrom", c().addNewEnvFrom().withNewSecretRef("s2", false)
                .endEnvFrom().build()), sources(SourceRef.secret("s2"), Map.of("ZEEBE_ADDRESS", ADDR)), withSecrets));
        out.add(client("mounted Secret (read-secrets)", new PodBuilder(pod("secretvolume", c().addNewVolumeMount().withName("sv")
                .withMountPath("/s").endVolumeMount().build())).editSpec().addToVolumes(new VolumeBuilder().withName("sv")
                .withNewSecret().withSecretName("s3").endSecret().build()).endSpec().build(),
                sources(SourceRef.secret("s3"), Map.of("application.properties", "zeebe.client.broker.gateway-address=" + ADDR)),
                withSecrets));
        out.add(client("projected Secret (read-secrets)", new PodBuilder(pod("secretprojected", c().addNewVolumeMount().withName("sp")
                .withMountPath("/s").endVolumeMount().build())).editSpec().addToVolumes(new VolumeBuilder().withName("sp")
                .withNewProjected().addNewSource().withNewSecret().withName("s4").endSecret().endSource().endProjected().build())
                .endSpec().build(), sources(SourceRef.secret("s4"), Map.of("a.yaml", "address: " + ADDR)), withSecrets));
        return out;
    }

    /** Pods the condition is meant to skip: nothing the detection reads, no opt-in, not in a target's namespace. */
    static List<Entry> skipped() {
        Rules rules = TestConfig.rules();
        List<Entry> out = new ArrayList<>();
        out.add(entry("bare nginx", "apps", EnrollmentDeciderTest.nonClient().build(), rules, Map.of(), ResolvedSources.NONE));
        out.add(entry("nginx with the ServiceAccount volume", "apps", withServiceAccountVolume(new PodBuilder(pod("sa-volume",
                c().withImage("nginx").addNewPort().withContainerPort(80).endPort().build()))).build(), rules, Map.of(),
                ResolvedSources.NONE));
        out.add(entry("emptyDir, hostPath and downwardAPI volumes, labels, annotations", "apps", new PodBuilder(pod("scratch", c()
                .addNewVolumeMount().withName("tmp").withMountPath("/tmp").endVolumeMount().build())).editMetadata()
                .addToLabels("app", "cache").addToAnnotations("prometheus.io/scrape", "true").endMetadata().editSpec()
                .addNewVolume().withName("tmp").withNewEmptyDir().endEmptyDir().endVolume()
                .addNewVolume().withName("host").withNewHostPath().withPath("/var/log").endHostPath().endVolume()
                .addNewVolume().withName("info").withNewDownwardAPI().addNewItem().withPath("labels").withNewFieldRef()
                .withFieldPath("metadata.labels").endFieldRef().endItem().endDownwardAPI().endVolume().endSpec().build(),
                rules, Map.of(), ResolvedSources.NONE));
        out.add(entry("hostNetwork agent without env", "apps", new PodBuilder(pod("agent", c().build())).editSpec()
                .withHostNetwork(true).endSpec().build(), rules, Map.of(), ResolvedSources.NONE));
        out.forEach(e -> assertFalse(e.enrolled(), e.what()));
        return out;
    }

    static String createdIn(Entry e) {
        return TARGET_NS.equals(e.namespace()) ? TARGET_NS : APPS;
    }

    /** A copy that passes validation after admission (names and images), so a dry run either calls or succeeds. */
    static Pod valid(Pod p, int i) {
        Pod copy = k8s.getKubernetesSerialization().clone(p);
        copy.setStatus(null);
        copy.getMetadata().setNamespace(null);
        copy.getMetadata().setManagedFields(null);
        copy.getMetadata().setOwnerReferences(null);
        copy.getMetadata().setUid(null);
        copy.getMetadata().setResourceVersion(null);
        copy.getMetadata().setCreationTimestamp(null);
        copy.getMetadata().setGenerateName(null);
        copy.getMetadata().setName("mc-" + i);
        if (copy.getSpec() != null) {
            copy.getSpec().setNodeName(null);
            for (var list : List.of(copy.getSpec().getContainers(), copy.getSpec().getInitContainers())) {
                if (list != null) {
                    list.forEach(c -> c.setImage(c.getImage() == null ? "app:1" : c.getImage()));
                }
            }
        }
        return copy;
    }

    @Test
    void everyPodTheEnforcerWouldEnrollIsSentToIt() throws Exception {
        List<Entry> corpus = corpus();
        int positives = 0;
        List<String> skippedByCondition = new ArrayList<>();
        for (int i = 0; i < corpus.size(); i++) {
            Entry e = corpus.get(i);
            boolean sent = called(valid(e.pod(), i), createdIn(e));
            if (e.enrolled()) {
                positives++;
                assertTrue(sent, "the matchCondition skips a pod the enforcer enrolls: " + e.what());
            } else if (!sent) {
                skippedByCondition.add(e.what());
            }
        }
        assertTrue(positives >= 25, "positive cases: " + positives);
        // the condition does skip something in the corpus: README row 15's plain nginx and the nginx fixture
        assertTrue(skippedByCondition.stream().anyMatch(w -> w.contains("not-a-client")), skippedByCondition.toString());
    }

    static final java.nio.file.Path SHIPPED = java.nio.file.Path.of("webhook-config/base/mutatingwebhook.yaml");

    /**
     * The shipped webhook is the chart's (InstallFilesTest keeps webhook-config/base equal to it), and another configuration
     * renders another expression (its namespaces, its enroll key).
     */
    @Test
    void theShippedConditionIsTheChartsForTheConfiguration() throws Exception {
        var hook = k8s.getKubernetesSerialization().unmarshal(java.nio.file.Files.readString(SHIPPED),
                io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration.class).getWebhooks().get(0);
        assertEquals(condition(), hook.getMatchConditions().get(0).getExpression().replaceAll("\\s+", " "));
        String other = condition("--set", "enforcer.targets={zeebe-prod/gw-grpc:26600}", "--set", "enforcer.podEnrollKey=platform.example.com/zeebe",
                "--set", "enforcer.knownGatewayServices={legacy/zeebe:26500}");
        assertTrue(other.startsWith("(has(object.metadata.annotations) && 'zeebe-ambient-enforcer.io/enrolled-by' in object.metadata.annotations"
                + " && object.metadata.annotations['zeebe-ambient-enforcer.io/enrolled-by'] == 'admission') || request.namespace == 'zeebe-prod' ||"), other);
        assertTrue(other.contains("x.lowerAscii().contains('legacy') || x.lowerAscii().contains('zeebe-prod')"), other);
        assertTrue(other.contains("'platform.example.com/zeebe' in object.metadata.labels"), other);
        assertFalse(other.contains("'camunda'"), other);
    }

    static String condition(String... args) throws Exception {
        return dev.zeebeambient.enforcer.testsupport.Chart.objects(args).stream()
                .filter(o -> o.path("kind").asText().equals("MutatingWebhookConfiguration")).findFirst().orElseThrow()
                .path("webhooks").path(0).path("matchConditions").path(0).path("expression").asText().replaceAll("\\s+", " ");
    }

    /**
     * Every pod of the corpus (src/test/resources/corpus) that the webhook enrolls or warns about, by its golden verdict,
     * is sent to it: the conditions never cost a user an enrollment or a warning. Prints how many the conditions skip.
     */
    @Test
    void everyCorpusPodTheWebhookEnrollsOrWarnsAboutIsSent() {
        var golden = dev.zeebeambient.enforcer.testsupport.Corpus.verdicts();
        List<String> notSent = new ArrayList<>();
        int needed = 0;
        int skipped = 0;
        int i = 1000;
        for (Map.Entry<String, Pod> c : dev.zeebeambient.enforcer.testsupport.Corpus.pods().entrySet()) {
            var v = golden.get(c.getKey());
            boolean matters = "ENROLL".equals(v.get("kind").asText()) || !v.get("warnings").isEmpty();
            Pod pod = c.getValue();
            boolean labelled = pod.getMetadata().getLabels() != null && pod.getMetadata().getLabels().containsKey("istio.io/dataplane-mode");
            if (labelled) {
                continue; // the objectSelector's, not the conditions' (the webhook would answer "already ambient")
            }
            boolean sent = called(valid(pod, i++), APPS);
            needed += matters ? 1 : 0;
            skipped += sent ? 0 : 1;
            if (matters && !sent) {
                notSent.add(c.getKey());
            }
        }
        System.out.printf("matchConditions over the corpus: %d pods the webhook enrolls or warns about, all sent; %d skipped%n", needed,
                skipped);
        assertEquals(List.of(), notSent, "the matchConditions skip pods the webhook enrolls or warns about");
        assertTrue(needed > 500, "pods that matter: " + needed);
    }

    @Test
    void podsWithNothingToDetectAreNotSent() {
        List<Entry> skipped = skipped();
        for (int i = 0; i < skipped.size(); i++) {
            assertFalse(called(valid(skipped.get(i).pod(), 100 + i), APPS), skipped.get(i).what());
        }
        // ... but the same pods are sent in a target's namespace, and with an enroll key or one env var
        assertTrue(called(valid(skipped.get(0).pod(), 200), TARGET_NS));
        assertTrue(called(new PodBuilder(valid(skipped.get(1).pod(), 201)).editMetadata()
                .addToLabels("zeebe-ambient-enforcer.io/enroll", "false").endMetadata().build(), APPS));
        // ... and one the webhook enrolled: the second call after a later webhook took its address away
        assertTrue(called(new PodBuilder(valid(skipped.get(1).pod(), 203)).editMetadata()
                .addToAnnotations("zeebe-ambient-enforcer.io/enrolled-by", "admission").endMetadata().build(), APPS), "enrolled by the webhook");
        assertFalse(called(new PodBuilder(valid(skipped.get(1).pod(), 204)).editMetadata()
                .addToAnnotations("zeebe-ambient-enforcer.io/enrolled-by", "policy").endMetadata().build(), APPS), "enrolled by the policy");
        // a literal env value is sent when it names a target's namespace, has a $(VAR), or comes from elsewhere
        for (String value : List.of("camunda-zeebe-gateway-grpc.camunda:26500", "http://GW.CAMUNDA:1", "$(HOST):26500", "x\u212ay")) {
            assertTrue(called(new PodBuilder(valid(skipped.get(2).pod(), 202)).editSpec().editFirstContainer()
                    .addNewEnv().withName("ADDR").withValue(value).endEnv().endContainer().endSpec().build(), APPS), value);
        }
        assertTrue(called(new PodBuilder(valid(skipped.get(2).pod(), 203)).editSpec().editFirstContainer().addNewEnv().withName("ADDR")
                .withNewValueFrom().withNewFieldRef().withFieldPath("metadata.namespace").endFieldRef().endValueFrom().endEnv()
                .endContainer().endSpec().build(), APPS), "valueFrom");
        assertTrue(called(new PodBuilder(valid(skipped.get(2).pod(), 204)).editSpec().editFirstContainer()
                .withArgs("--gateway", "zeebe.CAMUNDA.svc").endContainer().endSpec().build(), APPS), "args");
        // ... and not when it names nothing the enforcer looks for (most pods: a web app's settings)
        assertFalse(called(new PodBuilder(valid(skipped.get(2).pod(), 205)).editSpec().editFirstContainer()
                .addNewEnv().withName("PORT").withValue("8080").endEnv().addNewEnv().withName("DATABASE_URL")
                .withValue("postgres://db.shop:5432/orders").endEnv().withCommand("java", "-jar", "app.jar").withArgs("--port=8080")
                .endContainer().endSpec().build(), APPS), "a web app");
    }

    /**
     * A sidecar-injected namespace that opted in: its pods are sent, so a client that opts out of the
     * sidecar is enrolled at admission (before its connection opens), not late by the backstop.
     */
    @Test
    void injectionNamespacesAreSentSoTheirSidecarOptOutClientsAreEnrolledAtAdmission() {
        String ns = "matchcondition-injected";
        Map<String, String> labels = new java.util.HashMap<>(OPTED_IN);
        labels.put("istio-injection", "enabled");
        cluster.namespace(ns, labels);
        Pod optedOut = EnrollmentDeciderTest.client().editMetadata().addToLabels("sidecar.istio.io/inject", "false").endMetadata().build();
        Decision d = new EnrollmentDecider(TestConfig.rules()).decide(new PodContext(optedOut, ns, labels, Map.of(), ResolvedSources.NONE,
                List.of()));
        assertTrue(d.enroll(), d.detail());
        assertTrue(called(valid(optedOut, 400), ns), "an inject=false client in an istio-injection=enabled namespace is sent");
        Pod injected = EnrollmentDeciderTest.client().build();
        assertFalse(new EnrollmentDecider(TestConfig.rules()).decide(new PodContext(injected, ns, labels, Map.of(),
                ResolvedSources.NONE, List.of())).enroll(), "the injected one is skipped by the enforcer, not by the selector");
        assertTrue(called(valid(injected, 401), ns));
    }

    @Test
    void aSkippedPodIsAdmittedUnchanged() {
        Pod pod = valid(skipped().get(1).pod(), 300);
        pod.getMetadata().setLabels(Map.of("app", "web"));
        // a real create: with failurePolicy Fail it could only succeed because the webhook was not called
        Pod stored = k8s.pods().inNamespace(APPS).resource(pod).create();
        try {
            assertEquals(Map.of("app", "web"), stored.getMetadata().getLabels());
            assertTrue(stored.getMetadata().getAnnotations() == null || stored.getMetadata().getAnnotations().isEmpty(),
                    String.valueOf(stored.getMetadata().getAnnotations()));
        } finally {
            k8s.resource(stored).delete();
        }
    }
}
