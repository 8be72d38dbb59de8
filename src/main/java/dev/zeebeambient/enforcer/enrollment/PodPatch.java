package dev.zeebeambient.enforcer.enrollment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The patches that enroll a pod: {@code istio.io/dataplane-mode=ambient} plus the reason
 * annotation.
 * <ul>
 * <li>{@link #enroll}: RFC 6902, for the webhook, built from the pod exactly as the API server sent
 * it. A missing {@code labels}/{@code annotations} map is added whole (a JSON Patch {@code add}
 * cannot create parents); keys are escaped per RFC 6901.</li>
 * <li>{@link #mergeEnroll}: RFC 7386, for the backstop, which only holds a projection of the pod
 * (it drops kubectl's last-applied annotation, so an absent map there does not mean an absent map
 * on the server). A merge patch adds keys and never replaces a map, whatever the live object
 * holds; its {@code resourceVersion} makes the API server refuse it (409) if the pod changed since
 * the decision.</li>
 * </ul>
 */
public final class PodPatch {

    private PodPatch() {
    }

    public static ArrayNode enroll(JsonNode pod, Map<String, String> labels, Map<String, String> annotations) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ArrayNode ops = f.arrayNode();
        JsonNode metadata = pod == null ? null : pod.get("metadata");
        if (metadata == null || !metadata.isObject()) {
            ObjectNode meta = f.objectNode();
            meta.set("labels", map(labels));
            meta.set("annotations", map(annotations));
            ops.add(op("add", "/metadata", meta));
            return ops;
        }
        addAll(ops, metadata, "labels", labels);
        addAll(ops, metadata, "annotations", annotations);
        return ops;
    }

    public static ObjectNode mergeEnroll(String resourceVersion, Map<String, String> labels, Map<String, String> annotations) {
        ObjectNode patch = JsonNodeFactory.instance.objectNode();
        ObjectNode meta = patch.putObject("metadata");
        if (resourceVersion != null) {
            meta.put("resourceVersion", resourceVersion);
        }
        meta.set("labels", map(labels));
        if (!annotations.isEmpty()) {
            meta.set("annotations", map(annotations));
        }
        return patch;
    }

    private static void addAll(ArrayNode ops, JsonNode metadata, String field, Map<String, String> entries) {
        if (entries.isEmpty()) {
            return;
        }
        JsonNode existing = metadata.get(field);
        if (existing == null || !existing.isObject()) {
            // absent or null: add the whole map ("add" replaces a null value too)
            ops.add(op("add", "/metadata/" + field, map(entries)));
            return;
        }
        entries.forEach((k, v) -> ops.add(op("add", "/metadata/" + field + "/" + escape(k), JsonNodeFactory.instance.textNode(v))));
    }

    /** RFC 6901: {@code ~} is {@code ~0}, {@code /} is {@code ~1} (in this order). */
    public static String escape(String key) {
        return key.replace("~", "~0").replace("/", "~1");
    }

    private static ObjectNode op(String op, String path, JsonNode value) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("op", op);
        o.put("path", path);
        o.set("value", value);
        return o;
    }

    private static ObjectNode map(Map<String, String> entries) {
        ObjectNode m = JsonNodeFactory.instance.objectNode();
        new LinkedHashMap<>(entries).forEach(m::put);
        return m;
    }
}
