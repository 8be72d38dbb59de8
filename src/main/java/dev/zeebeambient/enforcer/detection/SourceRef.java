package dev.zeebeambient.enforcer.detection;

/** A ConfigMap or Secret a pod reads (env, envFrom or a mounted volume), in the pod's namespace. */
public record SourceRef(Kind kind, String name) {

    public enum Kind { CONFIGMAP, SECRET }

    public static SourceRef configMap(String name) {
        return new SourceRef(Kind.CONFIGMAP, name);
    }

    public static SourceRef secret(String name) {
        return new SourceRef(Kind.SECRET, name);
    }

    @Override
    public String toString() {
        return (kind == Kind.CONFIGMAP ? "configmap/" : "secret/") + name;
    }
}
