package dev.zeebeambient.enforcer.enrollment;

/** Who enrolled a pod: recorded in its {@code enrolled-by} annotation and the enrollments metric. */
public enum Origin implements dev.zeebeambient.enforcer.tags.Tagged {
    /** the webhook, when the pod was created */
    ADMISSION,
    /** the backstop, on a running pod the webhook missed */
    BACKSTOP,
    /** the in-API-server enroll policy (webhook-config/components/enroll-policy, rendered by the chart), when the pod was created */
    POLICY;
}
