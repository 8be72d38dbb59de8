package dev.zeebeambient.enforcer.backstop;

import java.time.Duration;
import java.util.Optional;

/**
 * When to try a failed pod patch again: 1 s, 2 s, 4 s, ... capped at {@code maxDelay}; after
 * {@code maxAttempts} failures, not until the pod changes or the next resync. Pure.
 */
record RetryPolicy(int maxAttempts, Duration firstDelay, Duration maxDelay) {

    static RetryPolicy of(int maxAttempts) {
        return new RetryPolicy(maxAttempts, Duration.ofSeconds(1), Duration.ofSeconds(64));
    }

    /** The delay before attempt {@code failures + 1}, or empty when {@code failures} is enough to give up. */
    Optional<Duration> afterFailures(int failures) {
        if (failures < 1) {
            return Optional.of(Duration.ZERO);
        }
        if (failures >= maxAttempts) {
            return Optional.empty();
        }
        Duration d = firstDelay.multipliedBy(1L << Math.min(failures - 1, 30));
        return Optional.of(d.compareTo(maxDelay) > 0 ? maxDelay : d);
    }
}
