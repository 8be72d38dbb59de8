package dev.zeebeambient.enforcer.backstop;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

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

    /**
     * Why a restart would not help, or empty when it would. A restart only moves connections that
     * were opened outside the waypoint, and only if the pods it brings are enrolled at admission;
     * otherwise the replacements are enrolled late again and the next window restarts again (a loop).
     *
     * @param containersRan          whether a container of the pod ever ran (a pod labelled before any did
     *                               opens its connections through the waypoint)
     * @param podCreated             the pod's creation time (null: unknown)
     * @param ourLastRestart          the enforcer's last rollout restart of the workload (null: none); a pod created
     *                               after it was missed at admission although the restart meant to fix that
     * @param replacementsNotEnrolled why pods from the workload's template would not be enrolled at admission
     *                               (empty: they would be)
     */
    public static Optional<String> pointless(boolean containersRan, Instant podCreated, Instant ourLastRestart,
            Optional<String> replacementsNotEnrolled) {
        if (!containersRan) {
            return Optional.of("its containers had not run yet, so no connection was opened outside the waypoint");
        }
        // whole seconds on both sides: a pod of the same second may be from before the restart (its rollout replaces it)
        if (podCreated != null && ourLastRestart != null
                && podCreated.isAfter(ourLastRestart.truncatedTo(java.time.temporal.ChronoUnit.SECONDS))) {
            return Optional.of("it was created after the enforcer restarted the workload (" + ourLastRestart + ") and still "
                    + "missed at admission; another restart would only repeat that");
        }
        return replacementsNotEnrolled.map(why -> "its new pods would not be enrolled at admission either (" + why + ")");
    }
}
