package dev.zeebeambient.enforcer.health;

import dev.zeebeambient.enforcer.bootstrap.BootstrapStatus;
import dev.zeebeambient.enforcer.bootstrap.Bootstrapper;
import io.smallrye.health.api.HealthGroup;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;

/**
 * {@code /q/health/group/bootstrap}: DOWN, with what is missing and how to install it, until the
 * L7 setup has converged. Deliberately not a readiness check: the webhook serves regardless.
 */
@HealthGroup("bootstrap")
@ApplicationScoped
public class BootstrapHealth implements HealthCheck {

    private final Bootstrapper bootstrapper;

    public BootstrapHealth(Bootstrapper bootstrapper) {
        this.bootstrapper = bootstrapper;
    }

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder b = HealthCheckResponse.named("bootstrap");
        if (!bootstrapper.enabled()) {
            return b.up().withData("phase", "disabled").build();
        }
        BootstrapStatus s = bootstrapper.status();
        b.status(s.ready()).withData("phase", s.phase());
        if (s.error() != null) {
            b.withData("message", s.error());
        }
        return b.build();
    }
}
