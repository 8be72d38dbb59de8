package dev.zeebeambient.enforcer.bootstrap;

/** What applying one desired object did. */
public enum ApplyResult implements dev.zeebeambient.enforcer.tags.Tagged {
    CREATED,
    UPDATED,
    /** converged: the API server treated the apply as a no-op */
    UNCHANGED,
    /** another manager owns a field; the message names field and manager */
    CONFLICT,
    ERROR,
    /** not applied: another replica holds the Lease */
    NOT_LEADER;

    public boolean wrote() {
        return this == CREATED || this == UPDATED;
    }

    public boolean inSync() {
        return wrote() || this == UNCHANGED;
    }
}
