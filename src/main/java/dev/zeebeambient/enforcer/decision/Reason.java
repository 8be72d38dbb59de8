package dev.zeebeambient.enforcer.decision;

/**
 * Every outcome of the enrollment decision, with the short tag used in metrics and logs.
 * {@code notable} skips produce a warning for the kubectl user when the pod is a Zeebe client.
 */
public enum Reason {
    ZEEBE_CLIENT("zeebe-client", true, false),
    EXPLICIT_OPT_IN("explicit-opt-in", true, false),
    GATEWAY_POD("gateway-pod", true, false),

    EXCLUDED_NAMESPACE("excluded-namespace", false, false),
    MIRROR_POD("mirror-pod", false, false),
    HOST_NETWORK("host-network", false, true),
    ALREADY_AMBIENT("already-ambient", false, false),
    DATAPLANE_NONE("dataplane-mode-none", false, true),
    DATAPLANE_OTHER("dataplane-mode-unknown", false, true),
    OPTED_OUT("opted-out", false, true),
    NAMESPACE_NOT_OPTED_IN("namespace-not-opted-in", false, false),
    NAMESPACE_AMBIENT("namespace-ambient", false, false),
    NAMESPACE_DATAPLANE_NONE("namespace-dataplane-mode-none", false, true),
    SIDECAR("sidecar", false, true),
    GATEWAY_BACKEND("gateway-backend", false, false),
    /** talks to a known gateway Service that is not a target: not behind the waypoint, balanced per connection */
    BYPASSES_WAYPOINT("bypasses-waypoint", false, true),
    NOT_A_CLIENT("not-a-client", false, false);

    private final String tag;
    private final boolean enroll;
    private final boolean notable;

    Reason(String tag, boolean enroll, boolean notable) {
        this.tag = tag;
        this.enroll = enroll;
        this.notable = notable;
    }

    public String tag() {
        return tag;
    }

    public boolean enroll() {
        return enroll;
    }

    public boolean notable() {
        return notable;
    }
}
