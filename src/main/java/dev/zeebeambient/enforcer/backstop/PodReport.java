package dev.zeebeambient.enforcer.backstop;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/** Per namespace, per pod, one line for {@code /status}; thread-safe, empty namespaces dropped. */
final class PodReport {

    private final Map<String, Map<String, String>> byNamespace = new ConcurrentHashMap<>();

    void put(String ns, String pod, String text) {
        byNamespace.computeIfAbsent(ns, k -> new ConcurrentHashMap<>()).put(pod, text);
    }

    boolean contains(String ns, String pod) {
        Map<String, String> m = byNamespace.get(ns);
        return m != null && m.containsKey(pod);
    }

    void remove(String ns, String pod) {
        byNamespace.computeIfPresent(ns, (k, m) -> {
            m.remove(pod);
            return m.isEmpty() ? null : m;
        });
    }

    void clear() {
        byNamespace.clear();
    }

    int size() {
        return byNamespace.values().stream().mapToInt(Map::size).sum();
    }

    /** A sorted copy. */
    Map<String, Map<String, String>> snapshot() {
        Map<String, Map<String, String>> out = new TreeMap<>();
        byNamespace.forEach((ns, m) -> {
            if (!m.isEmpty()) {
                out.put(ns, new TreeMap<>(m));
            }
        });
        return out;
    }
}
