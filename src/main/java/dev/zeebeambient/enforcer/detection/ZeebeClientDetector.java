package dev.zeebeambient.enforcer.detection;

import io.fabric8.kubernetes.api.model.ConfigMapProjection;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarSource;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.SecretProjection;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeProjection;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Decides whether a pod spec talks to a target gateway, looking where Zeebe clients take the
 * address from: env vars (literal, {@code configMapKeyRef}, {@code envFrom}, with Kubernetes'
 * {@code $(VAR)} expansion, {@code fieldRef}s of the pod's own metadata), {@code ZEEBE_HOST}+{@code ZEEBE_PORT},
 * any env value as free text (e.g. {@code JAVA_OPTS}), command/args (shell lines too), and
 * ConfigMaps mounted as files (application.yaml, .properties, JSON, HOCON). Init
 * containers count too. Pure: the ConfigMap/Secret data comes in as {@link ResolvedSources}.
 */
public final class ZeebeClientDetector {

    public static final int DEFAULT_ZEEBE_PORT = 26500;
    static final String ROOT_CA = "kube-root-ca.crt";

    private final AddressMatcher matcher;
    private final boolean readSecrets;

    public ZeebeClientDetector(AddressMatcher matcher, boolean readSecrets) {
        this.matcher = matcher;
        this.readSecrets = readSecrets;
    }

    /** The ConfigMaps (and, if enabled, Secrets) whose data detection needs. */
    public Set<SourceRef> references(PodSpec spec) {
        Set<SourceRef> refs = new LinkedHashSet<>();
        if (spec == null) {
            return refs;
        }
        Map<String, Volume> volumes = volumesByName(spec);
        containers(spec).forEach(c -> {
            for (EnvFromSource from : nonNull(c.getEnvFrom())) {
                if (from.getConfigMapRef() != null && from.getConfigMapRef().getName() != null) {
                    refs.add(SourceRef.configMap(from.getConfigMapRef().getName()));
                }
                if (readSecrets && from.getSecretRef() != null && from.getSecretRef().getName() != null) {
                    refs.add(SourceRef.secret(from.getSecretRef().getName()));
                }
            }
            for (EnvVar env : nonNull(c.getEnv())) {
                keyRef(env.getValueFrom()).ifPresent(k -> refs.add(k.ref()));
            }
            for (VolumeMount mount : nonNull(c.getVolumeMounts())) {
                mountedSources(volumes.get(mount.getName())).forEach(m -> refs.add(m.ref()));
            }
        });
        return refs;
    }

    /** The first evidence that the pod is a client of a target, or empty. */
    public Optional<Evidence> detect(PodSpec spec, String namespace, ResolvedSources sources) {
        return detect(spec, null, namespace, sources);
    }

    /** As above; {@code meta} resolves env vars taken from the pod's own fields ({@code fieldRef}). */
    public Optional<Evidence> detect(PodSpec spec, ObjectMeta meta, String namespace, ResolvedSources sources) {
        if (spec == null) {
            return Optional.empty();
        }
        Map<String, Volume> volumes = volumesByName(spec);
        PodFields fields = new PodFields(meta, namespace);
        for (Container c : containers(spec).toList()) {
            Optional<Evidence> e = detectContainer(c, namespace, sources, volumes, fields);
            if (e.isPresent()) {
                return e;
            }
        }
        return Optional.empty();
    }

    private Optional<Evidence> detectContainer(Container c, String ns, ResolvedSources sources,
            Map<String, Volume> volumes, PodFields fields) {
        String name = c.getName() == null ? "<unnamed>" : c.getName();
        Map<String, Var> env = environment(c, sources, fields);

        for (Var v : env.values()) {
            String normalised = EnvNames.normalise(v.name());
            if (normalised.equals(EnvNames.HOST) || normalised.equals(EnvNames.PORT)) {
                continue; // judged as a pair below
            }
            Optional<Target> t = matcher.matchValue(v.value(), ns);
            if (t.isPresent()) {
                String known = EnvNames.isAddressName(v.name()) ? "" : " (value)";
                return Optional.of(new Evidence(name, v.origin() + known, t.get()));
            }
            // any value that mentions a target is free text, whatever the variable is called
            // (JAVA_OPTIONS, CATALINA_OPTS, app-specific names): -Dkey=value, JSON, shell lines
            var hit = matcher.scan(v.value(), ns);
            if (hit.isPresent()) {
                return Optional.of(new Evidence(name, v.origin() + " contains " + hit.get().token(), hit.get().target()));
            }
        }
        Optional<Evidence> pair = hostAndPort(name, env, ns);
        if (pair.isPresent()) {
            return pair;
        }
        Function<String, String> expand = s -> Expansion.expand(s, env);
        // a shell's -c script without its comments: a commented-out address names no gateway the container talks to
        List<List<String>> scanned = ShellScripts.withoutComments(nonNull(c.getCommand()), nonNull(c.getArgs()));
        for (String field : List.of("command", "args")) {
            List<String> words = field.equals("command") ? scanned.get(0) : scanned.get(1);
            for (String w : words) {
                var hit = matcher.scan(expand.apply(w), ns);
                if (hit.isPresent()) {
                    return Optional.of(new Evidence(name, field + " " + hit.get().token(), hit.get().target()));
                }
            }
        }
        for (VolumeMount mount : nonNull(c.getVolumeMounts())) {
            for (Mounted m : mountedSources(volumes.get(mount.getName()))) {
                Map<String, String> data = sources.get(m.ref());
                if (data == null) {
                    continue;
                }
                for (var entry : data.entrySet()) {
                    if (!m.keys().isEmpty() && !m.keys().contains(entry.getKey())) {
                        continue;
                    }
                    var hit = matcher.scan(entry.getValue(), ns);
                    if (hit.isPresent()) {
                        return Optional.of(new Evidence(name, "mounted " + m.ref() + " key " + entry.getKey()
                                + " contains " + hit.get().token(), hit.get().target()));
                    }
                }
            }
        }
        return Optional.empty();
    }

    private Optional<Evidence> hostAndPort(String container, Map<String, Var> env, String ns) {
        Var host = null;
        Var port = null;
        for (Var v : env.values()) {
            String n = EnvNames.normalise(v.name());
            if (n.equals(EnvNames.HOST)) {
                host = v;
            } else if (n.equals(EnvNames.PORT)) {
                port = v;
            }
        }
        if (host == null) {
            return Optional.empty();
        }
        Integer p = DEFAULT_ZEEBE_PORT; // zbctl and the Go client use 26500 when ZEEBE_PORT is not set
        if (port != null) {
            try {
                p = Integer.parseInt(port.value().trim());
            } catch (NumberFormatException e) {
                return Optional.empty(); // an unusable port is not our target's port
            }
        }
        String source = host.origin() + (port == null ? "" : " + " + port.origin());
        return matcher.matchHost(host.value(), p, ns).map(t -> new Evidence(container, source, t));
    }

    /**
     * The container's environment as the kubelet builds it: envFrom first (with prefix), then
     * env in order, each value expanded against what came before.
     */
    private Map<String, Var> environment(Container c, ResolvedSources sources, PodFields fields) {
        Map<String, Var> env = new LinkedHashMap<>();
        for (EnvFromSource from : nonNull(c.getEnvFrom())) {
            SourceRef ref = null;
            if (from.getConfigMapRef() != null && from.getConfigMapRef().getName() != null) {
                ref = SourceRef.configMap(from.getConfigMapRef().getName());
            } else if (readSecrets && from.getSecretRef() != null && from.getSecretRef().getName() != null) {
                ref = SourceRef.secret(from.getSecretRef().getName());
            }
            Map<String, String> data = ref == null ? null : sources.get(ref);
            if (data == null) {
                continue;
            }
            String prefix = from.getPrefix() == null ? "" : from.getPrefix();
            for (var e : data.entrySet()) {
                String n = prefix + e.getKey();
                env.put(n, new Var(n, e.getValue(), "env " + n + " from envFrom " + ref));
            }
        }
        for (EnvVar e : nonNull(c.getEnv())) {
            if (e.getName() == null) {
                continue;
            }
            if (e.getValueFrom() == null) {
                String value = Expansion.expand(e.getValue() == null ? "" : e.getValue(), env);
                env.put(e.getName(), new Var(e.getName(), value, "env " + e.getName()));
            } else if (e.getValueFrom().getFieldRef() != null) {
                String value = fields.get(e.getValueFrom().getFieldRef().getFieldPath());
                if (value != null) {
                    env.put(e.getName(), new Var(e.getName(), value, "env " + e.getName() + " (from "
                            + e.getValueFrom().getFieldRef().getFieldPath() + ")"));
                }
            } else {
                Optional<KeyRef> k = keyRef(e.getValueFrom());
                Map<String, String> data = k.map(x -> sources.get(x.ref())).orElse(null);
                if (data != null && data.get(k.get().key()) != null) {
                    env.put(e.getName(), new Var(e.getName(), data.get(k.get().key()),
                            "env " + e.getName() + " from " + k.get().ref() + " key " + k.get().key()));
                }
            }
        }
        return env;
    }

    private Optional<KeyRef> keyRef(EnvVarSource from) {
        if (from == null) {
            return Optional.empty();
        }
        var cm = from.getConfigMapKeyRef();
        if (cm != null && cm.getName() != null && cm.getKey() != null) {
            return Optional.of(new KeyRef(SourceRef.configMap(cm.getName()), cm.getKey()));
        }
        var s = from.getSecretKeyRef();
        if (readSecrets && s != null && s.getName() != null && s.getKey() != null) {
            return Optional.of(new KeyRef(SourceRef.secret(s.getName()), s.getKey()));
        }
        return Optional.empty();
    }

    /** ConfigMaps (and Secrets if enabled) a volume puts on disk, with the keys it selects. */
    private List<Mounted> mountedSources(Volume v) {
        List<Mounted> out = new ArrayList<>();
        if (v == null) {
            return out;
        }
        if (v.getConfigMap() != null && v.getConfigMap().getName() != null) {
            out.add(new Mounted(SourceRef.configMap(v.getConfigMap().getName()), keys(v.getConfigMap().getItems())));
        }
        if (readSecrets && v.getSecret() != null && v.getSecret().getSecretName() != null) {
            out.add(new Mounted(SourceRef.secret(v.getSecret().getSecretName()), keys(v.getSecret().getItems())));
        }
        if (v.getProjected() != null) {
            for (VolumeProjection p : nonNull(v.getProjected().getSources())) {
                ConfigMapProjection cm = p.getConfigMap();
                // kube-root-ca.crt is the cluster CA every pod's kube-api-access-* volume projects: never a Zeebe config
                if (cm != null && cm.getName() != null && !cm.getName().equals(ROOT_CA)) {
                    out.add(new Mounted(SourceRef.configMap(cm.getName()), keys(cm.getItems())));
                }
                SecretProjection s = p.getSecret();
                if (readSecrets && s != null && s.getName() != null) {
                    out.add(new Mounted(SourceRef.secret(s.getName()), keys(s.getItems())));
                }
            }
        }
        return out;
    }

    private static Set<String> keys(List<KeyToPath> items) {
        return nonNull(items).stream().map(KeyToPath::getKey).filter(k -> k != null).collect(Collectors.toSet());
    }

    private static Map<String, Volume> volumesByName(PodSpec spec) {
        Map<String, Volume> byName = new LinkedHashMap<>();
        for (Volume v : nonNull(spec.getVolumes())) {
            if (v.getName() != null) {
                byName.put(v.getName(), v);
            }
        }
        return byName;
    }

    private static Stream<Container> containers(PodSpec spec) {
        return Stream.concat(nonNull(spec.getInitContainers()).stream(), nonNull(spec.getContainers()).stream())
                .filter(c -> c != null);
    }

    private static <T> List<T> nonNull(List<T> list) {
        return list == null ? List.of() : list;
    }

    /**
     * The pod fields an env var can take with {@code fieldRef} that are known at admission:
     * namespace, name (empty for generateName pods until the API server names them), labels, annotations.
     */
    record PodFields(ObjectMeta meta, String namespace) {
        private static final java.util.regex.Pattern KEYED = java.util.regex.Pattern.compile(
                "metadata\\.(labels|annotations)\\['([^']+)'\\]");

        String get(String fieldPath) {
            if (fieldPath == null) {
                return null;
            }
            if (fieldPath.equals("metadata.namespace")) {
                return namespace;
            }
            if (meta == null) {
                return null;
            }
            if (fieldPath.equals("metadata.name")) {
                return meta.getName() == null || meta.getName().isEmpty() ? null : meta.getName();
            }
            var m = KEYED.matcher(fieldPath);
            if (m.matches()) {
                Map<String, String> map = m.group(1).equals("labels") ? meta.getLabels() : meta.getAnnotations();
                return map == null ? null : map.get(m.group(2));
            }
            return null;
        }
    }

    /** One effective env var with where it came from (for the reason text). */
    record Var(String name, String value, String origin) {
    }

    private record KeyRef(SourceRef ref, String key) {
    }

    /** A mounted ConfigMap/Secret; empty keys = all keys. */
    private record Mounted(SourceRef ref, Set<String> keys) {
    }
}
