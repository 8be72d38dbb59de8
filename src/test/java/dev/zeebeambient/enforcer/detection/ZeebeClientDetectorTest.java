package dev.zeebeambient.enforcer.detection;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ZeebeClientDetectorTest {

    static final Target GW = Target.parse("camunda/camunda-zeebe-gateway-grpc:26500");
    static final String ADDR = "camunda-zeebe-gateway-grpc.camunda:26500";

    final ZeebeClientDetector detector = new ZeebeClientDetector(new AddressMatcher(List.of(GW), "cluster.local"),
            false);
    final ZeebeClientDetector withSecrets = new ZeebeClientDetector(new AddressMatcher(List.of(GW), "cluster.local"),
            true);

    static PodSpec spec(Container... containers) {
        return new PodSpecBuilder().withContainers(containers).build();
    }

    static Container env(String name, String value) {
        return new ContainerBuilder().withName("app").withImage("img").addNewEnv().withName(name).withValue(value).endEnv().build();
    }

    /** Every variable and property name of domain-facts §3, in the spellings users write. */
    @ParameterizedTest
    @ValueSource(strings = {"ZEEBE_ADDRESS", "ZEEBE_GRPC_ADDRESS", "CAMUNDA_GRPC_ADDRESS", "ZEEBE_GATEWAY_ADDRESS",
            "ZEEBE_CLIENT_BROKER_GATEWAY-ADDRESS", "ZEEBE_CLIENT_BROKER_GATEWAYADDRESS", "ZEEBE_CLIENT_BROKER_GRPCADDRESS",
            "ZEEBE_CLIENT_BROKER_CONTACTPOINT", "CAMUNDA_CLIENT_ZEEBE_GRPCADDRESS", "CAMUNDA_CLIENT_ZEEBE_GATEWAYURL",
            "CAMUNDA_CLIENT_GRPCADDRESS", "CAMUNDA_CLIENT_GRPC-ADDRESS", "zeebe.client.broker.gateway-address",
            "camunda.client.zeebe.grpc-address", "camunda.client.grpc-address", "zeebe.client.gateway.address",
            "quarkus.zeebe.client.broker.gateway-address", "camunda.operate.zeebe.gatewayAddress",
            "camunda.operate.zeebe.brokerContactPoint", "CAMUNDA_OPERATE_ZEEBE_GATEWAY_ADDRESS",
            "CAMUNDA_TASKLIST_ZEEBE_GATEWAYADDRESS", "camunda.tasklist.zeebe.brokerContactPoint",
            "CAMUNDA_MODELER_CLUSTERS_0_URL_GRPC", "CAMUNDA_MODELER_CLUSTERS_1_URL_ZEEBE_GRPC"})
    void everyKnownNameIsAKnownAddressVariable(String name) {
        assertTrue(EnvNames.isAddressName(name), name);
        Evidence e = detector.detect(spec(env(name, ADDR)), "apps", ResolvedSources.NONE).orElseThrow();
        assertEquals(GW, e.target());
        assertEquals("env " + name, e.source());
        assertEquals("container app: env " + name + " -> " + GW, e.describe());
    }

    @ParameterizedTest
    @ValueSource(strings = {"PATH", "ZEEBE_REST_ADDRESS", "ZEEBE_ADDRESSES", "MY_ZEEBE_ADDRESS", "CAMUNDA_MODELER_CLUSTERS_X_URL_GRPC"})
    void otherNamesAreNotAddressNames(String name) {
        assertTrue(!EnvNames.isAddressName(name), name);
    }

    @Test
    void anyVariableWhoseValueIsATargetAddressCounts() {
        Evidence e = detector.detect(spec(env("GATEWAY", "grpc://" + ADDR)), "apps", ResolvedSources.NONE).orElseThrow();
        assertEquals("env GATEWAY (value)", e.source());
    }

    @ParameterizedTest
    @ValueSource(strings = {"camunda-zeebe-gateway-grpc.camunda:26501", "other-gateway.camunda:26500",
            "http://camunda-zeebe-gateway-grpc.camunda:26500/v2", "camunda-zeebe-gateway-grpc-old.camunda:26500"})
    void knownNameWithAnotherAddressIsNotAClient(String value) {
        assertTrue(detector.detect(spec(env("ZEEBE_ADDRESS", value)), "apps", ResolvedSources.NONE).isEmpty(), value);
    }

    @Test
    void hostAndPortPair() {
        Container c = new ContainerBuilder().withName("go").addNewEnv().withName("ZEEBE_HOST")
                .withValue("camunda-zeebe-gateway-grpc.camunda.svc.cluster.local").endEnv()
                .addNewEnv().withName("ZEEBE_PORT").withValue("26500").endEnv().build();
        Evidence e = detector.detect(spec(c), "apps", ResolvedSources.NONE).orElseThrow();
        assertEquals("env ZEEBE_HOST + env ZEEBE_PORT", e.source());
        c.getEnv().get(1).setValue("26501");
        assertTrue(detector.detect(spec(c), "apps", ResolvedSources.NONE).isEmpty(), "other port");
        c.getEnv().get(1).setValue("not-a-port");
        assertTrue(detector.detect(spec(c), "apps", ResolvedSources.NONE).isEmpty(), "bad port");
        c.getEnv().remove(1);
        assertEquals("env ZEEBE_HOST", detector.detect(spec(c), "apps", ResolvedSources.NONE).orElseThrow().source(),
                "host alone: clients default to 26500");
    }

    @Test
    void kubernetesVariableExpansion() {
        // the short name alone is no address for a pod in "apps"; only the expanded value is
        Container c = new ContainerBuilder().withName("app")
                .addNewEnv().withName("GW_NAME").withValue("camunda-zeebe-gateway-grpc").endEnv()
                .addNewEnv().withName("ZEEBE_ADDRESS").withValue("$(GW_NAME).camunda:26500").endEnv().build();
        assertEquals("env ZEEBE_ADDRESS", detector.detect(spec(c), "apps", ResolvedSources.NONE).orElseThrow().source());
        // $$ escapes; an undefined reference stays literal
        c.getEnv().get(1).setValue("$$(GW_NAME).camunda:26500");
        assertTrue(detector.detect(spec(c), "apps", ResolvedSources.NONE).isEmpty());
        c.getEnv().get(1).setValue("$(UNDEFINED).camunda:26500");
        assertTrue(detector.detect(spec(c), "apps", ResolvedSources.NONE).isEmpty());
    }

    @Test
    void expansionInArgs() {
        Container c = new ContainerBuilder().withName("app")
                .addNewEnv().withName("GW_NAME").withValue("camunda-zeebe-gateway-grpc").endEnv()
                .withArgs("--zeebe.client.broker.gateway-address=$(GW_NAME).camunda:26500").build();
        Evidence e = detector.detect(spec(c), "apps", ResolvedSources.NONE).orElseThrow();
        assertEquals("args --zeebe.client.broker.gateway-address=camunda-zeebe-gateway-grpc.camunda:26500", e.source());
        c.setArgs(List.of("--zeebe.client.broker.gateway-address=$(OTHER).camunda:26500"));
        assertTrue(detector.detect(spec(c), "apps", ResolvedSources.NONE).isEmpty());
    }

    @ParameterizedTest
    @ValueSource(strings = {"SPRING_APPLICATION_JSON", "JAVA_TOOL_OPTIONS", "JAVA_OPTS", "JDK_JAVA_OPTIONS"})
    void freeTextVariables(String name) {
        String value = name.equals("SPRING_APPLICATION_JSON")
                ? "{\"camunda.client.grpc-address\":\"http://" + ADDR + "\"}"
                : "-Xmx1g -Dzeebe.client.broker.gateway-address=" + ADDR;
        Evidence e = detector.detect(spec(env(name, value)), "apps", ResolvedSources.NONE).orElseThrow();
        assertTrue(e.source().startsWith("env " + name + " contains "), e.source());
    }

    /** Issue 13: any value that mentions a target is free text, whatever the variable is called. */
    @ParameterizedTest
    @ValueSource(strings = {"JAVA_OPTIONS", "CATALINA_OPTS", "MY_APP_SETTINGS", "NOTES"})
    void anyVariableMentioningATargetIsScannedAsFreeText(String name) {
        Evidence e = detector.detect(spec(env(name, "-Xmx1g -Dcamunda.client.zeebe.grpc-address=http://" + ADDR + " -Dx=y")),
                "apps", ResolvedSources.NONE).orElseThrow();
        assertEquals("env " + name + " contains -Dcamunda.client.zeebe.grpc-address=http://" + ADDR, e.source());
        assertTrue(detector.detect(spec(env(name, "-Dgateway=camunda-zeebe-gateway-grpc.camunda:9600")), "apps",
                ResolvedSources.NONE).isEmpty(), "another port is not the target");
    }

    /** Shell lines in command/args: host and port as separate words; zbctl's --host without a port means 26500. */
    @Test
    void shellLinesWithHostAndPortAsSeparateWords() {
        Container nc = new ContainerBuilder().withName("wait").withCommand("sh", "-c")
                .withArgs("until nc -vz camunda-zeebe-gateway-grpc.camunda 26500; do sleep 2; done").build();
        assertEquals("args camunda-zeebe-gateway-grpc.camunda 26500", detector.detect(spec(nc), "apps", ResolvedSources.NONE)
                .orElseThrow().source());
        Container other = new ContainerBuilder().withName("wait").withCommand("sh", "-c")
                .withArgs("nc -vz camunda-zeebe-gateway-grpc.camunda 9600").build();
        assertTrue(detector.detect(spec(other), "apps", ResolvedSources.NONE).isEmpty(), "the monitoring port is not gRPC");
        Container zbctl = new ContainerBuilder().withName("cli").withCommand("zbctl", "--host", "camunda-zeebe-gateway-grpc.camunda",
                "status").build();
        assertTrue(detector.detect(spec(zbctl), "apps", ResolvedSources.NONE).isPresent());
    }

    /** $(VAR) where VAR comes from the pod's own fields, known at admission. */
    @Test
    void fieldRefVariablesAreExpanded() {
        Container c = new ContainerBuilder().withName("app")
                .addNewEnv().withName("POD_NAMESPACE").withNewValueFrom().withNewFieldRef().withFieldPath("metadata.namespace")
                .endFieldRef().endValueFrom().endEnv()
                .addNewEnv().withName("ZEEBE_ADDRESS").withValue("camunda-zeebe-gateway-grpc.$(POD_NAMESPACE):26500").endEnv().build();
        assertTrue(detector.detect(spec(c), "camunda", ResolvedSources.NONE).isPresent(), "in the target's namespace");
        assertTrue(detector.detect(spec(c), "apps", ResolvedSources.NONE).isEmpty(), "expands to another namespace");
        Container byLabel = new ContainerBuilder().withName("app")
                .addNewEnv().withName("RELEASE").withNewValueFrom().withNewFieldRef().withFieldPath("metadata.labels['release']")
                .endFieldRef().endValueFrom().endEnv()
                .addNewEnv().withName("ZEEBE_ADDRESS").withValue("$(RELEASE)-zeebe-gateway-grpc.camunda:26500").endEnv().build();
        var meta = new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().addToLabels("release", "camunda").build();
        assertEquals("env ZEEBE_ADDRESS", detector.detect(spec(byLabel), meta, "apps", ResolvedSources.NONE).orElseThrow().source());
        assertTrue(detector.detect(spec(byLabel), "apps", ResolvedSources.NONE).isEmpty(), "unknown label: not expanded");
    }

    @ParameterizedTest
    @ValueSource(strings = {"dns:camunda-zeebe-gateway-grpc.camunda:26500", "dns:///camunda-zeebe-gateway-grpc.camunda:26500",
            "dns://10.96.0.10/camunda-zeebe-gateway-grpc.camunda:26500", "passthrough:///camunda-zeebe-gateway-grpc.camunda:26500"})
    void grpcTargetUris(String value) {
        assertTrue(detector.detect(spec(env("ZEEBE_ADDRESS", value)), "apps", ResolvedSources.NONE).isPresent(), value);
        assertTrue(detector.detect(spec(env("ZEEBE_ADDRESS", value.replace("26500", "26501"))), "apps", ResolvedSources.NONE).isEmpty());
    }

    /** Config files in mounted ConfigMaps, in the formats real charts and apps use. */
    @ParameterizedTest
    @ValueSource(strings = {
            "camunda.operate:\n  zeebe:\n    gatewayAddress: camunda-zeebe-gateway-grpc.camunda:26500\n",
            "camunda:\n  client:\n    zeebe:\n      grpc-address: \"http://camunda-zeebe-gateway-grpc.camunda:26500\"\n",
            "zeebe.client.broker.gateway-address=camunda-zeebe-gateway-grpc.camunda:26500\nserver.port=8080\n",
            "zeebe {\n  gateway-address = \"camunda-zeebe-gateway-grpc.camunda:26500\"\n}\n",
            "{\"Zeebe\": {\"GatewayAddress\": \"camunda-zeebe-gateway-grpc.camunda:26500\"}}"})
    void configFileFormats(String content) {
        Container c = new ContainerBuilder().withName("app").addNewVolumeMount().withName("config").withMountPath("/c").endVolumeMount().build();
        PodSpec s = new PodSpecBuilder().withContainers(c).withVolumes(new VolumeBuilder().withName("config")
                .withNewConfigMap().withName("cfg").endConfigMap().build()).build();
        assertTrue(detector.detect(s, "apps", sources(SourceRef.configMap("cfg"), Map.of("config", content))).isPresent(), content);
    }

    /** A projected volume that combines a ServiceAccount token with a ConfigMap: only kube-root-ca.crt is skipped. */
    @Test
    void projectedTokenAndConfigMap() {
        Container c = new ContainerBuilder().withName("app").addNewVolumeMount().withName("p").withMountPath("/p").endVolumeMount().build();
        PodSpec s = new PodSpecBuilder().withContainers(c).withVolumes(new VolumeBuilder().withName("p").withNewProjected()
                .addNewSource().withNewServiceAccountToken().withPath("token").endServiceAccountToken().endSource()
                .addNewSource().withNewConfigMap().withName("kube-root-ca.crt").endConfigMap().endSource()
                .addNewSource().withNewConfigMap().withName("zeebe-config").endConfigMap().endSource().endProjected().build()).build();
        assertEquals(Set.of(SourceRef.configMap("zeebe-config")), detector.references(s));
        assertTrue(detector.detect(s, "apps", sources(SourceRef.configMap("zeebe-config"), Map.of("application.yaml",
                "zeebe:\n  address: " + ADDR))).isPresent());
    }

    @ParameterizedTest
    @ValueSource(strings = {"-Dzeebe.client.broker.gateway-address=" + ADDR, "--camunda.client.grpc-address=http://" + ADDR,
            "--address", ADDR})
    void argsForms(String arg) {
        Container c = new ContainerBuilder().withName("w").withCommand("java").withArgs("-jar", "app.jar", arg).build();
        if (arg.equals("--address")) {
            c.setArgs(List.of("--address", ADDR));
        }
        Evidence e = detector.detect(spec(c), "apps", ResolvedSources.NONE).orElseThrow();
        assertTrue(e.source().startsWith("args "), e.source());
    }

    @Test
    void shellCommandLine() {
        Container c = new ContainerBuilder().withName("sh").withCommand("sh", "-c",
                "exec zbctl --address " + ADDR + " --insecure status").build();
        assertTrue(detector.detect(spec(c), "apps", ResolvedSources.NONE).orElseThrow().source().startsWith("command "));
    }

    @Test
    void initContainersCount() {
        PodSpec s = new PodSpecBuilder().withInitContainers(env("ZEEBE_ADDRESS", ADDR))
                .withContainers(new ContainerBuilder().withName("main").build()).build();
        assertTrue(detector.detect(s, "apps", ResolvedSources.NONE).isPresent());
    }

    @Test
    void configMapKeyRef() {
        Container c = new ContainerBuilder().withName("app").addNewEnv().withName("ZEEBE_ADDRESS").withNewValueFrom()
                .withNewConfigMapKeyRef("addr", "zeebe-config", false).endValueFrom().endEnv().build();
        PodSpec s = spec(c);
        assertEquals(Set.of(SourceRef.configMap("zeebe-config")), detector.references(s));
        assertTrue(detector.detect(s, "apps", ResolvedSources.NONE).isEmpty(), "unresolved: no guess");
        var src = sources(SourceRef.configMap("zeebe-config"), Map.of("addr", ADDR));
        assertEquals("env ZEEBE_ADDRESS from configmap/zeebe-config key addr",
                detector.detect(s, "apps", src).orElseThrow().source());
        var other = sources(SourceRef.configMap("zeebe-config"), Map.of("other", ADDR));
        assertTrue(detector.detect(s, "apps", other).isEmpty(), "key missing");
    }

    @Test
    void envFromConfigMapWithPrefix() {
        Container c = new ContainerBuilder().withName("app").addNewEnvFrom().withPrefix("ZEEBE_")
                .withNewConfigMapRef("zeebe-env", false).endEnvFrom().build();
        PodSpec s = spec(c);
        assertEquals(Set.of(SourceRef.configMap("zeebe-env")), detector.references(s));
        var src = sources(SourceRef.configMap("zeebe-env"), Map.of("ADDRESS", ADDR));
        assertEquals("env ZEEBE_ADDRESS from envFrom configmap/zeebe-env", detector.detect(s, "apps", src).orElseThrow().source());
    }

    @Test
    void mountedConfigMapApplicationYaml() {
        String yaml = "camunda:\n  client:\n    mode: self-managed\n    zeebe:\n      grpc-address: \"http://" + ADDR + "\"\n";
        Container c = new ContainerBuilder().withName("operate").addNewVolumeMount().withName("config")
                .withMountPath("/usr/local/operate/config").endVolumeMount().build();
        PodSpec s = new PodSpecBuilder().withContainers(c).withVolumes(new VolumeBuilder().withName("config")
                .withNewConfigMap().withName("camunda-operate-configuration").endConfigMap().build()).build();
        assertEquals(Set.of(SourceRef.configMap("camunda-operate-configuration")), detector.references(s));
        var src = sources(SourceRef.configMap("camunda-operate-configuration"), Map.of("application.yaml", yaml));
        Evidence e = detector.detect(s, "apps", src).orElseThrow();
        assertTrue(e.source().startsWith("mounted configmap/camunda-operate-configuration key application.yaml contains"), e.source());
    }

    @Test
    void mountedConfigMapOnlySelectedItemsAndOnlyWhenMounted() {
        Container c = new ContainerBuilder().withName("app").addNewVolumeMount().withName("config").withMountPath("/c").endVolumeMount().build();
        PodSpec s = new PodSpecBuilder().withContainers(c).withVolumes(new VolumeBuilder().withName("config")
                .withNewConfigMap().withName("cm").addNewItem().withKey("other.yaml").withPath("o.yaml").endItem().endConfigMap().build(),
                new VolumeBuilder().withName("unmounted").withNewConfigMap().withName("cm2").endConfigMap().build()).build();
        var src = new ResolvedSources(Map.of(SourceRef.configMap("cm"), Map.of("application.yaml", "a: " + ADDR, "other.yaml", "x: y"),
                SourceRef.configMap("cm2"), Map.of("application.yaml", "a: " + ADDR)), Set.of());
        assertEquals(Set.of(SourceRef.configMap("cm")), detector.references(s));
        assertTrue(detector.detect(s, "apps", src).isEmpty());
    }

    @Test
    void projectedConfigMap() {
        Container c = new ContainerBuilder().withName("app").addNewVolumeMount().withName("p").withMountPath("/p").endVolumeMount().build();
        PodSpec s = new PodSpecBuilder().withContainers(c).withVolumes(new VolumeBuilder().withName("p").withNewProjected()
                .addNewSource().withNewConfigMap().withName("proj").endConfigMap().endSource().endProjected().build()).build();
        var src = sources(SourceRef.configMap("proj"), Map.of("application.properties", "zeebe.client.broker.gateway-address=" + ADDR));
        assertTrue(detector.detect(s, "apps", src).isPresent());
    }

    @Test
    void secretsAreNeverReferencedUnlessEnabled() {
        Container c = new ContainerBuilder().withName("app")
                .addNewEnv().withName("ZEEBE_ADDRESS").withNewValueFrom().withNewSecretKeyRef("addr", "s1", false).endValueFrom().endEnv()
                .addNewEnvFrom().withNewSecretRef("s2", false).endEnvFrom()
                .addNewVolumeMount().withName("sv").withMountPath("/s").endVolumeMount().build();
        PodSpec s = new PodSpecBuilder().withContainers(c).withVolumes(new VolumeBuilder().withName("sv")
                .withNewSecret().withSecretName("s3").endSecret().build()).build();
        assertTrue(detector.references(s).isEmpty());
        assertEquals(Set.of(SourceRef.secret("s1"), SourceRef.secret("s2"), SourceRef.secret("s3")), withSecrets.references(s));
        var src = sources(SourceRef.secret("s1"), Map.of("addr", ADDR));
        assertTrue(detector.detect(s, "apps", src).isEmpty());
        assertEquals("env ZEEBE_ADDRESS from secret/s1 key addr", withSecrets.detect(s, "apps", src).orElseThrow().source());
    }

    @Test
    void nonClientsAndEmptySpecs() {
        assertTrue(detector.detect(null, "apps", ResolvedSources.NONE).isEmpty());
        assertTrue(detector.detect(new PodSpec(), "apps", ResolvedSources.NONE).isEmpty());
        Container nginx = new ContainerBuilder().withName("web").withImage("nginx").withArgs("-g", "daemon off;")
                .withEnv(new EnvVar("PORT", "8080", null), new EnvVar("EMPTY", null, null), new EnvVar(null, "x", null)).build();
        assertTrue(detector.detect(spec(nginx), "apps", ResolvedSources.NONE).isEmpty());
    }

    private static ResolvedSources sources(SourceRef ref, Map<String, String> data) {
        return new ResolvedSources(Map.of(ref, data), Set.of());
    }
}
