package dev.zeebeambient.enforcer.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The rules a configuration must satisfy, in one place: the enforcer refuses to start on a violation (one line, see
 * {@code Main}), and the chart applies the same rules (its {@code files/constants.json} carries these patterns and
 * namespaces, written from this class; {@code InstallFilesTest} fails when they drift).
 */
public final class ConfigRules {

    /**
     * A label or annotation key with a prefix, {@code example.io/name}: the pod-patch policy lets the enforcer change
     * only annotations under the reason annotation's prefix, and the origin annotation is written next to it
     * ({@code <prefix>/enrolled-by}); a key without a prefix would leave neither with a place.
     */
    public static final String QUALIFIED_KEY = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?";
    private static final Pattern QUALIFIED = Pattern.compile(QUALIFIED_KEY);

    /** Never enrolled, whatever {@code enforcer.excluded-namespaces} says (with the Istio namespace and the enforcer's own). */
    public static final Set<String> SYSTEM_NAMESPACES = Set.of("kube-system", "kube-public", "kube-node-lease");

    /** An object an earlier configuration had the bootstrapper write: {@code Kind namespace/name} (enforcer.bootstrap.retired). */
    public static final String RETIRED_OBJECT = "(Gateway|Service|DestinationRule|ConfigMap) [a-z0-9.-]+/[a-z0-9.-]+";
    private static final Pattern RETIRED = Pattern.compile(RETIRED_OBJECT);

    private ConfigRules() {
    }

    /** Every namespace the enforcer never enrolls: the configured ones, the system ones, Istio's and its own. */
    public static Set<String> excludedNamespaces(EnforcerConfig c) {
        TreeSet<String> excluded = new TreeSet<>(c.excludedNamespaces());
        excluded.addAll(SYSTEM_NAMESPACES);
        excluded.add(c.bootstrap().istioNamespace());
        excluded.add(c.ownNamespace());
        return excluded;
    }

    /** What is wrong with the configuration beyond what its converters refuse (targets: {@code Target.parse}), each naming the setting, the value and what is expected; empty when nothing. */
    public static List<String> problems(EnforcerConfig c) {
        List<String> problems = new ArrayList<>();
        qualified(problems, "enforcer.reason-annotation", c.reasonAnnotation());
        qualified(problems, "enforcer.pod-enroll-key", c.podEnrollKey());
        String label = c.namespaceOptInLabel();
        int eq = label.indexOf('=');
        if (eq <= 0 || eq == label.length() - 1) {
            problems.add("enforcer.namespace-opt-in-label '" + label + "': expected key=value, e.g. zeebe-ambient-enforcer.io/enabled=true");
        }
        for (String r : c.bootstrap().retired().orElse(List.of())) {
            if (!RETIRED.matcher(r.trim()).matches()) {
                problems.add("enforcer.bootstrap.retired '" + r + "': expected Kind namespace/name with Kind one of Gateway, Service, "
                        + "DestinationRule, ConfigMap, e.g. Gateway camunda/waypoint");
            }
        }
        return problems;
    }

    private static void qualified(List<String> problems, String setting, String key) {
        if (key == null || !QUALIFIED.matcher(key).matches() || key.length() > 253 + 1 + 63 || key.substring(key.indexOf('/') + 1).length() > 63) {
            problems.add(setting + " '" + key + "': expected a key with a prefix, e.g. example.io/name");
        }
    }
}
