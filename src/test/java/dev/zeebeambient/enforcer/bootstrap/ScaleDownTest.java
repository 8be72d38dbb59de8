package dev.zeebeambient.enforcer.bootstrap;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** When cleanup may run after scaling down: nobody holds the leader Lease, or its holder stopped renewing it. */
class ScaleDownTest {

    static final Instant NOW = Instant.parse("2026-12-02T10:00:00Z");

    static Lease lease(String holder, Instant renewed, Integer seconds) {
        return new LeaseBuilder().withNewMetadata().withName("zeebe-ambient-enforcer-leader").endMetadata().withNewSpec()
                .withHolderIdentity(holder).withRenewTime(renewed == null ? null : ZonedDateTime.ofInstant(renewed, ZoneOffset.UTC))
                .withLeaseDurationSeconds(seconds).endSpec().build();
    }

    @Test
    void cleanupWaitsOnlyForALiveHolder() {
        assertEquals(Optional.empty(), ScaleDown.leaseHeld(null, NOW), "no Lease yet");
        assertEquals(Optional.empty(), ScaleDown.leaseHeld(lease(null, NOW, 15), NOW), "released (SIGTERM)");
        assertEquals(Optional.empty(), ScaleDown.leaseHeld(lease("", NOW, 15), NOW), "released");
        assertEquals(Optional.empty(), ScaleDown.leaseHeld(lease("pod-a", NOW.minusSeconds(16), 15), NOW), "expired (holder killed)");
        Optional<String> held = ScaleDown.leaseHeld(lease("pod-a", NOW.minusSeconds(5), 15), NOW);
        assertTrue(held.isPresent() && held.get().startsWith("pod-a holds it until 2026-12-02T10:00:10Z"), held.toString());
        assertTrue(ScaleDown.leaseHeld(lease("pod-a", null, 15), NOW).isPresent(), "a holder without renew time is not assumed gone");
    }
}
