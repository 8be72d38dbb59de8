package dev.zeebeambient.enforcer.decision;

import dev.zeebeambient.enforcer.detection.Evidence;

import java.util.Optional;

/**
 * The outcome for one pod: enroll or skip, the named reason, a human sentence, and the
 * client evidence when there is one (always for {@link Reason#ZEEBE_CLIENT}; for notable
 * skips it says that a client was left out).
 */
public record Decision(Reason reason, String detail, Optional<Evidence> evidence) {

    public boolean enroll() {
        return reason.enroll();
    }

    static Decision of(Reason reason, String detail) {
        return new Decision(reason, detail, Optional.empty());
    }
}
