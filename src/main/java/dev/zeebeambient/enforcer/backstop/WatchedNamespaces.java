package dev.zeebeambient.enforcer.backstop;

import dev.zeebeambient.enforcer.decision.EnrollmentDecider;
import dev.zeebeambient.enforcer.decision.Rules;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Where the backstop watches pods: namespaces that opted in and where a pod could still be
 * enrolled. Pods elsewhere are never listed, cached or decided (their count does not change the
 * enforcer's memory). Pure.
 */
final class WatchedNamespaces {

    private WatchedNamespaces() {
    }

    static boolean watched(String ns, Map<String, String> labels, Rules rules) {
        if (rules.excludedNamespaces().contains(ns) || labels == null) {
            return false;
        }
        if (!rules.optInValue().equals(labels.get(rules.optInKey()))) {
            return false;
        }
        // the namespace's own dataplane mode decides for every pod in it: ambient already, or none
        String mode = labels.get(EnrollmentDecider.DATAPLANE_MODE);
        return !EnrollmentDecider.AMBIENT.equals(mode) && !"none".equals(mode);
    }

    static Set<String> of(Map<String, Map<String, String>> namespaceLabels, Rules rules) {
        Set<String> out = new TreeSet<>();
        namespaceLabels.forEach((ns, labels) -> {
            if (watched(ns, labels, rules)) {
                out.add(ns);
            }
        });
        return out;
    }
}
