package dev.zeebeambient.enforcer.config;

import dev.zeebeambient.enforcer.detection.Target;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithConverter;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.List;
import java.util.Set;

/** Every setting of the enforcer; README "Configuration" documents each one with its default. */
@ConfigMapping(prefix = "enforcer")
public interface EnforcerConfig {

    /** Gateway Services whose clients are enrolled, as {@code namespace/service:port}. */
    @WithDefault("camunda/camunda-zeebe-gateway-grpc:26500")
    List<@WithConverter(TargetConverter.class) Target> targets();

    /** Cluster DNS domain used in {@code <svc>.<ns>.svc.<domain>} addresses. */
    @WithDefault("cluster.local")
    String clusterDomain();

    /** Namespace label (key=value) that opts a namespace in. */
    @WithDefault("zeebe-ambient-enforcer.io/enabled=true")
    String namespaceOptInLabel();

    /** Namespaces never touched, whatever their labels. The enforcer's own namespace is added. */
    @WithDefault("kube-system,kube-public,kube-node-lease,istio-system")
    Set<String> excludedNamespaces();

    /** The namespace the enforcer runs in (excluded too). */
    @WithDefault("zeebe-ambient-enforcer")
    String ownNamespace();

    /**
     * Pod label or annotation: {@code false} opts a pod out, {@code true} enrolls it even when no
     * gateway address is visible in its spec.
     */
    @WithDefault("zeebe-ambient-enforcer.io/enroll")
    String podEnrollKey();

    /** Annotation that records why a pod was enrolled. */
    @WithDefault("zeebe-ambient-enforcer.io/enrolled-because")
    String reasonAnnotation();

    /**
     * Values of {@code app.kubernetes.io/component} that mark Zeebe server pods (gateway, broker,
     * orchestration) in a target's namespace: never clients, even before the Service selector is known.
     */
    @WithDefault("zeebe-gateway,zeebe-broker,orchestration")
    Set<String> serverComponents();

    Detection detection();

    interface Detection {
        /** Env vars whose values are free text (JSON, JVM options) scanned for addresses. */
        @WithDefault("SPRING_APPLICATION_JSON,JAVA_TOOL_OPTIONS,JAVA_OPTS,JDK_JAVA_OPTIONS")
        Set<String> freeTextEnv();

        /** Read Secrets referenced by the pod (env, envFrom, volumes). Off: Secrets are never read. */
        @WithDefault("false")
        boolean readSecrets();

        /** Budget for resolving all ConfigMaps/Secrets of one admission request. */
        @WithDefault("750ms")
        Duration lookupTimeout();

        /** How long a resolved ConfigMap/Secret is reused. */
        @WithDefault("30s")
        Duration cacheTtl();
    }
}
