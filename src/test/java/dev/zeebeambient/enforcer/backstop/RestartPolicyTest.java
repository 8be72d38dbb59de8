package dev.zeebeambient.enforcer.backstop;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    /** When a restart cannot help (and would loop): each reason, and the cases where it helps. */
    @Test
    void aRestartThatCannotHelpIsNotMade() {
        Instant restart = Instant.parse("2026-11-26T12:00:00.800Z");
        java.util.Optional<String> enrolled = java.util.Optional.empty();
        assertEquals(java.util.Optional.empty(), RestartPolicy.pointless(true, restart.minusSeconds(3600), null, enrolled),
                "ran, never restarted by us, its new pods are enrolled: restart");
        assertEquals(java.util.Optional.empty(), RestartPolicy.pointless(true, restart.minusSeconds(60), restart, enrolled),
                "created before our restart: the rollout replaces it");
        assertEquals(java.util.Optional.empty(), RestartPolicy.pointless(true, Instant.parse("2026-11-26T12:00:00Z"), restart, enrolled),
                "same second as our restart (whole seconds): may be from before it");
        assertTrue(RestartPolicy.pointless(false, restart.minusSeconds(60), null, enrolled).orElseThrow().contains("had not run"));
        assertTrue(RestartPolicy.pointless(true, Instant.parse("2026-11-26T12:00:01Z"), restart, enrolled).orElseThrow()
                .contains("created after the enforcer restarted the workload"));
        assertTrue(RestartPolicy.pointless(true, restart.minusSeconds(60), null, java.util.Optional.of("not-a-client: no address"))
                .orElseThrow().contains("would not be enrolled at admission either (not-a-client: no address)"));
    }
}
