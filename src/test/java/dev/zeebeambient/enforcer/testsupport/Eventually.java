package dev.zeebeambient.enforcer.testsupport;

import org.awaitility.Awaitility;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Awaitility with the condition named in the failure message. */
public final class Eventually {

    private Eventually() {
    }

    /** Waits until {@code condition} holds, at most {@code seconds}. */
    public static void await(BooleanSupplier condition, int seconds, String what) {
        Awaitility.await(what).atMost(Duration.ofSeconds(seconds)).pollInterval(Duration.ofMillis(100))
                .ignoreExceptions().until(condition::getAsBoolean);
    }

    /** Checks that {@code condition} holds for the whole of {@code duration} (e.g. "nothing is written"). */
    public static void stays(BooleanSupplier condition, Duration duration, String what) {
        Awaitility.await(what).during(duration).atMost(duration.plusSeconds(5)).pollInterval(Duration.ofMillis(100))
                .until(condition::getAsBoolean);
    }
}
