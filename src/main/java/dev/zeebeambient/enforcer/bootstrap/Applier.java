package dev.zeebeambient.enforcer.bootstrap;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

import java.util.stream.Collectors;

/**
 * The one generic apply step: server-side apply of any desired object with the enforcer's field
 * manager. A converged object is not written (the API server treats an identical apply as a
 * no-op, so {@code resourceVersion} stays). Conflicts are reported, forced only when configured.
 */
public final class Applier {

    private final KubernetesClient client;
    private final String fieldManager;
    private final boolean force;

    public Applier(KubernetesClient client, String fieldManager, boolean force) {
        this.client = client;
        this.fieldManager = fieldManager;
        this.force = force;
    }

    public ApplyOutcome apply(GenericKubernetesResource desired) {
        String ref = DesiredState.ref(desired);
        try {
            var live = client.resource(desired).get();
            var op = client.resource(desired).fieldManager(fieldManager);
            GenericKubernetesResource applied = force ? op.forceConflicts().serverSideApply() : op.serverSideApply();
            if (live == null) {
                return new ApplyOutcome(ref, ApplyResult.CREATED, null);
            }
            boolean same = live.getMetadata().getResourceVersion().equals(applied.getMetadata().getResourceVersion());
            return new ApplyOutcome(ref, same ? ApplyResult.UNCHANGED : ApplyResult.UPDATED, null);
        } catch (KubernetesClientException e) {
            if (e.getCode() == 409 && e.getStatus() != null && e.getStatus().getDetails() != null
                    && e.getStatus().getDetails().getCauses() != null && !e.getStatus().getDetails().getCauses().isEmpty()) {
                String causes = e.getStatus().getDetails().getCauses().stream()
                        .map(c -> "field " + c.getField() + ": " + c.getMessage())
                        .collect(Collectors.joining("; "));
                return new ApplyOutcome(ref, ApplyResult.CONFLICT, causes
                        + " (not forced; set enforcer.bootstrap.force-conflicts=true to take these fields over)");
            }
            return new ApplyOutcome(ref, ApplyResult.ERROR, "HTTP " + e.getCode() + ": " + e.getMessage());
        }
    }
}
