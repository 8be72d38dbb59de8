package dev.zeebeambient.enforcer.decision;

import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.detection.ResolvedSources;
import dev.zeebeambient.enforcer.detection.SourceRef;
import dev.zeebeambient.enforcer.kube.NamespaceCache;
import dev.zeebeambient.enforcer.kube.SourceResolver;
import dev.zeebeambient.enforcer.kube.TargetServices;
import io.fabric8.kubernetes.api.model.Pod;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.Map;
import java.util.Set;

/**
 * Gathers what the pure {@link EnrollmentDecider} needs (namespace labels from the cache, target
 * selectors, referenced ConfigMaps) and decides. The webhook and the backstop both come here, so
 * they can never disagree.
 */
@ApplicationScoped
public class DecisionService {

    private final EnrollmentDecider decider;
    private final NamespaceCache namespaces;
    private final TargetServices targets;
    private final SourceResolver resolver;

    public DecisionService(EnforcerConfig config, NamespaceCache namespaces, TargetServices targets, SourceResolver resolver) {
        this.decider = new EnrollmentDecider(Rules.from(config));
        this.namespaces = namespaces;
        this.targets = targets;
        this.resolver = resolver;
    }

    /** The decision plus what it could not see (reported as warnings / in status). */
    public record Outcome(Decision decision, boolean namespaceLabelsKnown, Set<SourceRef> unavailable) {
    }

    public Outcome decide(Pod pod, String namespace) {
        Map<String, String> nsLabels = namespaces.labels(namespace);
        ResolvedSources sources = resolver.resolve(namespace, decider.detector().references(pod.getSpec()));
        Decision d = decider.decide(new PodContext(pod, namespace, nsLabels, targets.selectors(), sources));
        return new Outcome(d, nsLabels != null, sources.unavailable());
    }
}
