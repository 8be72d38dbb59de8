package dev.zeebeambient.enforcer.admission;

import com.fasterxml.jackson.databind.JsonNode;

/** The parts of an {@code admission.k8s.io/v1} request the enforcer uses. */
public record AdmissionRequest(String uid, String group, String kind, String subResource, String operation,
        String namespace, String name, boolean dryRun, JsonNode object) {

    /** Only Pod CREATE (not a subresource) can be mutated; everything else is allowed unchanged. */
    public boolean isPodCreate() {
        return "Pod".equals(kind) && (group == null || group.isEmpty()) && "CREATE".equals(operation)
                && (subResource == null || subResource.isEmpty());
    }
}
