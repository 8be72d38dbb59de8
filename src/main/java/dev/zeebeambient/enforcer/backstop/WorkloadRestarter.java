package dev.zeebeambient.enforcer.backstop;

import dev.zeebeambient.enforcer.kube.PodProjection;
import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.decision.Decision;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;

/**
 * Opt-in ({@code enforcer.backstop.restart-workloads}): after the backstop enrolled a running pod,
 * restart the Deployment or StatefulSet that owns it (what {@code kubectl rollout restart} does:
 * a {@code restartedAt} annotation on the pod template), so gRPC channels opened before the label
 * are re-opened through the waypoint. Never bare pods, Jobs or DaemonSets; rate-limited by
 * {@link RestartPolicy}; never when a restart cannot help ({@link RestartPolicy#pointless}: the pod
 * never ran, came from the last restart, or its replacements would be missed at admission too),
 * and only while this replica leads.
 */
final class WorkloadRestarter {

    private static final Logger LOG = Logger.getLogger(WorkloadRestarter.class);
    static final String RESTARTED_AT = "kubectl.kubernetes.io/restartedAt";
    /**
     * The field manager of our restarts: the workload's managedFields then tell a restart of ours
     * (after which pods that come unlabelled must not cause another) from one by {@code kubectl}.
     */
    static final String FIELD_MANAGER = "zeebe-ambient-enforcer-restart";

    /** apps/v1 Deployment or StatefulSet. */
    record Workload(String kind, String namespace, String name) {
        @Override
        public String toString() {
            return kind + " " + namespace + "/" + name;
        }
    }

    /** What happens to the workload of an enrolled pod: restarted, or why not ({@code workload} may be known either way). */
    record Plan(Optional<Workload> workload, boolean restart, String why) {
        static Plan none() {
            return new Plan(Optional.empty(), false, "not owned by a Deployment or StatefulSet");
        }
    }

    private final KubernetesClient client;
    private final RestartPolicy policy;
    private final ScheduledExecutorService executor;
    private final BiFunction<Pod, String, Decision> admission;
    private final BooleanSupplier leading;
    private final Map<String, Instant> restarted = new ConcurrentHashMap<>();
    private final Map<String, ScheduledFuture<?>> scheduled = new ConcurrentHashMap<>();
    private final Clock clock = Clock.systemUTC();
    private volatile Instant lastRestart;

    /**
     * @param admission how the webhook would decide a pod of the workload's template in a namespace
     * @param leading   whether this replica still leads (a scheduled restart of a replica that lost the Lease is dropped)
     */
    WorkloadRestarter(KubernetesClient client, EnforcerConfig.Backstop config, ScheduledExecutorService executor,
            BiFunction<Pod, String, Decision> admission, BooleanSupplier leading) {
        this.client = client;
        this.policy = new RestartPolicy(config.restartInterval(), config.restartInterval().multipliedBy(10));
        this.executor = executor;
        this.admission = admission;
        this.leading = leading;
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

    /** Restarts (now or after the policy's delay) the workload owning {@code pod} if that helps; says what it does. */
    Plan restartOwnerOf(Pod pod) {
        String ns = pod.getMetadata().getNamespace();
        String name = pod.getMetadata().getName();
        Optional<Workload> w;
        HasMetadata live;
        try {
            w = owner(pod);
            if (w.isEmpty()) {
                return Plan.none();
            }
            live = w.get().kind().equals("Deployment")
                    ? client.apps().deployments().inNamespace(ns).withName(w.get().name()).get()
                    : client.apps().statefulSets().inNamespace(ns).withName(w.get().name()).get();
        } catch (KubernetesClientException e) {
            LOG.warnf("backstop: cannot find the workload of pod %s/%s to restart it (HTTP %d: %s)", ns, name, e.getCode(),
                    e.getMessage());
            return new Plan(Optional.empty(), false, "its workload could not be read (HTTP " + e.getCode() + ")");
        }
        if (live == null) {
            return new Plan(w, false, w.get() + " does not exist");
        }
        PodTemplateSpec template = live instanceof Deployment d ? d.getSpec().getTemplate() : ((StatefulSet) live).getSpec().getTemplate();
        // our last restart of it: remembered, or (after a failover) the template's restartedAt if we wrote it
        Instant remembered = restarted.get(w.get().toString());
        Instant written = restartedByUs(live) ? restartedAt(template) : null;
        Instant ourLast = remembered == null ? written : written == null || remembered.isAfter(written) ? remembered : written;
        Optional<String> pointless = RestartPolicy.pointless(PodProjection.containersRan(pod), instant(pod.getMetadata()
                .getCreationTimestamp()), ourLast, replacementsNotEnrolled(ns, template));
        if (pointless.isPresent()) {
            LOG.infof("backstop: not restarting %s for pod %s/%s: %s", w.get(), ns, name, pointless.get());
            return new Plan(w, false, pointless.get());
        }
        Instant created = instant(pod.getMetadata().getCreationTimestamp());
        if (written != null && created != null && !created.isAfter(written)) {
            // a restart this enforcer made after the pod was created (maybe by an earlier leader, whose schedule is gone,
            // or before the namespace was watched again): that rollout replaces the pod, another one would not help
            return new Plan(w, true, "restarted at " + written + "; its rollout replaces the pod");
        }
        Instant at = schedule(w.get(), written);
        return new Plan(w, true, "restart at " + at);
    }

    /** Why a pod of {@code template} would not be enrolled at admission, as the webhook decides it; empty if it would. */
    private Optional<String> replacementsNotEnrolled(String ns, PodTemplateSpec template) {
        if (template == null) {
            return Optional.of("no pod template");
        }
        Pod p = new PodBuilder().withMetadata(template.getMetadata() == null ? new io.fabric8.kubernetes.api.model.ObjectMeta()
                : new io.fabric8.kubernetes.api.model.ObjectMetaBuilder(template.getMetadata()).build()).withSpec(template.getSpec()).build();
        p.getMetadata().setNamespace(ns);
        Decision d = admission.apply(p, ns);
        return d.enroll() ? Optional.empty() : Optional.of(d.reason().tag() + ": " + d.detail());
    }

    /** Whether the template's restartedAt annotation was last written by our field manager. */
    private static boolean restartedByUs(HasMetadata live) {
        var fields = live.getMetadata().getManagedFields();
        return fields != null && fields.stream().anyMatch(f -> FIELD_MANAGER.equals(f.getManager()) && f.getFieldsV1() != null
                && io.fabric8.kubernetes.client.utils.Serialization.asJson(f.getFieldsV1()).contains("\"f:" + RESTARTED_AT + "\""));
    }

    private static Instant restartedAt(PodTemplateSpec t) {
        return t == null || t.getMetadata() == null || t.getMetadata().getAnnotations() == null ? null
                : instant(t.getMetadata().getAnnotations().get(RESTARTED_AT));
    }

    private static Instant instant(String s) {
        if (s == null || s.isEmpty()) {
            return null;
        }
        try {
            return java.time.OffsetDateTime.parse(s).toInstant(); // kubectl writes RFC 3339 with an offset
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    /** When the workload is (or was, in this wave) restarted. */
    private synchronized Instant schedule(Workload w, Instant doneEarlier) {
        if (doneEarlier != null) {
            restarted.merge(w.toString(), doneEarlier, (a, b) -> a.isAfter(b) ? a : b);
            if (lastRestart == null || doneEarlier.isAfter(lastRestart)) {
                lastRestart = doneEarlier;
            }
        }
        Instant now = clock.instant();
        Duration delay = policy.decide(now, w.toString(), restarted, lastRestart);
        if (delay == null) {
            return restarted.get(w.toString()); // restarted (or due) in this wave already
        }
        Instant at = now.plus(delay).truncatedTo(java.time.temporal.ChronoUnit.SECONDS); // as kubectl writes it, as pods are stamped
        restarted.put(w.toString(), at);
        lastRestart = at;
        scheduled.put(w.toString(), executor.schedule(() -> restart(w, at), delay.toMillis(), TimeUnit.MILLISECONDS));
        return at;
    }

    /**
     * Lost the Lease: restarts not yet done are the new leader's to decide. It finds the pods again (labelled by the
     * backstop, still running: {@code Reconcile.EnrolledWhileRunning}) and the restarts already made on the workloads.
     */
    synchronized void cancelAll() {
        scheduled.values().forEach(f -> f.cancel(false));
        scheduled.clear();
        restarted.clear();
        lastRestart = null;
    }

    private static final PatchContext CONTEXT = new PatchContext.Builder().withPatchType(PatchType.STRATEGIC_MERGE)
            .withFieldManager(FIELD_MANAGER).build();

    private void restart(Workload w, Instant at) {
        scheduled.remove(w.toString());
        if (!leading.getAsBoolean()) {
            LOG.infof("backstop: not restarting %s: this replica no longer leads", w);
            return;
        }
        String patch = "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"" + RESTARTED_AT + "\":\"" + at + "\"}}}}}";
        try {
            if (w.kind().equals("Deployment")) {
                client.apps().deployments().inNamespace(w.namespace()).withName(w.name()).patch(CONTEXT, patch);
            } else {
                client.apps().statefulSets().inNamespace(w.namespace()).withName(w.name()).patch(CONTEXT, patch);
            }
            LOG.infof("backstop: restarted %s so that the connections of its pods go through the waypoint", w);
        } catch (KubernetesClientException e) {
            LOG.warnf("backstop: could not restart %s (HTTP %d: %s); restart it yourself: kubectl -n %s rollout restart %s/%s",
                    w, e.getCode(), e.getMessage(), w.namespace(), w.kind().toLowerCase(java.util.Locale.ROOT), w.name());
        }
    }
}
