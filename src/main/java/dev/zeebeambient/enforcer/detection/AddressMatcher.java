package dev.zeebeambient.enforcer.detection;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Recognises a target gateway address in a value, in every form Zeebe clients accept
 * (the forms Zeebe clients and the Camunda charts use; README "What counts as a Zeebe client"): optional scheme ({@code http, https, grpc, grpcs, zeebe, dns:///}),
 * host as {@code svc}, {@code svc.ns}, {@code svc.ns.svc} or {@code svc.ns.svc.<domain>},
 * the target port or no port, optional trailing slash. The short name counts only for pods
 * in the target's namespace. Look-alikes (other ports, other namespaces, longer names, an
 * address inside a larger URL) do not match.
 */
public final class AddressMatcher {

    private static final Pattern SCHEME = Pattern.compile("^(?:https?|grpcs?|zeebe)://");
    private static final Pattern PORT = Pattern.compile("\\d{1,5}");
    /** Characters that cannot be part of an address: where free text is cut into candidates. */
    private static final Pattern SEPARATORS = Pattern.compile("[\\s\"'`,;(){}\\[\\]<>|\\\\]+");
    /** {@code -Dkey=}, {@code --key=}, {@code KEY=}: a key in front of a value. */
    private static final Pattern KEY_PREFIX = Pattern.compile("^-{0,2}[A-Za-z0-9_.\\-]+[=:]");

    private final Map<String, List<Target>> qualifiedHosts = new HashMap<>();
    private final Map<String, List<Target>> shortHosts = new HashMap<>();
    /** Every address contains a target's Service name: values without one are rejected cheaply. */
    private final List<String> names;

    public AddressMatcher(List<Target> targets, String clusterDomain) {
        String domain = clusterDomain.toLowerCase(Locale.ROOT).replaceAll("^\\.+|\\.+$", "");
        for (Target t : targets) {
            String base = t.name() + "." + t.namespace();
            for (String host : List.of(base, base + ".svc", base + ".svc." + domain)) {
                qualifiedHosts.computeIfAbsent(host, k -> new ArrayList<>()).add(t);
            }
            shortHosts.computeIfAbsent(t.name(), k -> new ArrayList<>()).add(t);
        }
        names = targets.stream().map(Target::name).distinct().toList();
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
        if (v.startsWith("dns:///")) {
            v = v.substring("dns:///".length());
        } else {
            v = SCHEME.matcher(v).replaceFirst("");
        }
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
        final Integer wanted = port;
        return hostTargets(host, podNamespace).stream()
                .filter(t -> wanted == null || t.port() == wanted)
                .findFirst();
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
        for (String token : SEPARATORS.split(text)) {
            if (token.isEmpty()) {
                continue;
            }
            Optional<Target> t = matchValue(token, podNamespace);
            if (t.isEmpty()) {
                var m = KEY_PREFIX.matcher(token);
                if (m.find() && !token.substring(0, m.end()).contains("://")) {
                    t = matchValue(token.substring(m.end()), podNamespace);
                }
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
