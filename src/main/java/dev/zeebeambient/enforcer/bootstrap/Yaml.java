package dev.zeebeambient.enforcer.bootstrap;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * YAML text for ConfigMap values istiod parses (the waypoint defaults' strategic-merge patch).
 * Keys are sorted so the same configuration always gives the same bytes (no write on restart).
 */
final class Yaml {

    private static final YAMLMapper YAML = YAMLMapper.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS) // cpu: "32" stays a string
            .build();

    private Yaml() {
    }

    static String write(Object value) {
        try {
            return YAML.writeValueAsString(sorted(value));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write YAML", e);
        }
    }

    private static Object sorted(Object value) {
        if (value instanceof Map<?, ?> m) {
            Map<String, Object> out = new TreeMap<>();
            m.forEach((k, v) -> out.put(String.valueOf(k), sorted(v)));
            return out;
        }
        if (value instanceof List<?> l) {
            return l.stream().map(Yaml::sorted).toList();
        }
        return value;
    }
}
