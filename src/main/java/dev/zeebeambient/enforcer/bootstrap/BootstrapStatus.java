package dev.zeebeambient.enforcer.bootstrap;

import io.quarkus.runtime.annotations.RegisterForReflection;

import java.util.List;
import java.util.Map;

/** The bootstrapper's view of the cluster after a pass; served as JSON by {@code GET /status}. */
@RegisterForReflection
public record BootstrapStatus(
        Phase phase,
        String lastPass,
        boolean wrote,
        Preconditions.Result preconditions,
        List<SelectorStatus> selectors,
        List<ResourceStatus> resources,
        List<GatewayStatus> gateways,
        List<ServiceStatus> services,
        String error) {

    public static BootstrapStatus starting() {
        return new BootstrapStatus(Phase.STARTING, null, false, null, List.of(), List.of(), List.of(), List.of(), null);
    }

    public boolean ready() {
        return phase.ready();
    }

    @RegisterForReflection
    public record SelectorStatus(String target, Map<String, String> selector, String source) {
    }

    @RegisterForReflection
    public record ResourceStatus(String ref, boolean exists, Boolean inSync, ApplyResult result, String message) {
    }

    @RegisterForReflection
    public record GatewayStatus(String ref, boolean programmed, List<String> addresses, String message) {
    }

    @RegisterForReflection
    public record ServiceStatus(String ref, int readyEndpoints) {
    }
}
