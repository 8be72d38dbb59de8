package dev.zeebeambient.enforcer.enrollment;

import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;

/** {@code zeebe_ambient_enrollments_total{origin}}: pods enrolled, by the webhook or the backstop. */
@ApplicationScoped
public class EnrollmentMetrics {

    private final MeterRegistry registry;

    public EnrollmentMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Dry runs are not enrollments: callers do not count them. */
    public void enrolled(Origin origin) {
        registry.counter("zeebe.ambient.enrollments", "origin", origin.tag()).increment();
    }
}
