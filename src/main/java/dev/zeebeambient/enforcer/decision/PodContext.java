package dev.zeebeambient.enforcer.decision;

import dev.zeebeambient.enforcer.detection.ResolvedSources;
import dev.zeebeambient.enforcer.detection.Target;
import io.fabric8.kubernetes.api.model.Pod;

import java.util.List;
import java.util.Map;

/**
 * Everything the decision looks at besides configuration, gathered by the caller beforehand.
 *
 * @param namespace        the pod's namespace (admission: {@code request.namespace})
 * @param namespaceLabels  the namespace's labels, or {@code null} when the cache is not ready
 * @param targetSelectors  the selector of each target Service that is known
 * @param sources          data of the ConfigMaps/Secrets the pod references
 * @param bypassServices   gRPC ports of known gateway Services that are not targets (e.g. the Helm
 *                         chart's {@code camunda-zeebe-gateway:26500}): clients of these bypass the waypoint
 * @param bypassPodsOf     headless Services of the gateway/broker pods: a client of one pod ({@code <pod>.<svc>.<ns>:26500}) too
 */
public record PodContext(Pod pod, String namespace, Map<String, String> namespaceLabels,
        Map<Target, Map<String, String>> targetSelectors, ResolvedSources sources, List<Target> bypassServices,
        List<Target> bypassPodsOf) {

    public PodContext(Pod pod, String namespace, Map<String, String> namespaceLabels,
            Map<Target, Map<String, String>> targetSelectors, ResolvedSources sources) {
        this(pod, namespace, namespaceLabels, targetSelectors, sources, List.of(), List.of());
    }

    public PodContext(Pod pod, String namespace, Map<String, String> namespaceLabels,
            Map<Target, Map<String, String>> targetSelectors, ResolvedSources sources, List<Target> bypassServices) {
        this(pod, namespace, namespaceLabels, targetSelectors, sources, bypassServices, List.of());
    }
}
