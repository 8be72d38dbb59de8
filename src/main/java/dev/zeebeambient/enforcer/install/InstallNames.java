package dev.zeebeambient.enforcer.install;

/** Names of the objects the chart installs that the enforcer and its tests refer to. */
public final class InstallNames {

    /** The ServiceAccount, Deployment, Service and webhook configuration. */
    public static final String NAME = "zeebe-ambient-enforcer";
    /** The MutatingAdmissionPolicy (and its binding) that enrolls literal clients inside the API server. */
    public static final String ENROLL_POLICY = "zeebe-ambient-enforcer-enroll";
    /** The ValidatingAdmissionPolicy that tells the kubectl user why the enroll policy enrolled a pod. */
    public static final String ENROLL_WARNING = "zeebe-ambient-enforcer-enroll-warning";
    /** Named under {@link #ENROLL_POLICY} on purpose: everything that selects the policy's objects by that prefix gets it too. */
    public static final String BYPASS_WARNING = "zeebe-ambient-enforcer-enroll-bypass-warning";
    /** The ValidatingAdmissionPolicy that limits what the enforcer may change in a pod. */
    public static final String POD_PATCHES = "zeebe-ambient-enforcer-pod-patches";
    /** The ValidatingAdmissionPolicy that limits the workload restarts (restart-workloads). */
    public static final String WORKLOAD_RESTARTS = "zeebe-ambient-enforcer-workload-restarts";
    /** The ConfigMap the enforcer reads its configuration from (envFrom) and the chart renders every object from. */
    public static final String CONFIG_MAP = "zeebe-ambient-enforcer-config";

    private InstallNames() {
    }
}
