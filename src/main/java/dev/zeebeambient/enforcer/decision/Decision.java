package dev.zeebeambient.enforcer.decision;

import dev.zeebeambient.enforcer.detection.Evidence;

import java.util.Optional;

/**
 * The outcome for one pod: enroll or skip, the named reason, a human sentence, and the
 * client evidence when there is one (always for {@link Reason#ZEEBE_CLIENT}; for notable
 * skips it says that a client was left out), and for a client that bypasses the waypoint the
 * address to use instead ({@code fix}: its own field, so that no caller cuts it out of the sentence).
 */
public record Decision(Reason reason, String detail, Optional<Evidence> evidence, Optional<String> fix) {

    public Decision(Reason reason, String detail, Optional<Evidence> evidence) {
        this(reason, detail, evidence, Optional.empty());
    }

    public boolean enroll() {
        return reason.enroll();
    }

    static Decision of(Reason reason, String detail) {
        return new Decision(reason, detail, Optional.empty());
    }
}
