package dev.zeebeambient.enforcer.detection;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Recognises a target gateway address in a value, in the forms Zeebe clients and the Camunda
 * charts use (README "What counts as a Zeebe client"): optional scheme ({@code http, https, grpc,
 * grpcs, zeebe}) or gRPC target prefix ({@code dns:}, {@code dns:///}, {@code dns://<authority>/},
 * {@code passthrough:///}), host as {@code svc}, {@code svc.ns}, {@code svc.ns.svc} or
 * {@code svc.ns.svc.<domain>}, the target port or no port, optional trailing slash. The short name
 * counts only for pods in the target's namespace. Look-alikes (other ports, other namespaces,
 * longer names, an address inside a larger URL) do not match.
 */
public final class AddressMatcher {

    private static final Pattern SCHEME = Pattern.compile("^(?:https?|grpcs?|zeebe)://");
    /** gRPC name-resolver targets: dns:host:port, dns:///host:port, dns://8.8.8.8/host:port, passthrough:///host:port. */
    private static final Pattern GRPC_TARGET = Pattern.compile("^(?:dns://[^/]*/|passthrough:///|dns:(?!//))");
    private static final Pattern PORT = Pattern.compile("\\d{1,5}");
    /** Characters that cannot be part of an address: where free text is cut into candidates. */
    private static final Pattern SEPARATORS = Pattern.compile("[\\s\"'`,;(){}\\[\\]<>|\\\\]+");
    /** {@code -Dkey=}, {@code --key=}, {@code KEY=}: a key in front of a value. */
    private static final Pattern KEY_PREFIX = Pattern.compile("^-{0,2}[A-Za-z0-9_.\\-]+[=:]");

    private final Map<String, List<Target>> qualifiedHosts = new HashMap<>();
    /** {@code <svc>.<ns>[.svc[.<domain>]]} of headless Services: {@code <pod>.<that>} names a single pod. */
    private final Map<String, List<Target>> podDomains = new HashMap<>();
    private final Map<String, List<Target>> shortHosts = new HashMap<>();
    /** Every address contains a target's Service name: values without one are rejected cheaply. */
    private final List<String> names;

    public AddressMatcher(List<Target> targets, String clusterDomain) {
        this(targets, List.of(), clusterDomain);
    }

    /** {@code podsOf}: headless Services whose pods' own DNS names ({@code <pod>.<svc>.<ns>...}) count too. */
    public AddressMatcher(List<Target> targets, List<Target> podsOf, String clusterDomain) {
        String domain = clusterDomain.toLowerCase(Locale.ROOT).replaceAll("^\\.+|\\.+$", "");
        for (Target t : targets) {
            String base = t.name() + "." + t.namespace();
            for (String host : List.of(base, base + ".svc", base + ".svc." + domain)) {
                qualifiedHosts.computeIfAbsent(host, k -> new ArrayList<>()).add(t);
            }
            shortHosts.computeIfAbsent(t.name(), k -> new ArrayList<>()).add(t);
        }
        for (Target t : podsOf) {
            String base = t.name() + "." + t.namespace();
            for (String host : List.of(base, base + ".svc", base + ".svc." + domain)) {
                podDomains.computeIfAbsent(host, k -> new ArrayList<>()).add(t);
            }
        }
        names = java.util.stream.Stream.concat(targets.stream(), podsOf.stream()).map(Target::name).distinct().toList();
    }

    private boolean mentionsATarget(String lowerCase) {
        for (String n : names) {
            if (lowerCase.contains(n)) {
                return true;
            }
        }
        return false;
    }

    /** The whole value is an address of a target (env var value, ConfigMap value, argument). */
    public Optional<Target> matchValue(String value, String podNamespace) {
        if (value == null) {
            return Optional.empty();
        }
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (!mentionsATarget(v)) {
            return Optional.empty();
        }
        var grpc = GRPC_TARGET.matcher(v);
        v = grpc.find() ? v.substring(grpc.end()) : SCHEME.matcher(v).replaceFirst("");
        if (v.endsWith("/")) {
            v = v.substring(0, v.length() - 1);
        }
        String host = v;
        Integer port = null;
        int colon = v.lastIndexOf(':');
        if (colon >= 0) {
            String p = v.substring(colon + 1);
            if (!PORT.matcher(p).matches()) {
                return Optional.empty();
            }
            host = v.substring(0, colon);
            port = Integer.parseInt(p);
        }
        return matchHost(host, port, podNamespace);
    }

    /** A value that names a target's host with no port at all (so a port may follow as a separate word). */
    private static boolean hasNoPort(String token) {
        String v = token.trim();
        int slashes = v.indexOf("//");
        String rest = slashes >= 0 ? v.substring(slashes + 2) : v;
        return !rest.matches(".*:\\d{1,5}/?$");
    }

    /** A bare host (no scheme, no port), as in {@code ZEEBE_HOST}, checked against a separate port. */
    public Optional<Target> matchHost(String host, Integer port, String podNamespace) {
        if (host == null) {
            return Optional.empty();
        }
        return hostTargets(host.trim().toLowerCase(Locale.ROOT), podNamespace).stream()
                .filter(t -> port == null || t.port() == port)
                .findFirst();
    }

    /**
     * Finds an address in free text (YAML, JSON, JVM options, command lines): the text is cut
     * at characters that cannot occur in an address, and each piece must match as a whole,
     * optionally after a {@code key=} / {@code key:} prefix.
     */
    public Optional<Hit> scan(String text, String podNamespace) {
        if (text == null || text.isEmpty() || !mentionsATarget(text.toLowerCase(Locale.ROOT))) {
            return Optional.empty();
        }
        String[] tokens = SEPARATORS.split(text);
        for (int i = 0; i < tokens.length; i++) {
            String token = tokens[i];
            if (token.isEmpty()) {
                continue;
            }
            String value = token;
            Optional<Target> t = matchValue(token, podNamespace);
            if (t.isEmpty()) {
                var m = KEY_PREFIX.matcher(token);
                if (m.find() && !token.substring(0, m.end()).contains("://") && !token.substring(0, m.end()).startsWith("dns:")) {
                    value = token.substring(m.end());
                    t = matchValue(value, podNamespace);
                }
            }
            if (t.isPresent() && hasNoPort(value) && i + 1 < tokens.length && PORT.matcher(tokens[i + 1]).matches()) {
                // a shell line: `nc -vz <host> 26500`, `grpcurl <host> 26500`: the next word is the port
                int port = Integer.parseInt(tokens[i + 1]);
                t = matchHost(value.replaceFirst("^[a-z]+://", ""), port, podNamespace);
                if (t.isPresent()) {
                    return Optional.of(new Hit(t.get(), token + " " + tokens[i + 1]));
                }
                continue;
            }
            if (t.isPresent()) {
                return Optional.of(new Hit(t.get(), token));
            }
        }
        return Optional.empty();
    }

    private List<Target> hostTargets(String host, String podNamespace) {
        String h = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
        List<Target> qualified = qualifiedHosts.get(h);
        if (qualified != null) {
            return qualified;
        }
        int dot = h.indexOf('.');
        if (dot > 0 && !podDomains.isEmpty()) {
            List<Target> pod = podDomains.get(h.substring(dot + 1)); // <pod>.<headless svc>.<ns>...
            if (pod != null) {
                return pod;
            }
        }
        List<Target> shorts = shortHosts.get(h);
        if (shorts == null) {
            return List.of();
        }
        return shorts.stream().filter(t -> t.namespace().equals(podNamespace)).toList();
    }

    /** A target found in free text, with the piece of text that named it. */
    public record Hit(Target target, String token) {
    }
}
