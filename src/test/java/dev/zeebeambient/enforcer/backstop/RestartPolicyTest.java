package dev.zeebeambient.enforcer.backstop;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class RestartPolicyTest {

    final RestartPolicy policy = new RestartPolicy(Duration.ofMinutes(1), Duration.ofMinutes(10));
    final Instant now = Instant.parse("2026-11-26T12:00:00Z");

    @Test
    void firstRestartIsImmediate() {
        assertEquals(Duration.ZERO, policy.decide(now, "Deployment a/x", Map.of(), null));
    }

    @Test
    void theNextWorkloadWaitsForTheInterval() {
        assertEquals(Duration.ofSeconds(45), policy.decide(now, "Deployment a/y", Map.of("Deployment a/x", now.minusSeconds(15)),
                now.minusSeconds(15)));
        assertEquals(Duration.ZERO, policy.decide(now, "Deployment a/y", Map.of(), now.minusSeconds(60)));
    }

    @Test
    void aWorkloadIsRestartedOncePerWave() {
        assertNull(policy.decide(now, "Deployment a/x", Map.of("Deployment a/x", now.minusSeconds(30)), now.minusSeconds(30)),
                "its other pods were enrolled in the same wave: one rollout replaces them all");
        assertEquals(Duration.ZERO, policy.decide(now, "Deployment a/x", Map.of("Deployment a/x", now.minus(Duration.ofMinutes(11))),
                now.minus(Duration.ofMinutes(11))));
    }
}
