package dev.zeebeambient.enforcer.enrollment;

/** Who enrolled a pod: recorded in its {@code enrolled-by} annotation and the enrollments metric. */
public enum Origin {
    /** the webhook, when the pod was created */
    ADMISSION,
    /** the backstop, on a running pod the webhook missed */
    BACKSTOP;

    public String tag() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    @Override
    public String toString() {
        return tag();
    }
}
