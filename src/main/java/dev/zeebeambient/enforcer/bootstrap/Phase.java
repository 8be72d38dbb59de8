package dev.zeebeambient.enforcer.bootstrap;

/** Where the bootstrapper stands after a pass (as shown in {@code /status} and the health group). */
public enum Phase implements dev.zeebeambient.enforcer.tags.Tagged {
    STARTING,
    WAITING_FOR_PRECONDITIONS,
    CONVERGED,
    /** another field manager owns a field we want; reported, not forced */
    CONFLICT,
    ERROR,
    /** not the leader: reads only */
    OBSERVING;

    /** The bootstrap health group is UP: nothing left to do here (or another replica does it). */
    public boolean ready() {
        return this == CONVERGED || this == OBSERVING;
    }

    /** Missing CRDs or a failing API: retried with backoff instead of at the resync period. */
    public boolean retrySoon() {
        return this == WAITING_FOR_PRECONDITIONS || this == ERROR;
    }
}
