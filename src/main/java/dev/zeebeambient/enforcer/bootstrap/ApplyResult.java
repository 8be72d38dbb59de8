package dev.zeebeambient.enforcer.bootstrap;

import com.fasterxml.jackson.annotation.JsonValue;

/** What applying one desired object did. */
public enum ApplyResult {
    CREATED("created"),
    UPDATED("updated"),
    /** converged: the API server treated the apply as a no-op */
    UNCHANGED("unchanged"),
    /** another manager owns a field; the message names field and manager */
    CONFLICT("conflict"),
    ERROR("error"),
    /** not applied: another replica holds the Lease */
    NOT_LEADER("not-leader");

    private final String tag;

    ApplyResult(String tag) {
        this.tag = tag;
    }

    @JsonValue
    public String tag() {
        return tag;
    }

    public boolean wrote() {
        return this == CREATED || this == UPDATED;
    }

    public boolean inSync() {
        return wrote() || this == UNCHANGED;
    }

    @Override
    public String toString() {
        return tag;
    }
}
