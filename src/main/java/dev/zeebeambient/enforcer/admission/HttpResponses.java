package dev.zeebeambient.enforcer.admission;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Every {@code /mutate} response timed and counted by HTTP status at the HTTP layer (as
 * controller-runtime's instrumented webhook does), before any handler: decode failures (400), the
 * request deadline (408), a too-large body (413) and connections closed before an answer
 * ({@code code="closed"}) are seen too, not only the reviews the handler answered.
 * {@code zeebe_ambient_admission_http_seconds{code}}; the decision and reason stay on
 * {@code zeebe_ambient_admission_requests_total}.
 */
@ApplicationScoped
public class HttpResponses {

    static final String METRIC = "zeebe.ambient.admission.http";

    void install(@Observes Router router, MeterRegistry registry) {
        // before RequestDeadline (-1000), so that its 408 is timed from the first byte
        router.route("/mutate").order(-1001).handler(ctx -> {
            long start = System.nanoTime();
            ctx.addEndHandler(done -> timer(registry, done.succeeded() ? Integer.toString(ctx.response().getStatusCode()) : "closed")
                    .record(System.nanoTime() - start, TimeUnit.NANOSECONDS));
            ctx.next();
        });
    }

    static Timer timer(MeterRegistry registry, String code) {
        return Timer.builder(METRIC).description("Every /mutate response, by HTTP status (closed: no response sent)")
                .tag("code", code)
                .serviceLevelObjectives(Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(50),
                        Duration.ofMillis(100), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(5))
                .register(registry);
    }
}
