package dev.zeebeambient.enforcer.decision;

import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.detection.Target;

import java.util.List;
import java.util.Set;

/**
 * The configuration the decision needs, as plain data (so unit tests build it without Quarkus).
 */
public record Rules(List<Target> targets, String clusterDomain, String optInKey, String optInValue,
        Set<String> excludedNamespaces, String enrollKey, Set<String> serverComponents,
        boolean readSecrets, boolean enrollGatewayPods) {

    public static Rules from(EnforcerConfig c) {
        String label = c.namespaceOptInLabel();
        int eq = label.indexOf('=');
        if (eq <= 0 || eq == label.length() - 1) {
            throw new IllegalArgumentException("invalid enforcer.namespace-opt-in-label '" + label
                    + "': expected key=value, e.g. zeebe-ambient-enforcer.io/enabled=true");
        }
        Set<String> excluded = dev.zeebeambient.enforcer.config.ConfigRules.excludedNamespaces(c);
        return new Rules(List.copyOf(c.clientTargets()), c.clusterDomain(), label.substring(0, eq).trim(),
                label.substring(eq + 1).trim(), Set.copyOf(excluded), c.podEnrollKey(),
                Set.copyOf(c.serverComponents()),
                c.detection().readSecrets(), c.bootstrap().enrollGatewayPods());
    }
}
