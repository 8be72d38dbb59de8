package dev.zeebeambient.enforcer.health;

import dev.zeebeambient.enforcer.kube.NamespaceCache;
import dev.zeebeambient.enforcer.tls.SelfManagedTls;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready once a replica can answer like every other one: the namespace cache has synced (otherwise
 * a fresh replica would decide from the pod alone, e.g. miss a namespace's opt-out), and, with
 * self-managed TLS, the certificate from the Secret is served rather than the start-up
 * placeholder the API server does not trust. The webhook fails open, so a replica that is not
 * ready only means the others (or the backstop) handle the pod.
 */
@Readiness
@ApplicationScoped
public class AdmissionReadiness implements HealthCheck {

    private final NamespaceCache namespaces;
    private final SelfManagedTls tls;
    private final dev.zeebeambient.enforcer.install.InstalledConfiguration installed;

    public AdmissionReadiness(NamespaceCache namespaces, SelfManagedTls tls, dev.zeebeambient.enforcer.install.InstalledConfiguration installed) {
        this.namespaces = namespaces;
        this.tls = tls;
        this.installed = installed;
    }

    @Override
    public HealthCheckResponse call() {
        boolean synced = namespaces.synced();
        boolean placeholder = tls.servingPlaceholder();
        var b = HealthCheckResponse.named("admission")
                .status(synced && !placeholder)
                .withData("namespaceCacheSynced", synced);
        if (!synced) {
            b.withData("message", "waiting for the namespace cache to sync (list/watch namespaces)");
        }
        if (placeholder) {
            b.withData("message", "serving the start-up placeholder certificate until the Secret's is written");
        }
        // detail only: a replica whose configuration differs still answers (the webhook fails open); the alert tells
        var report = installed.report();
        if (report != null && !report.consistent()) {
            b.withData("configuration", "differs from the installed admission objects: " + report.differences().stream()
                    .map(Object::toString).collect(java.util.stream.Collectors.joining("; ")));
        }
        return b.build();
    }
}
