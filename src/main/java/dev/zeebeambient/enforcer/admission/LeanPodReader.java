package dev.zeebeambient.enforcer.admission;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import dev.zeebeambient.enforcer.kube.PodProjection;
import io.fabric8.kubernetes.api.model.ConfigMapVolumeSource;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarSource;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.ProjectedVolumeSource;
import io.fabric8.kubernetes.api.model.SecretVolumeSource;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The pod of an admission request, read straight from its JSON tree: only what the decision and the
 * verdict read, no {@code treeToValue(tree, Pod.class)}. Binding a whole pod into fabric8's model
 * (every field, images, probes, resources, status, additionalProperties maps) was most of the work
 * of a review; the decision reads a small part of it.
 * <p>
 * What it reads is {@link PodProjection}'s projection (the backstop's trimmed pod, which
 * {@code TrimmedPodDecisionTest} proves decides like the full pod), plus {@code metadata.generateName}:
 * the projection drops it, but {@link Verdict} names a pod without a name by it ("ns/worker-7d9f-*").
 * For a pod of the usual shape the result equals {@code PodProjection.trim(fabric8 pod)} with generateName
 * (LeanPodReaderTest).
 * <p>
 * Hot, common parts (metadata strings and maps, container name/command/args, env name/value) are read
 * by hand. Rare small objects (env valueFrom, envFrom entries, volumeMounts, the configMap/secret/projected
 * of a volume, ownerReferences) are bound by fabric8 one by one: the same classes, the same semantics
 * (Quantity, unknown fields, nested lists). Binding one costs ~0.3 us against ~0.05 us by hand (an owner
 * reference, measured on the dev machine), while a whole review costs ~30 us: not worth a hand-written copy.
 * <p>
 * <b>Bad input.</b> Every field read is type-checked. A value of any other JSON type than the one the
 * API server sends (a number where a string goes, {@code "containers": 42}, a null list entry, a label
 * value that is an object) is not guessed at here: the whole tree then goes through fabric8 as before
 * this class existed and the full fabric8 pod is returned; fabric8 coerces what Jackson coerces ({@code "name":
 * 42} is "42", {@code "hostNetwork": "true"} is true) and refuses the rest (then {@code null}:
 * {@link Verdict#undecodable}). Matching Jackson's coercion rules by hand would be a second copy of them to get
 * wrong; being stricter would make pods undecodable that were decided before. So for every field read, odd
 * input gets exactly the old answer; only well-typed pods take the fast path, and a real API server only sends
 * those (it has decoded the pod into its Go type before calling webhooks).
 * An env entry with a key other than name/value/valueFrom goes the same way (PodProjection keeps env entries
 * whole, with fabric8's additionalProperties). Not checked any more: fields the reader does not read (e.g.
 * {@code "image": {}} or {@code "kind": []}, which fabric8 used to refuse) no longer make a pod undecodable;
 * they cannot change the decision.
 */
public final class LeanPodReader {

    private final ObjectMapper mapper;
    private final ObjectReader valueFrom;
    private final ObjectReader envFrom;
    private final ObjectReader volumeMount;
    private final ObjectReader ownerReference;
    private final ObjectReader configMap;
    private final ObjectReader secret;
    private final ObjectReader projected;

    public LeanPodReader(ObjectMapper mapper) {
        this.mapper = mapper;
        // readers are resolved once: per call only the (cached) deserializer runs
        this.valueFrom = mapper.readerFor(EnvVarSource.class);
        this.envFrom = mapper.readerFor(EnvFromSource.class);
        this.volumeMount = mapper.readerFor(VolumeMount.class);
        this.ownerReference = mapper.readerFor(OwnerReference.class);
        this.configMap = mapper.readerFor(ConfigMapVolumeSource.class);
        this.secret = mapper.readerFor(SecretVolumeSource.class);
        this.projected = mapper.readerFor(ProjectedVolumeSource.class);
    }

    /** The pod to decide, or {@code null} if {@code tree} is not a decodable Pod. Never throws for any tree. */
    public Pod read(JsonNode tree) {
        if (tree == null) {
            return null;
        }
        try {
            return pod(tree);
        } catch (Unusual e) {
            return viaFabric8(tree);
        }
    }

    /** The old path, for trees of an unusual shape: fabric8's coercions and refusals, exactly. */
    private Pod viaFabric8(JsonNode tree) {
        try {
            return mapper.treeToValue(tree, Pod.class);
        } catch (Exception e) {
            return null;
        }
    }

    private Pod pod(JsonNode tree) {
        object(tree);
        Pod pod = new Pod();
        pod.setMetadata(metadata(tree.get("metadata")));
        JsonNode spec = tree.get("spec");
        pod.setSpec(isNull(spec) ? null : spec(object(spec)));
        JsonNode status = tree.get("status");
        String phase = isNull(status) ? null : string(object(status).get("phase"));
        if (phase != null) {
            PodStatus s = new PodStatus();
            s.setPhase(phase);
            pod.setStatus(s);
        }
        return pod;
    }

    private ObjectMeta metadata(JsonNode n) {
        // as PodProjection: a missing or null metadata is an empty one; no owner references is null
        ObjectMeta m = new ObjectMeta();
        m.setOwnerReferences(null);
        if (isNull(n)) {
            return m;
        }
        object(n);
        m.setName(string(n.get("name")));
        m.setGenerateName(string(n.get("generateName")));
        m.setNamespace(string(n.get("namespace")));
        m.setUid(string(n.get("uid")));
        m.setResourceVersion(string(n.get("resourceVersion")));
        m.setCreationTimestamp(string(n.get("creationTimestamp")));
        m.setDeletionTimestamp(string(n.get("deletionTimestamp")));
        JsonNode labels = n.get("labels");
        if (labels != null) { // absent: the model's empty map, as fabric8 leaves it
            m.setLabels(stringMap(labels, null));
        }
        JsonNode annotations = n.get("annotations");
        if (annotations != null) {
            m.setAnnotations(stringMap(annotations, PodProjection.LAST_APPLIED));
        }
        m.setOwnerReferences(objects(n.get("ownerReferences"), ownerReference));
        return m;
    }

    private PodSpec spec(JsonNode n) {
        PodSpec s = new PodSpec();
        s.setHostNetwork(bool(n.get("hostNetwork")));
        s.setContainers(containers(n.get("containers")));
        s.setInitContainers(containers(n.get("initContainers")));
        s.setVolumes(volumes(n.get("volumes")));
        return s;
    }

    private List<Container> containers(JsonNode n) {
        if (isNull(n) || array(n).isEmpty()) {
            return null;
        }
        List<Container> out = new ArrayList<>(n.size());
        for (JsonNode c : n) {
            object(c);
            Container container = new Container();
            container.setName(string(c.get("name")));
            container.setCommand(strings(c.get("command")));
            container.setArgs(strings(c.get("args")));
            container.setEnv(env(c.get("env")));
            container.setEnvFrom(objects(c.get("envFrom"), envFrom));
            container.setVolumeMounts(objects(c.get("volumeMounts"), volumeMount));
            out.add(container);
        }
        return out;
    }

    private List<EnvVar> env(JsonNode n) {
        if (isNull(n) || array(n).isEmpty()) {
            return null;
        }
        List<EnvVar> out = new ArrayList<>(n.size());
        for (JsonNode e : n) {
            object(e);
            JsonNode name = e.get("name");
            JsonNode value = e.get("value");
            JsonNode from = e.get("valueFrom");
            if (e.size() > (name == null ? 0 : 1) + (value == null ? 0 : 1) + (from == null ? 0 : 1)) {
                // a key the API server never sends; fabric8 kept it in the EnvVar's additionalProperties
                throw Unusual.INSTANCE;
            }
            EnvVar v = new EnvVar();
            v.setName(string(name));
            v.setValue(string(value));
            v.setValueFrom(bind(from, valueFrom));
            out.add(v);
        }
        return out;
    }

    /** Only volumes that can carry a ConfigMap or Secret, as PodProjection keeps them. */
    private List<Volume> volumes(JsonNode n) {
        if (isNull(n) || array(n).isEmpty()) {
            return null;
        }
        List<Volume> out = new ArrayList<>();
        for (JsonNode v : n) {
            object(v);
            ConfigMapVolumeSource cm = bind(v.get("configMap"), configMap);
            SecretVolumeSource s = bind(v.get("secret"), secret);
            ProjectedVolumeSource p = bind(v.get("projected"), projected);
            String name = string(v.get("name"));
            if (cm != null || s != null || p != null) {
                Volume volume = new Volume();
                volume.setName(name);
                volume.setConfigMap(cm);
                volume.setSecret(s);
                volume.setProjected(p);
                out.add(volume);
            }
        }
        return out.isEmpty() ? null : out;
    }

    // --- typed access: the JSON type the API server sends, or Unusual (the caller falls back to fabric8) ---

    private static boolean isNull(JsonNode n) {
        return n == null || n.isNull();
    }

    private static JsonNode object(JsonNode n) {
        if (n == null || !n.isObject()) {
            throw Unusual.INSTANCE;
        }
        return n;
    }

    private static JsonNode array(JsonNode n) {
        if (!n.isArray()) {
            throw Unusual.INSTANCE;
        }
        return n;
    }

    private static String string(JsonNode n) {
        if (isNull(n)) {
            return null;
        }
        if (!n.isTextual()) {
            throw Unusual.INSTANCE; // fabric8 turns 42 into "42"; the fallback does that, not this class
        }
        return n.textValue();
    }

    private static Boolean bool(JsonNode n) {
        if (isNull(n)) {
            return null;
        }
        if (!n.isBoolean()) {
            throw Unusual.INSTANCE;
        }
        return n.booleanValue();
    }

    /** A list of strings; null entries stay, as fabric8 keeps them. Empty is null, as in PodProjection. */
    private static List<String> strings(JsonNode n) {
        if (isNull(n) || array(n).isEmpty()) {
            return null;
        }
        List<String> out = new ArrayList<>(n.size());
        for (JsonNode s : n) {
            out.add(string(s));
        }
        return out;
    }

    /** A string map (null values stay, as fabric8 keeps them) without {@code drop}. */
    private static Map<String, String> stringMap(JsonNode n, String drop) {
        if (n.isNull()) {
            return null;
        }
        object(n);
        Map<String, String> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String value = string(e.getValue()); // checked even when dropped: fabric8 refused a wrong type there too
            if (!e.getKey().equals(drop)) {
                out.put(e.getKey(), value);
            }
        }
        return out;
    }

    /** A list of small objects bound by fabric8; no null entries. Empty is null, as in PodProjection. */
    private static <T> List<T> objects(JsonNode n, ObjectReader reader) {
        if (isNull(n) || array(n).isEmpty()) {
            return null;
        }
        List<T> out = new ArrayList<>(n.size());
        for (JsonNode o : n) {
            out.add(bind(object(o), reader));
        }
        return out;
    }

    private static <T> T bind(JsonNode n, ObjectReader reader) {
        if (isNull(n)) {
            return null;
        }
        object(n);
        try {
            return reader.readValue(n);
        } catch (IOException | RuntimeException e) {
            // whatever fabric8 does with it (a bad Quantity, a wrong type inside): its answer for the whole pod decides
            throw Unusual.INSTANCE;
        }
    }

    /** Control flow only (no stack trace): the tree has a shape this class leaves to fabric8. */
    private static final class Unusual extends RuntimeException {
        static final Unusual INSTANCE = new Unusual();

        private Unusual() {
            super("unusual pod JSON", null, false, false);
        }
    }
}
