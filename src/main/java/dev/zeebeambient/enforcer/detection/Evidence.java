package dev.zeebeambient.enforcer.detection;

/**
 * Why a pod is a Zeebe client: which container, which source (env var, argument, ConfigMap
 * key) and which target it points at. {@link #describe()} is what the reason annotation and
 * the log say.
 */
public record Evidence(String container, String source, Target target) {

    public String describe() {
        return "container " + container + ": " + source + " -> " + target;
    }
}
