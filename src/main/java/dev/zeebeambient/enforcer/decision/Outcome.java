package dev.zeebeambient.enforcer.decision;

import dev.zeebeambient.enforcer.detection.SourceRef;

import java.util.Set;

/**
 * A decision plus what it could not see: namespace labels not loaded yet, ConfigMaps/Secrets not
 * readable in time, or referenced but not existing (yet). All are told to the user (warnings,
 * status), never hidden.
 */
public record Outcome(Decision decision, boolean namespaceLabelsKnown, Set<SourceRef> unavailable, Set<SourceRef> missing) {

    public Outcome(Decision decision, boolean namespaceLabelsKnown, Set<SourceRef> unavailable) {
        this(decision, namespaceLabelsKnown, unavailable, Set.of());
    }
}
