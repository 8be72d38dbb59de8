package dev.zeebeambient.enforcer.kube;

import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.detection.ResolvedSources;
import dev.zeebeambient.enforcer.detection.SourceRef;
import dev.zeebeambient.enforcer.detection.Target;
import dev.zeebeambient.enforcer.decision.Decision;
import dev.zeebeambient.enforcer.decision.EnrollmentDecider;
import dev.zeebeambient.enforcer.decision.Outcome;
import dev.zeebeambient.enforcer.decision.PodContext;
import dev.zeebeambient.enforcer.decision.Reason;
import dev.zeebeambient.enforcer.decision.Rules;
import io.fabric8.kubernetes.api.model.Pod;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The impure half of a decision: gathers what the pure {@link EnrollmentDecider} needs (namespace labels from the cache, target
 * selectors, referenced ConfigMaps) and decides. The webhook and the backstop both come here, so
 * they can never disagree.
 */
@ApplicationScoped
public class DecisionService {

    private final EnrollmentDecider decider;
    private final NamespaceCache namespaces;
    private final TargetServices targets;
    private final SourceResolver resolver;
    private final GatewayServices gatewayServices;

    public DecisionService(EnforcerConfig config, NamespaceCache namespaces, TargetServices targets, SourceResolver resolver,
            GatewayServices gatewayServices) {
        this.gatewayServices = gatewayServices;
        this.decider = new EnrollmentDecider(Rules.from(config));
        this.namespaces = namespaces;
        this.targets = targets;
        this.resolver = resolver;
    }

    public Outcome decide(Pod pod, String namespace) {
        Map<String, String> nsLabels = namespaces.labels(namespace);
        Map<Target, Map<String, String>> selectors = targets.selectors();
        // First without ConfigMaps: most skips (excluded, not opted in, already labelled, ...) need none,
        // and reading them costs API calls. Only when their content could change the answer are they read.
        List<Target> bypass = gatewayServices.bypassServices();
        List<Target> bypassPods = gatewayServices.bypassPodsOf();
        Decision d = decider.decide(new PodContext(pod, namespace, nsLabels, selectors, ResolvedSources.NONE, bypass, bypassPods));
        boolean couldChange = d.reason() == Reason.NOT_A_CLIENT || (d.reason().notable() && d.evidence().isEmpty());
        Set<SourceRef> refs = couldChange ? decider.detector().references(pod.getSpec()) : Set.of();
        if (refs.isEmpty()) {
            return new Outcome(d, nsLabels != null, Set.of());
        }
        ResolvedSources sources = resolver.resolve(namespace, refs);
        d = decider.decide(new PodContext(pod, namespace, nsLabels, selectors, sources, bypass, bypassPods));
        return new Outcome(d, nsLabels != null, sources.unavailable(), sources.missing());
    }
}
