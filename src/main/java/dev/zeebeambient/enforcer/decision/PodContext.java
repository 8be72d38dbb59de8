package dev.zeebeambient.enforcer.decision;

import dev.zeebeambient.enforcer.detection.ResolvedSources;
import dev.zeebeambient.enforcer.detection.Target;
import io.fabric8.kubernetes.api.model.Pod;

import java.util.Map;

/**
 * Everything the decision looks at besides configuration, gathered by the caller beforehand.
 *
 * @param namespace        the pod's namespace (admission: {@code request.namespace})
 * @param namespaceLabels  the namespace's labels, or {@code null} when the cache is not ready
 * @param targetSelectors  the selector of each target Service that is known
 * @param sources          data of the ConfigMaps/Secrets the pod references
 */
public record PodContext(Pod pod, String namespace, Map<String, String> namespaceLabels,
        Map<Target, Map<String, String>> targetSelectors, ResolvedSources sources) {
}
