package dev.zeebeambient.enforcer.install;

import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.decision.Rules;
import dev.zeebeambient.enforcer.detection.EnvNames;
import dev.zeebeambient.enforcer.detection.Target;
import dev.zeebeambient.enforcer.detection.ZeebeClientDetector;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The MutatingAdmissionPolicy (Kubernetes 1.36+) that enrolls, inside the API server and without a
 * webhook call, the pods whose own spec names a target literally; rendered from the configuration,
 * so that the policy and the enforcer cannot disagree about targets, cluster domain, opt-in label,
 * excluded namespaces, enroll key or annotations ({@code webhook-config/base/enroll-policy.yaml} is
 * this output for the defaults; a test fails when it drifts). With it, a ValidatingAdmissionPolicy
 * that tells the kubectl user why.
 * <p>
 * It only ever enrolls a pod the enforcer would enroll (a strict subset: {@code EnrollPolicyTest}
 * compares both on every test pod through the real API server). An env value counts when it is the
 * container's effective value for its name (the last entry with the name) and literal (no
 * {@code valueFrom}, no {@code $(VAR)}); then, as the detector reads it: the whole value is a target
 * address (optional scheme or gRPC target prefix, host {@code svc.ns[.svc[.<domain>]]}, optional
 * trailing dot, the target port or none, optional trailing slash, trimmed and lower-cased like
 * {@code AddressMatcher}), or free text in which a token is one ({@link #scanRegex}); command and
 * args words (no {@code $(VAR)}) as free text; or the {@code ZEEBE_HOST}/{@code ZEEBE_PORT} pair.
 * What needs more than the pod (ConfigMaps, Secrets, expansion) is left to the webhook, and so is
 * every pod any skip rule could concern: mirror, hostNetwork, an enroll key at all, sidecar hints or
 * a sidecar-injected namespace, a target's own namespace.
 */
public final class EnrollPolicy {

    public static final String NAME = "zeebe-ambient-enforcer-enroll";
    public static final String ORIGIN = dev.zeebeambient.enforcer.enrollment.Origin.POLICY.tag();
    public static final String WARNING = "zeebe-ambient-enforcer-enroll-warning";
    /** Named under {@link #NAME} on purpose: everything that selects the policy's objects by that prefix gets it too. */
    public static final String BYPASS_WARNING = "zeebe-ambient-enforcer-enroll-bypass-warning";

    private EnrollPolicy() {
    }

    /** The policy, its binding and the warning policy with its binding, as YAML. */
    public static String render(EnforcerConfig config) {
        Rules rules = Rules.from(config);
        String by = config.reasonAnnotation().contains("/")
                ? config.reasonAnnotation().substring(0, config.reasonAnnotation().indexOf('/') + 1) + "enrolled-by"
                : "enrolled-by";
        TreeSet<String> excluded = new TreeSet<>(rules.excludedNamespaces());
        TreeSet<String> targetNamespaces = config.targets().stream().map(Target::namespace).collect(Collectors.toCollection(TreeSet::new));

        if (config.audit()) {
            // audit mode changes nothing: no enrolling policy, only the bypass warning (a warning changes nothing either)
            StringBuilder a = new StringBuilder("""
                    # Generated from the enforcer's configuration (EnrollPolicy.render), audit mode: no enroll policy (it would
                    # change pods); only the warning for clients of the chart's gateway Service.
                    """);
            if (!config.bootstrap().bindChartService()) {
                bypassWarning(a, config, rules, excluded, targetNamespaces);
            }
            return a.toString().replaceFirst("\n---\n", "\n");
        }
        StringBuilder y = new StringBuilder();
        y.append("""
                # Generated from the enforcer's configuration (EnrollPolicy.render): do not edit; EnrollPolicyTest
                # fails when this file and the configuration's defaults disagree. Kubernetes 1.36 or later (older
                # clusters: add webhook-config/components/without-enroll-policy; the webhook then decides every pod).
                # Enrolls, inside the API server and with no webhook call, pods whose own env names a target
                # literally; everything else (and every pod a skip rule could concern) is left to the webhook,
                # which the API server calls after this policy (its objectSelector skips pods this labelled).
                """).append(podCreatePolicy("MutatingAdmissionPolicy", NAME, """
                  # an error (a pod beyond the CEL cost budget, say) skips the policy: the webhook decides
                  failurePolicy: Ignore
                  reinvocationPolicy: Never
                """));
        skipConditions(y, rules, targetNamespaces);
        // cheapest last: most pods name no target anywhere, and skip every variable below (ASCII lower-casing only: a value
        // that needs Java's wider lower-casing to name a target is left to the webhook, as the variables would leave it)
        String named = config.targets().stream().map(t -> "x.lowerAscii().contains('" + t.name().toLowerCase(Locale.ROOT) + "')")
                .distinct().collect(Collectors.joining(" || "));
        condition(y, "names-a-target", "[has(object.spec.initContainers) ? object.spec.initContainers : [], has(object.spec.containers)"
                + " ? object.spec.containers : []].exists(cs, cs.exists(c, (has(c.env) && c.env.exists(e, has(e.value) && ["
                + "e.value].exists(x, " + named + "))) || (has(c.command) && c.command.exists(x, " + named + "))"
                + " || (has(c.args) && c.args.exists(x, " + named + "))))");
        y.append("  variables:\n");
        sidecarNamespace(y);
        variable(y, "containers", "(has(object.spec.initContainers) ? object.spec.initContainers : [])"
                + " + (has(object.spec.containers) ? object.spec.containers : [])");
        // an env entry whose value is a literal target address and is the container's effective one (the last of its name)
        // cheapest first (CEL counts the cost of every step; 10 containers x 200 env vars must fit): a plain substring
        // test of the lower-cased value rules out almost every value before the regex, whose cost grows with its length
        String mentions = config.targets().stream().map(t -> "e.value.lowerAscii().contains('" + t.name().toLowerCase(Locale.ROOT) + "')")
                .distinct().collect(Collectors.joining(" || ", "(", ")"));
        String address = "has(e.value) && !has(e.valueFrom) && " + mentions + " && e.value.matches(" + raw(addressRegex(config))
                + ") && !(" + normalised("e.name") + " in ['" + EnvNames.HOST + "', '" + EnvNames.PORT + "'])";
        String effective = "c.env.filter(x, x.name == e.name)[size(c.env.filter(x, x.name == e.name)) - 1] == e";
        // the containers that have one (init containers first, as the detector reads them), and the first one's entries
        variable(y, "hits", "variables.containers.filter(c, has(c.env) && c.env.exists(e, " + address + " && " + effective + "))");
        variable(y, "env", "size(variables.hits) == 0 ? [] : variables.hits.map(c, c.env.filter(e, " + address + " && " + effective
                + "))[0]");
        // free text (any env value, command and args words) in which the detector's scan finds a target; no $(VAR)
        String scan = raw(scanRegex(config.targets(), config.clusterDomain()));
        String mentionsW = mentions.replace("e.value", "w");
        String scanEnv = "has(e.value) && !has(e.valueFrom) && " + mentions + " && !e.value.contains('$') && e.value.matches(" + scan
                + ") && !(" + normalised("e.name") + " in ['" + EnvNames.HOST + "', '" + EnvNames.PORT + "'])";
        variable(y, "scanned", "variables.containers.filter(c, has(c.env) && c.env.exists(e, " + scanEnv + " && " + effective + "))");
        String word = "!w.contains('$') && " + mentionsW + " && w.matches(" + scan + ")";
        variable(y, "commands", "variables.containers.filter(c, has(c.command) && c.command.exists(w, " + word + "))");
        variable(y, "arguments", "variables.containers.filter(c, has(c.args) && c.args.exists(w, " + word + "))");
        variable(y, "target", targetExpression(config));
        variable(y, "known", "size(variables.env) > 0 && (" + normalised("variables.env[0].name") + " in "
                + list(new TreeSet<>(EnvNames.addressNames())) + " || " + normalised("variables.env[0].name")
                + ".matches(" + raw("^" + EnvNames.MODELER_PATTERN + "$") + "))");
        // zbctl / Go client split form: ZEEBE_HOST (a host, no port) and ZEEBE_PORT (absent: 26500), both literal, each
        // once, in a container without envFrom (which could hold either)
        String host = normalised("e.name") + " == '" + EnvNames.HOST + "'";
        String port = normalised("e.name") + " == '" + EnvNames.PORT + "'";
        List<String> pairs = new ArrayList<>();
        for (Target t : config.targets()) {
            // without ZEEBE_PORT the detector (like zbctl) assumes 26500: a target on another port needs it set
            String portSet = t.port() == ZeebeClientDetector.DEFAULT_ZEEBE_PORT ? "" : "size(c.env.filter(e, " + port + ")) == 1 && ";
            pairs.add("(" + portSet + "c.env.filter(e, " + host + ").all(e, e.value.matches(" + raw(hostRegex(t, config.clusterDomain()))
                    + ")) && c.env.filter(e, " + port + ").all(e, e.value.matches(" + raw(portRegex(t)) + ")))");
        }
        variable(y, "pairs", "variables.containers.filter(c, !has(c.envFrom) && has(c.env)"
                + " && size(c.env.filter(e, " + host + ")) == 1 && size(c.env.filter(e, " + port + ")) <= 1"
                + " && c.env.filter(e, " + host + " || " + port + ").all(e, has(e.value) && !has(e.valueFrom))"
                + " && (" + String.join(" || ", pairs) + "))");
        variable(y, "reason", "size(variables.env) > 0"
                + " ? 'container ' + variables.hits[0].name + ': env ' + variables.env[0].name + (variables.known ? '' : ' (value)')"
                + " + ' -> ' + variables.target"
                + " : size(variables.scanned) > 0 ? 'container ' + variables.scanned[0].name + ': env ' + variables.scanned[0].env.filter(e, "
                + scanEnv + ")[0].name + ' contains an address of ' + " + anyTarget(config)
                + " : size(variables.commands) > 0 ? 'container ' + variables.commands[0].name + ': command names ' + " + anyTarget(config)
                + " : size(variables.arguments) > 0 ? 'container ' + variables.arguments[0].name + ': args name ' + " + anyTarget(config)
                + " : size(variables.pairs) == 0 ? ''"
                + " : 'container ' + variables.pairs[0].name + ': env ' + variables.pairs[0].env.filter(e, " + host
                + ")[0].name + variables.pairs[0].env.filter(e, " + port + ").map(e, ' + env ' + e.name).join('') + ' -> '"
                // parenthesised when it is a conditional: `' -> ' + c ? a : b` would read as `(' -> ' + c) ? a : b`
                + " + " + (config.targets().size() > 1 ? "(" + pairTargetExpression(config) + ")" : pairTargetExpression(config)));
        y.append("""
                  mutations:
                    # a JSON patch, not an apply configuration: no server-side-apply merge of the whole pod; each map
                    # is added whole when the pod has none, else only our keys
                    - patchType: JSONPatch
                      jsonPatch:
                        expression: |-
                          variables.reason == '' || variables.sidecarNamespace ? [] :
                            (has(object.metadata.labels)
                              ? [JSONPatch{op: 'add', path: '/metadata/labels/istio.io~1dataplane-mode', value: 'ambient'}]
                              : [JSONPatch{op: 'add', path: '/metadata/labels', value: {'istio.io/dataplane-mode': 'ambient'}}])
                            + (has(object.metadata.annotations)
                              ? [JSONPatch{op: 'add', path: '/metadata/annotations/' + jsonpatch.escapeKey('@REASON@'), value: variables.reason},
                                 JSONPatch{op: 'add', path: '/metadata/annotations/' + jsonpatch.escapeKey('@BY@'), value: '@ORIGIN@'}]
                              : [JSONPatch{op: 'add', path: '/metadata/annotations', value: {'@REASON@': variables.reason, '@BY@': '@ORIGIN@'}}])
                ---
                apiVersion: admissionregistration.k8s.io/v1
                kind: MutatingAdmissionPolicyBinding
                metadata:
                  name: %s
                  labels:
                    app.kubernetes.io/name: zeebe-ambient-enforcer
                spec:
                  policyName: %s
                  matchResources:
                    # the webhook's: opted-in namespaces, not excluded, not already ambient or none
                %s---
                # Why, for the kubectl user, without a webhook call: a warning on each pod the policy above enrolled
                # (validation runs after every mutation), one line, cut to 119 characters like the webhook's.
                %s    - name: enrolled-by-the-policy
                      expression: |-
                        has(object.metadata.annotations) && '%s' in object.metadata.annotations
                          && object.metadata.annotations['%s'] == '%s' && '%s' in object.metadata.annotations
                  variables:
                    - name: reason
                      expression: |-
                        object.metadata.annotations['%s']
                    - name: warning
                      expression: |-
                        'zeebe-ambient-enforcer: enrolled in ambient: ' + (variables.reason.indexOf(': ') >= 0
                          ? variables.reason.substring(variables.reason.indexOf(': ') + 2) : variables.reason)
                  validations:
                    - expression: "false"
                      message: "zeebe-ambient-enforcer: enrolled in ambient by the API server"
                      messageExpression: |-
                        (variables.warning.size() <= 119 ? variables.warning : variables.warning.substring(0, 116) + '...')
                          .replace('\\n', ' ').replace('\\r', ' ')
                ---
                apiVersion: admissionregistration.k8s.io/v1
                kind: ValidatingAdmissionPolicyBinding
                metadata:
                  name: %s
                  labels:
                    app.kubernetes.io/name: zeebe-ambient-enforcer
                spec:
                  policyName: %s
                  validationActions: [Warn]
                """.replace("@REASON@", config.reasonAnnotation()).replace("@BY@", by).replace("@ORIGIN@", ORIGIN).formatted(NAME, NAME,
                InstallManifest.selectors(rules), podCreatePolicy("ValidatingAdmissionPolicy", WARNING, VALIDATING), by, by, ORIGIN, config.reasonAnnotation(),
                config.reasonAnnotation(), WARNING, WARNING));
        if (!config.bootstrap().bindChartService()) {
            bypassWarning(y, config, rules, excluded, targetNamespaces);
        }
        return y.toString();
    }

    /**
     * A client of a target's chart Service ({@code camunda-zeebe-gateway:26500}: no waypoint, one connection, one
     * gateway pod) whose own env names it literally, as a whole value: the webhook's "bypasses the waypoint" warning,
     * with no webhook call (so also while the enforcer is down). Not with {@code bind-chart-service}: then those
     * clients are enrolled. The same skip conditions as the enroll policy; pods enrolled by then are not matched.
     */
    private static void bypassWarning(StringBuilder y, EnforcerConfig config, Rules rules, TreeSet<String> excluded,
            TreeSet<String> targetNamespaces) {
        List<Target[]> charts = new ArrayList<>(); // {chart Service, the target to point at instead}
        for (Target t : config.targets()) {
            Target chart = new Target(t.namespace(), config.chartServiceName(t), t.port());
            if (!config.targets().contains(chart) && charts.stream().noneMatch(c -> c[0].equals(chart))) {
                charts.add(new Target[] {chart, t});
            }
        }
        if (charts.isEmpty()) {
            return;
        }
        y.append("""
                ---
                # A client of the chart's own gateway Service (not behind the waypoint: one connection, one gateway pod),
                # named literally in its env, is told so without a webhook call, as the webhook would tell it.
                """).append(podCreatePolicy("ValidatingAdmissionPolicy", BYPASS_WARNING, VALIDATING));
        skipConditions(y, rules, targetNamespaces);
        y.append("  variables:\n");
        sidecarNamespace(y);
        variable(y, "containers", "(has(object.spec.initContainers) ? object.spec.initContainers : [])"
                + " + (has(object.spec.containers) ? object.spec.containers : [])");
        y.append("  validations:\n");
        for (Target[] c : charts) {
            Target chart = c[0];
            Target t = c[1];
            String literal = "has(e.value) && !has(e.valueFrom) && e.value.lowerAscii().contains('" + chart.name().toLowerCase(Locale.ROOT)
                    + "') && e.value.matches(" + raw(addressRegex(List.of(chart), config.clusterDomain())) + ")";
            // a sidecar-injected namespace: the sidecar balances per request, nothing bypasses a waypoint there
            y.append("    - expression: |-\n        variables.sidecarNamespace || !variables.containers.exists(c, has(c.env) && c.env.exists(e, ")
                    .append(literal).append("))\n");
            y.append("      message: \"zeebe-ambient-enforcer: bypasses the waypoint (no per-request balancing): ").append(chart.name())
                    .append('.').append(chart.namespace()).append(':').append(chart.port()).append("; point it at ").append(t.name())
                    .append('.').append(t.namespace()).append(':').append(t.port()).append("\"\n");
        }
        y.append("""
                ---
                apiVersion: admissionregistration.k8s.io/v1
                kind: ValidatingAdmissionPolicyBinding
                metadata:
                  name: %s
                  labels:
                    app.kubernetes.io/name: zeebe-ambient-enforcer
                spec:
                  policyName: %s
                  validationActions: [Warn]
                  matchResources:
                    # the webhook's namespaces; a pod enrolled by then (the policy, the webhook) is not told it bypasses
                %s""".formatted(BYPASS_WARNING, BYPASS_WARNING, InstallManifest.selectors(rules)));
    }

    /** {@code ns/name:port} of the first target the env value names (as the webhook's reason annotation writes it). */
    private static String targetExpression(EnforcerConfig config) {
        List<Target> targets = config.targets();
        StringBuilder e = new StringBuilder("size(variables.env) == 0 ? '' : ");
        for (int i = 0; i < targets.size(); i++) {
            Target t = targets.get(i);
            if (i == targets.size() - 1) {
                e.append("'").append(t).append("'");
            } else {
                e.append("variables.env[0].value.matches(").append(raw(addressRegex(List.of(t), config.clusterDomain()))).append(") ? '")
                        .append(t).append("' : ");
            }
        }
        return e.toString();
    }

    /** The targets, for a reason found in free text (which one the text names is the webhook's to tell). */
    private static String anyTarget(EnforcerConfig config) {
        return "'" + config.targets().stream().map(Target::toString).collect(Collectors.joining(" or ")) + "'";
    }

    /** {@code ns/name:port} of the first target a split-form pair names. */
    private static String pairTargetExpression(EnforcerConfig config) {
        List<Target> targets = config.targets();
        StringBuilder e = new StringBuilder();
        for (int i = 0; i < targets.size() - 1; i++) {
            Target t = targets.get(i);
            e.append("variables.pairs[0].env.exists(e, e.value.matches(").append(raw(hostRegex(t, config.clusterDomain())))
                    .append(")) ? '").append(t).append("' : ");
        }
        return e.append("'").append(targets.get(targets.size() - 1)).append("'").toString();
    }

    /** A bare host as {@code AddressMatcher.matchHost} accepts it: trimmed, lower-cased, one trailing dot. */
    static String hostRegex(Target t, String clusterDomain) {
        return "^[\\x00-\\x20]*" + hosts(t, clusterDomain) + "\\.?[\\x00-\\x20]*$";
    }

    /** A port as {@code Integer.parseInt(value.trim())} reads it, equal to the target's. */
    static String portRegex(Target t) {
        return "^[\\x00-\\x20]*\\+?0*" + t.port() + "[\\x00-\\x20]*$";
    }

    private static String hosts(Target t, String clusterDomain) {
        String domain = clusterDomain.toLowerCase(Locale.ROOT).replaceAll("^\\.+|\\.+$", "");
        String base = t.name() + "." + t.namespace();
        return "(?:" + ci(base) + "(?:" + ci(".svc") + "(?:" + ci("." + domain) + ")?)?)";
    }

    /** Every skip rule of the decider that CEL can see in the pod and the request (the namespace ones are the binding's). */
    private static void skipConditions(StringBuilder y, Rules rules, TreeSet<String> targetNamespaces) {
        String key = rules.enrollKey();
        condition(y, "not-in-a-target-namespace", "!(request.namespace in " + list(targetNamespaces) + ")");
        condition(y, "not-a-mirror-pod", "!has(object.metadata.annotations) || !('kubernetes.io/config.mirror' in object.metadata.annotations)");
        condition(y, "not-host-network", "!has(object.spec.hostNetwork) || !object.spec.hostNetwork");
        condition(y, "no-enroll-key", "(!has(object.metadata.labels) || !('" + key + "' in object.metadata.labels))"
                + " && (!has(object.metadata.annotations) || !('" + key + "' in object.metadata.annotations))");
        condition(y, "no-sidecar-hint", "(!has(object.metadata.annotations) || !('sidecar.istio.io/status' in object.metadata.annotations"
                + " || 'sidecar.istio.io/inject' in object.metadata.annotations))"
                + " && (!has(object.metadata.labels) || !('sidecar.istio.io/inject' in object.metadata.labels"
                + " || 'istio.io/rev' in object.metadata.labels))");
    }

    /** Istio injects sidecars in this namespace (the decider's namespace half of row 11). */
    private static void sidecarNamespace(StringBuilder y) {
        variable(y, "nsLabels", "has(namespaceObject.metadata.labels) ? namespaceObject.metadata.labels : {}");
        variable(y, "sidecarNamespace", "('istio-injection' in variables.nsLabels && variables.nsLabels['istio-injection'] == 'enabled')"
                + " || ('istio.io/rev' in variables.nsLabels && !('istio-injection' in variables.nsLabels"
                + " && variables.nsLabels['istio-injection'] == 'disabled'))");
    }

    /** What a warning policy's spec says before its matchConstraints: an error only skips the warning. */
    private static final String VALIDATING = "  failurePolicy: Ignore\n";

    /**
     * A policy on pod CREATE, up to its {@code matchConditions:} line; {@code spec} holds the spec's lines before
     * matchConstraints (failure and reinvocation policy).
     */
    private static String podCreatePolicy(String kind, String name, String spec) {
        return """
                apiVersion: admissionregistration.k8s.io/v1
                kind: %s
                metadata:
                  name: %s
                  labels:
                    app.kubernetes.io/name: zeebe-ambient-enforcer
                spec:
                %s  matchConstraints:
                    resourceRules:
                      - apiGroups: [""]
                        apiVersions: [v1]
                        operations: [CREATE]
                        resources: [pods]
                  matchConditions:
                """.formatted(kind, name, spec);
    }

    private static void condition(StringBuilder y, String name, String expression) {
        y.append("    - name: ").append(name).append("\n      expression: |-\n        ").append(expression).append("\n");
    }

    private static void variable(StringBuilder y, String name, String expression) {
        y.append("    - name: ").append(name).append("\n      expression: |-\n        ").append(expression).append("\n");
    }

    /** {@code EnvNames.normalise} in CEL: upper-case, without {@code .}, {@code -} and {@code _}. */
    private static String normalised(String name) {
        return name + ".upperAscii().replace('.', '').replace('-', '').replace('_', '')";
    }

    private static String list(java.util.Collection<String> values) {
        return values.stream().map(v -> "'" + v + "'").collect(Collectors.joining(", ", "[", "]"));
    }

    private static String raw(String regex) {
        if (regex.contains("'")) {
            throw new IllegalArgumentException("a quote in a generated regex: " + regex);
        }
        return "r'" + regex + "'";
    }

    /** A scheme ({@code http(s), grpc(s), zeebe}) or gRPC target prefix, any case, as {@code AddressMatcher} strips it. */
    private static final String PREFIX = "(?:(?:" + ci("http") + "[sS]?|" + ci("grpc") + "[sS]?|" + ci("zeebe") + ")://|" + ci("dns")
            + "://[^/]*/|" + ci("passthrough") + ":///|" + ci("dns") + ":)?";

    static String addressRegex(EnforcerConfig config) {
        return addressRegex(config.targets(), config.clusterDomain());
    }

    /**
     * RE2 for a whole env value that {@code AddressMatcher.matchValue} accepts for one of {@code targets}
     * in a pod outside the targets' namespaces (the policy never runs there): Java's {@code trim()} (characters
     * up to U+0020) and {@code toLowerCase(Locale.ROOT)} (ASCII letters, and the Kelvin sign for {@code k})
     * spelled out, never RE2's {@code (?i)}, whose Unicode folding accepts more than Java's lower-casing.
     */
    static String addressRegex(List<Target> targets, String clusterDomain) {
        List<String> alternatives = new ArrayList<>();
        for (Target t : targets) {
            String hosts = hosts(t, clusterDomain);
            String port = Integer.toString(t.port());
            String zeros = port.length() < 5 ? "0{0," + (5 - port.length()) + "}" : "";
            alternatives.add(hosts + "\\.?(?::" + zeros + port + ")?");
        }
        return "^[\\x00-\\x20]*" + PREFIX + "(?:" + String.join("|", alternatives) + ")/?[\\x00-\\x20]*$";
    }

    /** {@code AddressMatcher}'s separators ({@code [\\s"'`,;(){}\[\]<>|\\]}, Java's {@code \\s}), as RE2 escapes (no quote in a CEL raw string). */
    private static final String SEP_CHARS = " \\t\\n\\x0B\\f\\r\\x22\\x27\\x60,;(){}\\[\\]<>|\\\\";
    private static final String SEP = "[" + SEP_CHARS + "]";
    private static final String KEY_CHARS = "A-Za-z0-9_.\\-";

    /**
     * RE2 for free text (an env value, a command or args word) in which {@code AddressMatcher.scan} finds a target:
     * some token (text between separators), optionally after a {@code key=}/{@code key:} prefix (never {@code dns:}),
     * is an address with the port; or one without a port not followed by a port-like token; or, as in
     * {@code nc -vz <host> 26500}, a bare host (lower-case scheme allowed) followed by the target port as the next token.
     */
    static String scanRegex(List<Target> targets, String clusterDomain) {
        String k = "[" + KEY_CHARS + "]";
        // a key prefix, but not "dns:" in any case (the detector reads that as a gRPC target first, or refuses it as a key)
        String key = "(?:-{1,2}" + k + "+[=:]|" + k + "+=|(?:" + k + "{1,2}|" + k + "{4,}|[A-CE-Za-ce-z0-9_.\\-]" + k + "{2}"
                + "|[dD][A-MO-Za-mo-z0-9_.\\-]" + k + "|[dD][nN][A-RT-Za-rt-z0-9_.\\-]):)?";
        String start = "(?:^|" + SEP + ")" + key;
        String end = "(?:" + SEP + "|$)";
        String notPort = "(?:" + SEP + "*$|" + SEP + "+(?:[^" + SEP_CHARS + "0-9]|[0-9]{6}|[0-9]{1,5}[^" + SEP_CHARS + "0-9]))";
        List<String> forms = new ArrayList<>();
        for (Target t : targets) {
            String port = Integer.toString(t.port());
            String zeros = port.length() < 5 ? "0{0," + (5 - port.length()) + "}" : "";
            String host = hosts(t, clusterDomain) + "\\.?";
            forms.add(start + PREFIX + host + ":" + zeros + port + "/?" + end);          // with the port
            forms.add(start + PREFIX + host + "/?" + notPort);                           // without, no port word after it
            forms.add(start + "(?:(?:https?|grpcs?|zeebe)://)?" + host + SEP + "+" + zeros + port + end); // host, then the port word
        }
        return String.join("|", forms);
    }

    /** A literal matched as Java's {@code toLowerCase(Locale.ROOT)} would see it. */
    private static String ci(String lowerCase) {
        StringBuilder b = new StringBuilder();
        for (char c : lowerCase.toLowerCase(Locale.ROOT).toCharArray()) {
            if (c >= 'a' && c <= 'z') {
                b.append('[').append(c).append(Character.toUpperCase(c)).append(c == 'k' ? "\\x{212A}" : "").append(']');
            } else if (Character.isLetterOrDigit(c) || c == '-') {
                b.append(c);
            } else {
                b.append('\\').append(c);
            }
        }
        return b.toString();
    }
}
