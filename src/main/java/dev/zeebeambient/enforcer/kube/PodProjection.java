package dev.zeebeambient.enforcer.kube;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.ContainerState;
import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the backstop keeps of a watched pod: only what the decision, the patch, the Event and the
 * workload restart read. A pod as the API server sends it carries managedFields, status,
 * probes, resources, images and last-applied annotations the backstop never looks at; keeping
 * them made the informer's cache grow by tens of KB per pod.
 * <p>
 * Kept: name, namespace, uid, resourceVersion, creation/deletion timestamps, labels, annotations
 * (without {@code kubectl.kubernetes.io/last-applied-configuration}), owner references; spec
 * {@code hostNetwork}, per (init) container name/command/args/env/envFrom/volumeMounts, the volumes
 * that can hold a ConfigMap or Secret; status phase, and of the (init) container statuses only those
 * of containers that have run (name and a bare running/terminated state): whether the pod can hold a
 * connection opened before the label, which decides whether restarting its workload helps.
 * <p>
 * The webhook reads the same part straight from the request's JSON ({@code admission.LeanPodReader}, plus
 * generateName); LeanPodReaderTest fails when the two drift apart.
 */
public final class PodProjection {

    public static final String LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

    private PodProjection() {
    }

    public static Pod trim(Pod pod) {
        ObjectMeta m = pod.getMetadata() == null ? new ObjectMeta() : pod.getMetadata();
        Map<String, String> annotations = m.getAnnotations();
        if (annotations != null && annotations.containsKey(LAST_APPLIED)) {
            annotations = new HashMap<>(annotations);
            annotations.remove(LAST_APPLIED);
        }
        ObjectMeta meta = new ObjectMetaBuilder().withName(m.getName()).withNamespace(m.getNamespace()).withUid(m.getUid())
                .withResourceVersion(m.getResourceVersion()).withCreationTimestamp(m.getCreationTimestamp())
                .withDeletionTimestamp(m.getDeletionTimestamp()).withLabels(m.getLabels()).withAnnotations(annotations)
                .withOwnerReferences(m.getOwnerReferences().isEmpty() ? null : m.getOwnerReferences()).build();
        PodSpec s = pod.getSpec();
        PodSpec spec = s == null ? null : new PodSpecBuilder().withHostNetwork(s.getHostNetwork())
                .withContainers(containers(s.getContainers())).withInitContainers(containers(s.getInitContainers()))
                .withVolumes(volumes(s.getVolumes())).build();
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        List<ContainerStatus> ran = pod.getStatus() == null ? List.of() : ran(pod.getStatus());
        PodStatus status = phase == null && ran.isEmpty() ? null
                : new PodStatusBuilder().withPhase(phase).withContainerStatuses(ran.isEmpty() ? null : ran).build();
        return new PodBuilder().withMetadata(meta).withSpec(spec).withStatus(status).build();
    }

    /** Whether any container of the pod (as projected or in full) has started at least once. */
    public static boolean containersRan(Pod pod) {
        return pod.getStatus() != null && !ran(pod.getStatus()).isEmpty();
    }

    private static List<ContainerStatus> ran(PodStatus s) {
        List<ContainerStatus> out = new java.util.ArrayList<>();
        for (List<ContainerStatus> list : java.util.Arrays.asList(s.getInitContainerStatuses(), s.getContainerStatuses())) {
            if (list == null) {
                continue;
            }
            for (ContainerStatus c : list) {
                boolean running = c.getState() != null && c.getState().getRunning() != null;
                boolean terminated = c.getState() != null && c.getState().getTerminated() != null
                        || c.getLastState() != null && c.getLastState().getTerminated() != null;
                if (running || terminated) {
                    ContainerState state = running ? new ContainerStateBuilder().withNewRunning().endRunning().build()
                            : new ContainerStateBuilder().withNewTerminated().endTerminated().build();
                    out.add(new ContainerStatusBuilder().withName(c.getName()).withState(state).build());
                }
            }
        }
        return out;
    }

    private static List<Container> containers(List<Container> in) {
        if (in == null || in.isEmpty()) {
            return null;
        }
        return in.stream().map(c -> new ContainerBuilder().withName(c.getName()).withCommand(emptyToNull(c.getCommand()))
                .withArgs(emptyToNull(c.getArgs())).withEnv(emptyToNull(c.getEnv())).withEnvFrom(emptyToNull(c.getEnvFrom()))
                .withVolumeMounts(emptyToNull(c.getVolumeMounts())).build()).toList();
    }

    /** Only volumes that can carry a ConfigMap or Secret (what a client could read its address from). */
    private static List<Volume> volumes(List<Volume> in) {
        if (in == null || in.isEmpty()) {
            return null;
        }
        List<Volume> out = in.stream().filter(v -> v.getConfigMap() != null || v.getSecret() != null || v.getProjected() != null)
                .map(v -> new VolumeBuilder().withName(v.getName()).withConfigMap(v.getConfigMap()).withSecret(v.getSecret())
                        .withProjected(v.getProjected()).build()).toList();
        return out.isEmpty() ? null : out;
    }

    private static <T> List<T> emptyToNull(List<T> l) {
        return l == null || l.isEmpty() ? null : l;
    }
}
