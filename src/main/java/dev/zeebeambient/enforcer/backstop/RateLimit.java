package dev.zeebeambient.enforcer.backstop;

/**
 * A token bucket for the backstop's pod patches: {@code perSecond} on average, up to {@code burst}
 * at once. It never sleeps: {@link #tryAcquire(long)} either takes a token or says how long until
 * one is there, and the caller schedules itself for then (the worker thread stays free).
 * Pure apart from its own state; time is passed in.
 */
final class RateLimit {

    private final double perNano;
    private final double burst;
    private double tokens;
    private long last;
    private boolean started;

    RateLimit(double perSecond, int burst) {
        if (!(perSecond > 0) || burst < 1) {
            throw new IllegalArgumentException("rate " + perSecond + "/s and burst " + burst + " must be positive");
        }
        this.perNano = perSecond / 1e9;
        this.burst = burst;
    }

    /** The default burst: one second's worth, at least 1. */
    static RateLimit perSecond(double perSecond) {
        return new RateLimit(perSecond, (int) Math.max(1, Math.ceil(perSecond)));
    }

    /** 0 when a token was taken now; otherwise the nanoseconds until one is available (nothing taken). */
    synchronized long tryAcquire(long nowNanos) {
        if (!started) {
            started = true;
            tokens = burst;
        } else {
            tokens = Math.min(burst, tokens + (nowNanos - last) * perNano);
        }
        last = nowNanos;
        if (tokens >= 1) {
            tokens -= 1;
            return 0;
        }
        return Math.max(1, (long) Math.ceil((1 - tokens) / perNano));
    }
}
