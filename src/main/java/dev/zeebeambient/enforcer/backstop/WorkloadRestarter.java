package dev.zeebeambient.enforcer.backstop;

import dev.zeebeambient.enforcer.config.EnforcerConfig;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Opt-in ({@code enforcer.backstop.restart-workloads}): after the backstop enrolled a running pod,
 * restart the Deployment or StatefulSet that owns it (what {@code kubectl rollout restart} does:
 * a {@code restartedAt} annotation on the pod template), so gRPC channels opened before the label
 * are re-opened through the waypoint. Never bare pods, Jobs or DaemonSets; rate-limited by
 * {@link RestartPolicy}.
 */
final class WorkloadRestarter {

    private static final Logger LOG = Logger.getLogger(WorkloadRestarter.class);
    static final String RESTARTED_AT = "kubectl.kubernetes.io/restartedAt";

    /** apps/v1 Deployment or StatefulSet. */
    record Workload(String kind, String namespace, String name) {
        @Override
        public String toString() {
            return kind + " " + namespace + "/" + name;
        }
    }

    private final KubernetesClient client;
    private final RestartPolicy policy;
    private final ScheduledExecutorService executor;
    private final Map<String, Instant> restarted = new ConcurrentHashMap<>();
    private final Clock clock = Clock.systemUTC();
    private volatile Instant lastRestart;

    WorkloadRestarter(KubernetesClient client, EnforcerConfig.Backstop config, ScheduledExecutorService executor) {
        this.client = client;
        this.policy = new RestartPolicy(config.restartInterval(), config.restartInterval().multipliedBy(10));
        this.executor = executor;
    }

    /** The pod's Deployment (through its ReplicaSet) or StatefulSet; empty for anything else. */
    Optional<Workload> owner(Pod pod) {
        OwnerReference o = controller(pod.getMetadata().getOwnerReferences());
        String ns = pod.getMetadata().getNamespace();
        if (o == null) {
            return Optional.empty();
        }
        if (o.getKind().equals("StatefulSet") && o.getApiVersion().startsWith("apps/")) {
            return Optional.of(new Workload("StatefulSet", ns, o.getName()));
        }
        if (o.getKind().equals("ReplicaSet") && o.getApiVersion().startsWith("apps/")) {
            ReplicaSet rs = client.apps().replicaSets().inNamespace(ns).withName(o.getName()).get();
            OwnerReference d = rs == null ? null : controller(rs.getMetadata().getOwnerReferences());
            if (d != null && d.getKind().equals("Deployment")) {
                return Optional.of(new Workload("Deployment", ns, d.getName()));
            }
        }
        return Optional.empty();
    }

    private static OwnerReference controller(java.util.List<OwnerReference> refs) {
        return refs == null ? null : refs.stream().filter(r -> Boolean.TRUE.equals(r.getController())).findFirst().orElse(null);
    }

    /** Restarts (now or after the policy's delay) the workload owning {@code pod}; returns what it will restart. */
    Optional<Workload> restartOwnerOf(Pod pod) {
        Optional<Workload> w;
        try {
            w = owner(pod);
        } catch (KubernetesClientException e) {
            LOG.warnf("backstop: cannot find the workload of pod %s/%s to restart it (HTTP %d: %s)",
                    pod.getMetadata().getNamespace(), pod.getMetadata().getName(), e.getCode(), e.getMessage());
            return Optional.empty();
        }
        w.ifPresent(this::schedule);
        return w;
    }

    private synchronized void schedule(Workload w) {
        Instant now = clock.instant();
        Duration delay = policy.decide(now, w.toString(), restarted, lastRestart);
        if (delay == null) {
            return; // restarted in this wave already
        }
        Instant at = now.plus(delay);
        restarted.put(w.toString(), at);
        lastRestart = at;
        executor.schedule(() -> restart(w, at), delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void restart(Workload w, Instant at) {
        String patch = "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"" + RESTARTED_AT + "\":\"" + at + "\"}}}}}";
        try {
            if (w.kind().equals("Deployment")) {
                client.apps().deployments().inNamespace(w.namespace()).withName(w.name())
                        .patch(PatchContext.of(PatchType.STRATEGIC_MERGE), patch);
            } else {
                client.apps().statefulSets().inNamespace(w.namespace()).withName(w.name())
                        .patch(PatchContext.of(PatchType.STRATEGIC_MERGE), patch);
            }
            LOG.infof("backstop: restarted %s so that the connections of its pods go through the waypoint", w);
        } catch (KubernetesClientException e) {
            LOG.warnf("backstop: could not restart %s (HTTP %d: %s); restart it yourself: kubectl -n %s rollout restart %s/%s",
                    w, e.getCode(), e.getMessage(), w.namespace(), w.kind().toLowerCase(java.util.Locale.ROOT), w.name());
        }
    }
}
