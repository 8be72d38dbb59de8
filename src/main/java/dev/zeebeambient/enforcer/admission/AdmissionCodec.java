package dev.zeebeambient.enforcer.admission;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.filter.FilteringParserDelegate;
import com.fasterxml.jackson.core.filter.TokenFilter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes {@code admission.k8s.io/v1} AdmissionReviews. {@code metadata.managedFields}
 * of the object is skipped while parsing (never materialised): it can be most of a pod's bytes
 * and the decision never needs it.
 */
public final class AdmissionCodec {

    public static final String API_VERSION = "admission.k8s.io/v1";
    public static final String KIND = "AdmissionReview";

    private final ObjectMapper mapper;

    public AdmissionCodec(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    public AdmissionRequest decode(byte[] body) throws BadReviewException {
        if (body == null || body.length == 0) {
            throw new BadReviewException("empty body: expected an " + API_VERSION + " AdmissionReview");
        }
        JsonNode root;
        // duplicate keys are refused: the API server never sends them, and "last one wins" could hide a field
        try (JsonParser parser = new FilteringParserDelegate(
                mapper.createParser(body).enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION), SkipManagedFields.ROOT,
                TokenFilter.Inclusion.INCLUDE_ALL_AND_PATH, true)) {
            root = mapper.readTree(parser);
        } catch (JsonProcessingException e) {
            throw new BadReviewException("malformed JSON: " + e.getOriginalMessage() + location(e));
        } catch (IOException | RuntimeException e) {
            throw new BadReviewException("unreadable body: " + e.getClass().getSimpleName());
        }
        if (root == null || !root.isObject()) {
            throw new BadReviewException("body is not a JSON object: expected an " + API_VERSION + " AdmissionReview");
        }
        String apiVersion = text(root.get("apiVersion"));
        if (!API_VERSION.equals(apiVersion)) {
            throw new BadReviewException("unsupported apiVersion '" + apiVersion + "': expected " + API_VERSION);
        }
        String kind = text(root.get("kind"));
        if (!KIND.equals(kind)) {
            throw new BadReviewException("unsupported kind '" + kind + "': expected " + KIND);
        }
        JsonNode request = root.get("request");
        if (request == null || !request.isObject()) {
            throw new BadReviewException("missing 'request' object in AdmissionReview");
        }
        String uid = text(request.get("uid"));
        if (uid == null || uid.isBlank()) {
            throw new BadReviewException("missing 'request.uid' (a non-empty string) in AdmissionReview");
        }
        JsonNode kindNode = request.path("kind");
        JsonNode object = request.get("object");
        return new AdmissionRequest(uid, text(kindNode.get("group")), text(kindNode.get("kind")),
                text(request.get("subResource")), text(request.get("operation")), text(request.get("namespace")),
                text(request.get("name")), request.path("dryRun").asBoolean(false),
                object == null || object.isNull() ? null : object);
    }

    /** An AdmissionReview response; {@code patch} may be null (no mutation). */
    public byte[] encode(String uid, ArrayNode patch, List<String> warnings) {
        ObjectNode review = mapper.createObjectNode();
        review.put("apiVersion", API_VERSION);
        review.put("kind", KIND);
        ObjectNode response = review.putObject("response");
        response.put("uid", uid);
        response.put("allowed", true);
        if (patch != null && !patch.isEmpty()) {
            response.put("patchType", "JSONPatch");
            response.put("patch", Base64.getEncoder().encodeToString(bytes(patch)));
        }
        if (!warnings.isEmpty()) {
            ArrayNode w = response.putArray("warnings");
            warnings.forEach(w::add);
        }
        return bytes(review);
    }

    public byte[] error(String message) {
        return bytes(mapper.createObjectNode().put("error", message));
    }

    private byte[] bytes(JsonNode node) {
        try {
            return mapper.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise a JSON tree", e);
        }
    }

    private static String text(JsonNode node) {
        return node != null && node.isTextual() ? node.textValue() : null;
    }

    private static String location(JsonProcessingException e) {
        return e.getLocation() == null ? ""
                : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
    }

    /** Excludes {@code request.(object|oldObject).metadata.managedFields}; includes everything else. */
    static final class SkipManagedFields extends TokenFilter {
        static final SkipManagedFields ROOT = new SkipManagedFields(List.of(
                Map.of("request", 1), Map.of("object", 2, "oldObject", 2), Map.of("metadata", 3)), 0);

        private final List<Map<String, Integer>> path;
        private final int depth;

        private SkipManagedFields(List<Map<String, Integer>> path, int depth) {
            this.path = path;
            this.depth = depth;
        }

        @Override
        public TokenFilter includeProperty(String name) {
            if (depth == path.size()) {
                return "managedFields".equals(name) ? null : TokenFilter.INCLUDE_ALL;
            }
            Integer next = path.get(depth).get(name);
            return next == null ? TokenFilter.INCLUDE_ALL : new SkipManagedFields(path, next);
        }

        // Keep empty objects/arrays on the way (Jackson drops them under a partial filter).
        @Override
        public boolean includeEmptyObject(boolean contentsFiltered) {
            return true;
        }

        @Override
        public boolean includeEmptyArray(boolean contentsFiltered) {
            return true;
        }
    }
}
