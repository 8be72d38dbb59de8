package dev.zeebeambient.enforcer.backstop;

/** What the backstop tells {@code /status}, per namespace and pod (the leader's view). */
final class Reports {

    /** Detected client pods that are not enrolled, and why (audit mode, patch keeps failing). */
    final PodReport notEnrolled = new PodReport();
    /** Pods enrolled while running, until deleted: their old connections bypass the waypoint (restart advice). */
    final PodReport enrolledRunning = new PodReport();
    /** Running clients of a gateway Service that is not behind the waypoint, and which one. */
    final PodReport bypassing = new PodReport();

    /** Nothing to report about the pod now (it may still be listed as enrolled while running). */
    void forget(String ns, String pod) {
        bypassing.remove(ns, pod);
        notEnrolled.remove(ns, pod);
    }

    /** The pod is gone (deleted, or its namespace is no longer watched). */
    void gone(String ns, String pod) {
        forget(ns, pod);
        enrolledRunning.remove(ns, pod);
    }

    void clear() {
        notEnrolled.clear();
        enrolledRunning.clear();
        bypassing.clear();
    }
}
