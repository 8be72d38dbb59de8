package dev.zeebeambient.enforcer.bootstrap;

import com.fasterxml.jackson.annotation.JsonValue;

/** Where the bootstrapper stands after a pass (as shown in {@code /status} and the health group). */
public enum Phase {
    STARTING("starting"),
    WAITING_FOR_PRECONDITIONS("waiting-for-preconditions"),
    CONVERGED("converged"),
    /** another field manager owns a field we want; reported, not forced */
    CONFLICT("conflict"),
    ERROR("error"),
    /** not the leader: reads only */
    OBSERVING("observing");

    private final String tag;

    Phase(String tag) {
        this.tag = tag;
    }

    @JsonValue
    public String tag() {
        return tag;
    }

    /** The bootstrap health group is UP: nothing left to do here (or another replica does it). */
    public boolean ready() {
        return this == CONVERGED || this == OBSERVING;
    }

    /** Missing CRDs or a failing API: retried with backoff instead of at the resync period. */
    public boolean retrySoon() {
        return this == WAITING_FOR_PRECONDITIONS || this == ERROR;
    }

    @Override
    public String toString() {
        return tag;
    }
}
