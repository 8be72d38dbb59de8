package dev.zeebeambient.enforcer.admission;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.concurrent.TimeUnit;

/**
 * Admission metrics (names in README):
 * {@code zeebe_ambient_admission_requests_total{decision,reason,dry_run}},
 * {@code zeebe_ambient_admission_duration_seconds}, {@code zeebe_ambient_admission_errors_total{stage}}
 * (enrollments: {@code EnrollmentMetrics}).
 */
@ApplicationScoped
public class AdmissionMetrics {

    private final MeterRegistry registry;
    private final Timer duration;

    public AdmissionMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.duration = Timer.builder("zeebe.ambient.admission.duration")
                .description("Time to answer one AdmissionReview (decode, decide, patch, encode)")
                // buckets, not client-side percentiles: they aggregate across replicas in Prometheus
                .serviceLevelObjectives(java.time.Duration.ofMillis(1), java.time.Duration.ofMillis(5),
                        java.time.Duration.ofMillis(10), java.time.Duration.ofMillis(50), java.time.Duration.ofMillis(100),
                        java.time.Duration.ofMillis(500), java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(5))
                .register(registry);
    }

    /** decision: {@link Verdict.Kind#tag()}; reason: the decision's reason tag. */
    public void request(String decision, String reason, boolean dryRun, long startNanos) {
        registry.counter("zeebe.ambient.admission.requests", "decision", decision, "reason", reason,
                "dry_run", Boolean.toString(dryRun)).increment();
        duration.record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
    }

    /** stage: decode (answered 400) | internal (our bug; pod admitted unchanged). */
    public void error(String stage) {
        registry.counter("zeebe.ambient.admission.errors", "stage", stage).increment();
    }
}
