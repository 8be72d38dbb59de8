package dev.zeebeambient.enforcer.config;

import dev.zeebeambient.enforcer.detection.Target;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithConverter;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Every setting of the enforcer; README "Configuration" documents each one with its default. */
@ConfigMapping(prefix = "enforcer")
public interface EnforcerConfig {

    /** Gateway Services whose clients are enrolled, as {@code namespace/service:port}. */
    @WithDefault("camunda/camunda-zeebe-gateway-grpc:26500")
    List<@WithConverter(TargetConverter.class) Target> targets();

    /** The Helm chart's gateway Service for a target: configured, else the target's name without {@code -grpc}. */
    default String chartServiceName(Target t) {
        return bootstrap().chartGatewayService()
                .orElse(t.name().endsWith("-grpc") ? t.name().substring(0, t.name().length() - 5) : t.name());
    }

    /**
     * The Services whose clients are enrolled: the targets, and with {@code bootstrap.bind-chart-service}
     * also each target's chart Service (then bound to the waypoint too).
     */
    default List<Target> clientTargets() {
        if (!bootstrap().bindChartService()) {
            return targets();
        }
        List<Target> all = new java.util.ArrayList<>(targets());
        for (Target t : targets()) {
            Target chart = new Target(t.namespace(), chartServiceName(t), t.port());
            if (!all.contains(chart)) {
                all.add(chart);
            }
        }
        return List.copyOf(all);
    }

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

    /**
     * Report-only: nothing is changed; the webhook answers allowed with a warning saying what it
     * would have done, the backstop only counts and lists in /status.
     */
    @WithDefault("false")
    boolean audit();

    /** A /mutate request must be complete (body received and answered) within this time, else 408. */
    @WithDefault("10s")
    Duration requestDeadline();

    Detection detection();

    Backstop backstop();

    SelfManagedTls selfManagedTls();

    /**
     * Optional: the enforcer keeps its own CA and serving certificate in a Secret, injects the CA
     * into its webhook configuration, renews before expiry and re-injects if the caBundle is reset.
     * Figures from Kyverno: CA 365 d, certificate 150 d, renew 15 d before.
     */
    interface SelfManagedTls {
        @WithDefault("false")
        boolean enabled();

        @WithDefault("zeebe-ambient-enforcer-tls")
        String secretName();

        @WithDefault("zeebe-ambient-enforcer")
        String webhookConfiguration();

        /** The Service the API server calls: its DNS names go into the certificate. */
        @WithDefault("zeebe-ambient-enforcer")
        String serviceName();

        /** Extra DNS names / IP addresses for the certificate (local runs and tests: localhost, 127.0.0.1). */
        Optional<List<String>> extraDnsNames();

        Optional<List<String>> extraIps();

        @WithDefault("365d")
        Duration caValidity();

        @WithDefault("150d")
        Duration certValidity();

        @WithDefault("15d")
        Duration renewBefore();

        /** How often the Secret and the caBundle are read (writes only when something must change). */
        @WithDefault("1m")
        Duration checkPeriod();
    }

    /** Enrolls client pods the webhook missed (admitted while it was down, or before opt-in). */
    interface Backstop {
        @WithDefault("true")
        boolean enabled();

        /** Pod patches per second at most (the leader only). */
        @WithDefault("10")
        double patchesPerSecond();

        /** Attempts per pod before giving up until its next change or the next resync. */
        @WithDefault("5")
        int maxAttempts();

        /** Full re-check of all pods (catches ConfigMaps that changed after the pod). */
        @WithDefault("10m")
        Duration resyncPeriod();

        /**
         * After enrolling a running pod, restart its Deployment/StatefulSet (rollout restart) so that
         * connections opened before the label go through the waypoint. Needs components/restart-workloads.
         */
        @WithDefault("false")
        boolean restartWorkloads();

        /** At most one workload restart per this interval (and each workload at most once per 10 intervals). */
        @WithDefault("1m")
        Duration restartInterval();
    }

    Bootstrap bootstrap();

    /** The startup bootstrapper: waypoint, gateway gRPC Service, DestinationRule, waypoint defaults. */
    interface Bootstrap {
        /** Converge the L7 setup at start-up and continuously. */
        @WithDefault("true")
        boolean enabled();

        /** {@code run} (converge continuously) or {@code cleanup} (delete what this enforcer manages, then exit). */
        @WithDefault("run")
        Mode mode();

        default boolean cleanup() {
            return mode() == Mode.CLEANUP;
        }

        /** Any other value fails start-up (a typo must not silently mean "run"). */
        enum Mode {
            RUN, CLEANUP
        }

        /**
         * Cleanup mode only: first scale this Deployment (in the own namespace) to 0 and wait until no replica holds the
         * leader Lease, so that no running leader re-creates what cleanup deletes (Helm's pre-delete hook runs while the
         * Deployment still does). Empty: the caller scaled it down (webhook-config/cleanup/job.yaml says so).
         */
        Optional<String> cleanupScaleDown();

        /**
         * Cleanup mode: objects of the install in the own namespace that no installer removes ({@code Pod name},
         * {@code ConfigMap name}): the helm test hook's pod and CA ConfigMap, which Helm keeps after a failed (the
         * ConfigMap) or any (the pod) test run and does not delete on uninstall.
         */
        Optional<List<String>> cleanupDelete();

        /** Cleanup mode with {@code cleanup-scale-down}: how long to wait for the leader Lease to be released or to expire. */
        @WithDefault("60s")
        Duration cleanupScaleDownTimeout();

        /**
         * Objects an earlier configuration had the bootstrapper write and this one does not ({@code Kind namespace/name},
         * Kind one of Gateway, Service, DestinationRule, ConfigMap): deleted (only if ours) once the new ones are in place,
         * and by cleanup. The chart computes it on upgrade and grants the permissions on exactly these names.
         */
        Optional<List<String>> retired();

        /** Server-side apply field manager; also the {@code app.kubernetes.io/managed-by} value. */
        @WithDefault("zeebe-ambient-enforcer")
        String fieldManager();

        /** Take fields back from another manager on conflict (off: conflicts are reported, nothing forced). */
        @WithDefault("false")
        boolean forceConflicts();

        /** Periodic pass that repairs drift (deleted objects, removed fields). */
        @WithDefault("30s")
        Duration resyncPeriod();

        /** Name of the waypoint Gateway created in each target's namespace. */
        @WithDefault("waypoint")
        String waypointName();

        /** Istio's system namespace, where the waypoint defaults ConfigMap lives. */
        @WithDefault("istio-system")
        String istioNamespace();

        /** Selector of the gateway pods for the gRPC Service; empty: copied from the chart's Service. */
        Map<String, String> gatewaySelector();

        /**
         * The Helm chart's gateway Service whose selector is copied when {@code gateway-selector} is
         * empty; empty: the target's name without its {@code -grpc} suffix ({@code camunda-zeebe-gateway}).
         */
        Optional<String> chartGatewayService();

        /**
         * Enroll the Zeebe gateway pods themselves in ambient (mTLS on the last hop); off: the waypoint
         * balances them without it (README explains the trade-off).
         */
        @WithDefault("false")
        boolean enrollGatewayPods();

        /**
         * Also put the chart's existing gateway Service ({@code chart-gateway-service}) behind the
         * waypoint: only {@code istio.io/use-waypoint} and, where its gRPC port is not recognisable as
         * gRPC/HTTP2, {@code appProtocol: kubernetes.io/h2c} are applied (never Helm's fields), plus a
         * DestinationRule for its host; its clients are then enrolled like a target's.
         */
        @WithDefault("false")
        boolean bindChartService();

        WaypointDefaults waypointDefaults();
    }

    /**
     * Which replica writes (bootstrapper, backstop, self-managed TLS). Formerly under
     * {@code enforcer.bootstrap.leader-election.*}: those keys still work, with a warning
     * ({@code DeprecatedKeys}).
     */
    LeaderElection leaderElection();

    interface WaypointDefaults {
        /** Write the {@code gateway.istio.io/defaults-for-class: istio-waypoint} ConfigMap. */
        @WithDefault("true")
        boolean enabled();

        @WithDefault("zeebe-ambient-enforcer-waypoint-defaults")
        String name();

        @WithDefault("100m")
        String cpuRequest();

        @WithDefault("128Mi")
        String memoryRequest();

        /** CPU limit of istio-proxy; empty: none. */
        Optional<String> cpuLimit();

        @WithDefault("2Gi")
        String memoryLimit();

        /** nodeSelector of the waypoint pods; empty by default (README shows a GKE node-pool example). */
        Map<String, String> nodeSelector();
    }

    interface LeaderElection {
        /** Off: every replica writes (only for a single replica). */
        @WithDefault("true")
        boolean enabled();

        @WithDefault("zeebe-ambient-enforcer-leader")
        String leaseName();

        /** Identity in the Lease; defaults to the pod name (HOSTNAME) plus a random suffix. */
        Optional<String> identity();

        @WithDefault("15s")
        Duration leaseDuration();

        @WithDefault("10s")
        Duration renewDeadline();

        @WithDefault("2s")
        Duration retryPeriod();
    }

    interface Detection {
        /**
         * Gateway Services that are not targets, as {@code namespace/service:port}, whose clients are
         * reported as bypassing the waypoint — in addition to those derived from the cluster (Services
         * in a target's namespace that select the Zeebe gateway/broker pods, on their gRPC port).
         */
        Optional<List<@WithConverter(TargetConverter.class) Target>> knownGatewayServices();

        /**
         * Ignored since every env value that mentions a target is scanned as free text; kept so
         * existing configurations still start.
         */
        @Deprecated
        Optional<Set<String>> freeTextEnv();

        /** Read Secrets referenced by the pod (env, envFrom, volumes). Off: Secrets are never read. */
        @WithDefault("false")
        boolean readSecrets();

        /** Budget for resolving all ConfigMaps/Secrets of one admission request. */
        @WithDefault("750ms")
        Duration lookupTimeout();

        /** How long a resolved ConfigMap/Secret is reused. */
        @WithDefault("30s")
        Duration cacheTtl();

        /**
         * Upper bound of the ConfigMap/Secret cache, in bytes of kept data (keys and values): 500
         * distinct 1 MiB ConfigMaps must not fill the heap. Least recently used data goes first.
         */
        @WithDefault("16777216")
        long cacheMaxBytes();
    }
}
