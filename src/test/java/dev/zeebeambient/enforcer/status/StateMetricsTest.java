package dev.zeebeambient.enforcer.status;

import dev.zeebeambient.enforcer.bootstrap.Phase;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What each replica says about the bootstrap, for the alert {@code max(zeebe_ambient_bootstrap_converged) < 1}. */
class StateMetricsTest {

    @Test
    void aFollowerDoesNotVouchForTheLeader() {
        assertTrue(Double.isNaN(StateMetrics.converged(true, Phase.OBSERVING)), "a follower: unknown, skipped by max()");
        assertEquals(0, StateMetrics.converged(true, Phase.ERROR));
        assertEquals(0, StateMetrics.converged(true, Phase.CONFLICT));
        assertEquals(0, StateMetrics.converged(true, Phase.WAITING_FOR_PRECONDITIONS));
        assertEquals(0, StateMetrics.converged(true, Phase.STARTING));
        assertEquals(1, StateMetrics.converged(true, Phase.CONVERGED));
        assertEquals(1, StateMetrics.converged(false, Phase.OBSERVING), "bootstrap off: nothing to converge");
    }
}
