package dev.zeebeambient.enforcer.config;

import dev.zeebeambient.enforcer.testsupport.TestConfig;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Configuration rules the mapping itself enforces (through the same interceptors as the app). */
class DeprecatedKeysTest {

    @Test
    void oldLeaderElectionKeysStillWork() {
        EnforcerConfig c = TestConfig.with(Map.of("enforcer.bootstrap.leader-election.lease-duration", "42s",
                "enforcer.bootstrap.leader-election.enabled", "false"));
        assertEquals(Duration.ofSeconds(42), c.leaderElection().leaseDuration());
        assertFalse(c.leaderElection().enabled());
        assertEquals(Duration.ofSeconds(2), c.leaderElection().retryPeriod(), "unset keys keep their defaults");
    }

    @Test
    void theNewKeyWinsOverTheOld() {
        EnforcerConfig c = TestConfig.with(Map.of("enforcer.bootstrap.leader-election.lease-duration", "42s",
                "enforcer.leader-election.lease-duration", "7s"));
        assertEquals(Duration.ofSeconds(7), c.leaderElection().leaseDuration());
    }

    @Test
    void anUnknownModeFailsStartUp() {
        RuntimeException e = assertThrows(RuntimeException.class, () -> TestConfig.with(Map.of("enforcer.bootstrap.mode", "clean")));
        assertTrue(e.getMessage().contains("enforcer.bootstrap.mode"), e.getMessage());
    }
}
