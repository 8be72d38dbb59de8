package dev.zeebeambient.enforcer.bootstrap;

import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.detection.Target;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One bootstrap pass: check preconditions, resolve the gateway selectors, build the desired
 * state, apply it (only when this instance may write), then observe what Istio reports (Gateway
 * programmed and its address, ready endpoints of each gRPC Service).
 */
public final class Convergence {

    private final KubernetesClient client;
    private final EnforcerConfig config;
    private final Applier applier;

    public Convergence(KubernetesClient client, EnforcerConfig config) {
        this.client = client;
        this.config = config;
        this.applier = new Applier(client, config.bootstrap().fieldManager(), config.bootstrap().forceConflicts());
    }

    public BootstrapStatus pass(boolean write) {
        return pass(() -> write);
    }

    /**
     * {@code mayWrite} is asked again before every write: leadership lost in the middle of a pass
     * (the Lease released for a rollout or for cleanup) stops the writes at once, not at the next pass.
     */
    public BootstrapStatus pass(java.util.function.BooleanSupplier mayWrite) {
        boolean write = mayWrite.getAsBoolean();
        String now = Instant.now().toString();
        Preconditions.Result pre = Preconditions.check(client, config);
        if (!pre.ok()) {
            return new BootstrapStatus(Phase.WAITING_FOR_PRECONDITIONS, now, false, pre, List.of(), List.of(), List.of(),
                    List.of(), String.join("; ", pre.missing()));
        }
        List<BootstrapStatus.SelectorStatus> selectorStatus = new ArrayList<>();
        Map<Target, Map<String, String>> selectors = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        for (Target t : config.targets()) {
            BootstrapStatus.SelectorStatus s = selector(t);
            selectorStatus.add(s);
            if (s.selector() == null) {
                problems.add(s.source());
            } else {
                selectors.put(t, s.selector());
            }
        }

        List<BootstrapStatus.ResourceStatus> resources = new ArrayList<>();
        boolean wrote = false;
        boolean conflict = false;
        List<GenericKubernetesResource> desiredState = new ArrayList<>(DesiredState.build(config, selectors));
        desiredState.addAll(chartBindings(problems));
        for (GenericKubernetesResource desired : desiredState) {
            write = write && mayWrite.getAsBoolean();
            if (write) {
                ApplyOutcome o = applier.apply(desired);
                wrote |= o.result().wrote();
                conflict |= o.result() == ApplyResult.CONFLICT;
                if (!o.inSync()) {
                    problems.add(o.ref() + ": " + o.message());
                }
                resources.add(new BootstrapStatus.ResourceStatus(o.ref(), o.result() != ApplyResult.ERROR || exists(desired),
                        o.inSync(), o.result(), o.message()));
            } else {
                resources.add(new BootstrapStatus.ResourceStatus(DesiredState.ref(desired), exists(desired), null,
                        ApplyResult.NOT_LEADER, "another replica holds the lease and writes"));
            }
        }
        if (!config.bootstrap().bindChartService() && write && mayWrite.getAsBoolean()) {
            // turned off (or never on): whatever binding of ours is still on a chart Service goes, on its own
            for (Cleanup.Outcome o : new Cleanup(client, config).unbindChartServices()) {
                if (o.result() == Cleanup.Result.ERROR) {
                    problems.add("bind-chart-service is off: " + o.ref() + ": " + o.detail());
                } else if (o.result() == Cleanup.Result.RELEASED || o.result() == Cleanup.Result.DELETED) {
                    wrote = true;
                    resources.add(new BootstrapStatus.ResourceStatus(o.ref(), o.result() == Cleanup.Result.RELEASED, true,
                            ApplyResult.UPDATED, "bind-chart-service is off: " + o.result().tag()
                                    + (o.detail() == null ? "" : " (" + o.detail() + ")")));
                }
            }
        }
        List<BootstrapStatus.GatewayStatus> gateways = new ArrayList<>();
        List<BootstrapStatus.ServiceStatus> services = new ArrayList<>();
        for (String ns : config.targets().stream().map(Target::namespace).distinct().toList()) {
            gateways.add(gateway(ns));
        }
        for (Target t : config.targets()) {
            services.add(new BootstrapStatus.ServiceStatus("Service " + t.namespace() + "/" + t.name(), readyEndpoints(t)));
        }
        Phase phase = !write ? Phase.OBSERVING : conflict ? Phase.CONFLICT : problems.isEmpty() ? Phase.CONVERGED : Phase.ERROR;
        return new BootstrapStatus(phase, now, wrote, pre, selectorStatus, resources, gateways, services,
                problems.isEmpty() ? null : String.join("; ", problems));
    }

    /**
     * With {@code bind-chart-service}: for each target, the binding fields for its chart Service and a
     * DestinationRule for the chart Service's host. The chart Service is never created: missing is a problem.
     */
    List<GenericKubernetesResource> chartBindings(List<String> problems) {
        List<GenericKubernetesResource> out = new ArrayList<>();
        if (!config.bootstrap().bindChartService()) {
            return out;
        }
        for (Target t : config.targets()) {
            String name = config.chartServiceName(t);
            if (name.equals(t.name())) {
                continue;
            }
            Service chart = client.services().inNamespace(t.namespace()).withName(name).get();
            if (chart == null) {
                problems.add("bind-chart-service: Service " + t.namespace() + "/" + name
                        + " does not exist (set enforcer.bootstrap.chart-gateway-service to the chart's gateway Service)");
                continue;
            }
            out.add(DesiredState.chartBinding(config.bootstrap(), chart, t.port()));
            out.add(DesiredState.destinationRule(config.bootstrap(), new Target(t.namespace(), name, t.port()), config.clusterDomain()));
        }
        return out;
    }

    /** Selector for the gRPC Service: configured, else the chart's gateway Service's, else the existing target's. */
    BootstrapStatus.SelectorStatus selector(Target t) {
        Map<String, String> configured = config.bootstrap().gatewaySelector();
        if (!configured.isEmpty()) {
            return new BootstrapStatus.SelectorStatus(t.toString(), new LinkedHashMap<>(configured),
                    "enforcer.bootstrap.gateway-selector");
        }
        String chart = config.chartServiceName(t);
        Service chartService = chart.equals(t.name()) ? null : client.services().inNamespace(t.namespace()).withName(chart).get();
        if (chartService != null && chartService.getSpec().getSelector() != null && !chartService.getSpec().getSelector().isEmpty()) {
            return new BootstrapStatus.SelectorStatus(t.toString(), chartService.getSpec().getSelector(),
                    "Helm chart Service " + t.namespace() + "/" + chart);
        }
        Service existing = client.services().inNamespace(t.namespace()).withName(t.name()).get();
        if (existing != null && existing.getSpec().getSelector() != null && !existing.getSpec().getSelector().isEmpty()) {
            return new BootstrapStatus.SelectorStatus(t.toString(), existing.getSpec().getSelector(),
                    "existing Service " + t.namespace() + "/" + t.name());
        }
        return new BootstrapStatus.SelectorStatus(t.toString(), null, "no selector for the gRPC Service " + t
                + ": the chart Service " + t.namespace() + "/" + chart
                + " does not exist; install Camunda or set enforcer.bootstrap.gateway-selector");
    }

    private boolean exists(GenericKubernetesResource desired) {
        try {
            return client.resource(desired).get() != null;
        } catch (RuntimeException e) {
            return false;
        }
    }

    @SuppressWarnings("unchecked")
    private BootstrapStatus.GatewayStatus gateway(String ns) {
        String name = config.bootstrap().waypointName();
        String ref = "Gateway " + ns + "/" + name;
        GenericKubernetesResource gw = client.genericKubernetesResources("gateway.networking.k8s.io/v1", "Gateway")
                .inNamespace(ns).withName(name).get();
        if (gw == null) {
            return new BootstrapStatus.GatewayStatus(ref, false, List.of(), "does not exist");
        }
        Map<String, Object> status = (Map<String, Object>) gw.getAdditionalProperties().get("status");
        List<Map<String, Object>> conditions = status == null ? List.of()
                : (List<Map<String, Object>>) status.getOrDefault("conditions", List.of());
        Map<String, Object> programmed = conditions.stream().filter(c -> "Programmed".equals(c.get("type"))).findFirst()
                .orElse(null);
        List<String> addresses = status == null ? List.of()
                : ((List<Map<String, Object>>) status.getOrDefault("addresses", List.of())).stream()
                        .map(a -> String.valueOf(a.get("value"))).toList();
        boolean isProgrammed = programmed != null && "True".equals(programmed.get("status")) && !addresses.isEmpty();
        String message = isProgrammed ? "programmed"
                : programmed == null ? "not programmed yet: istiod has not reported on it (is istiod running?)"
                : "not programmed: " + programmed.get("reason") + ": " + programmed.get("message");
        return new BootstrapStatus.GatewayStatus(ref, isProgrammed, addresses, message);
    }

    private int readyEndpoints(Target t) {
        int ready = 0;
        for (EndpointSlice slice : client.discovery().v1().endpointSlices().inNamespace(t.namespace())
                .withLabel("kubernetes.io/service-name", t.name()).list().getItems()) {
            for (var ep : slice.getEndpoints() == null ? List.<io.fabric8.kubernetes.api.model.discovery.v1.Endpoint>of()
                    : slice.getEndpoints()) {
                if (ep.getConditions() == null || !Boolean.FALSE.equals(ep.getConditions().getReady())) {
                    ready += ep.getAddresses() == null ? 0 : ep.getAddresses().size();
                }
            }
        }
        return ready;
    }
}
