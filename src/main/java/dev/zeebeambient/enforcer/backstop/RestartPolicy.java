package dev.zeebeambient.enforcer.backstop;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * When the backstop may restart a workload whose pods it enrolled while they ran (pure, like
 * JOSDK's rate limiters): never the same workload twice within {@code perWorkload} (one rollout
 * replaces all its pods, which are enrolled in the same wave), and at most one restart per
 * {@code interval} overall (a namespace opting in must not roll every workload at once).
 */
public record RestartPolicy(Duration interval, Duration perWorkload) {

    /** {@code Duration.ZERO}: restart now; else how long to wait; null: not at all (restarted recently). */
    public Duration decide(Instant now, String workload, Map<String, Instant> restarted, Instant lastRestart) {
        Instant previous = restarted.get(workload);
        if (previous != null && previous.plus(perWorkload).isAfter(now)) {
            return null;
        }
        if (lastRestart != null && lastRestart.plus(interval).isAfter(now)) {
            return Duration.between(now, lastRestart.plus(interval));
        }
        return Duration.ZERO;
    }
}
