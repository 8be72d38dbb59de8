package dev.zeebeambient.enforcer.health;

import dev.zeebeambient.enforcer.kube.NamespaceCache;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * The webhook is ready as soon as it serves: an unsynced namespace cache only degrades
 * decisions (reported here and in a warning), it must not take the endpoint out of service.
 */
@Readiness
@ApplicationScoped
public class AdmissionReadiness implements HealthCheck {

    private final NamespaceCache namespaces;

    public AdmissionReadiness(NamespaceCache namespaces) {
        this.namespaces = namespaces;
    }

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("admission")
                .up()
                .withData("namespaceCacheSynced", namespaces.synced())
                .build();
    }
}
