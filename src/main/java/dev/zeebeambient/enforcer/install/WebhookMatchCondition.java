package dev.zeebeambient.enforcer.install;

import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.decision.Rules;
import dev.zeebeambient.enforcer.detection.Target;

import java.util.List;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The webhook's {@code matchConditions} expression (webhook-config/base/mutatingwebhook.yaml), rendered from the
 * configuration: the API server calls the enforcer only for pods it could enroll or warn about. A pod outside the
 * targets' namespaces can only name a target or a known gateway Service (or one of its pods) through a host
 * {@code <service>.<namespace>}, so a literal value, command or args word that names none of those namespaces, has
 * no {@code $(VAR)} to expand and no Kelvin sign (which Java lower-cases to {@code k}) tells the enforcer nothing;
 * {@code valueFrom}, {@code envFrom} and ConfigMap/Secret volumes are always sent (the enforcer reads them).
 * Part of {@link InstallManifest}'s webhook; a test fails when the shipped expression and this rendering of the defaults differ.
 */
public final class WebhookMatchCondition {

    private WebhookMatchCondition() {
    }

    /** The namespaces an address must name for the detector to find a target or a bypassing gateway Service in it. */
    static TreeSet<String> namespaces(EnforcerConfig config) {
        TreeSet<String> ns = config.targets().stream().map(Target::namespace).collect(Collectors.toCollection(TreeSet::new));
        config.detection().knownGatewayServices().orElse(List.of()).forEach(t -> ns.add(t.namespace()));
        return ns;
    }

    /** The expression, one line. */
    public static String expression(EnforcerConfig config) {
        String key = Rules.from(config).enrollKey();
        TreeSet<String> ns = namespaces(config);
        String named = ns.stream().map(n -> "x.lowerAscii().contains('" + n + "')").collect(Collectors.joining(" || "))
                + " || x.contains('$(') || x.contains('\\u212a')";
        String inNamespace = config.targets().stream().map(Target::namespace).distinct().sorted()
                .map(n -> "request.namespace == '" + n + "'").collect(Collectors.joining(" || "));
        return inNamespace
                + " || (has(object.metadata.labels) && '" + key + "' in object.metadata.labels)"
                + " || (has(object.metadata.annotations) && '" + key + "' in object.metadata.annotations)"
                + " || [has(object.spec.initContainers) ? object.spec.initContainers : [],"
                + " has(object.spec.containers) ? object.spec.containers : []].exists(cs, cs.exists(c, has(c.envFrom)"
                + " || (has(c.env) && c.env.exists(e, has(e.valueFrom) || (has(e.value) && [e.value].exists(x, " + named + "))))"
                + " || (has(c.command) && c.command.exists(x, " + named + "))"
                + " || (has(c.args) && c.args.exists(x, " + named + "))))"
                + " || (has(object.spec.volumes) && object.spec.volumes.exists(v, has(v.configMap) || has(v.secret)"
                + " || (has(v.projected) && has(v.projected.sources) && v.projected.sources.exists(s, has(s.secret)"
                + " || (has(s.configMap) && (!has(s.configMap.name) || s.configMap.name != 'kube-root-ca.crt'))))))";
    }
}
