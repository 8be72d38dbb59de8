package dev.zeebeambient.enforcer.kube;

import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.detection.Target;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Known gateway Services that are not targets, derived from what exists in the cluster: in each
 * target's namespace, every Service whose selector picks the gateway/broker pods (a subset of a
 * target's selector, or an {@code app.kubernetes.io/component} in {@code enforcer.server-components})
 * — the Camunda chart's {@code <release>-zeebe-gateway}, headless broker/orchestration Services —
 * on its gRPC ports (26500, or a port named {@code grpc}/{@code gateway}). A client of one of these
 * reaches the gateway without the waypoint: it is reported, not enrolled. Plus those configured
 * in {@code enforcer.detection.known-gateway-services}.
 */
@ApplicationScoped
public class GatewayServices {

    static final String COMPONENT = "app.kubernetes.io/component";
    static final int ZEEBE_GRPC_PORT = 26500;

    private final KubernetesClient client;
    private final Watches watches;
    private final TargetServices targetServices;
    private final List<Target> targets;
    private final Set<String> serverComponents;
    private final List<Target> configured;
    private final List<SharedIndexInformer<Service>> informers = new CopyOnWriteArrayList<>();

    public GatewayServices(KubernetesClient client, Watches watches, TargetServices targetServices, EnforcerConfig config) {
        this.client = client;
        this.watches = watches;
        this.targetServices = targetServices;
        this.targets = List.copyOf(config.clientTargets());
        this.serverComponents = Set.copyOf(config.serverComponents());
        this.configured = List.copyOf(config.detection().knownGatewayServices().orElse(List.of()));
    }

    public void start() {
        for (String ns : targets.stream().map(Target::namespace).distinct().toList()) {
            SharedIndexInformer<Service> inf = watches.track("Services in " + ns, "list, watch services in " + ns,
                    client.services().inNamespace(ns).runnableInformer(0));
            informers.add(inf);
            inf.start();
        }
    }

    public void stop() {
        informers.forEach(SharedIndexInformer::stop);
        informers.clear();
    }

    /** The bypass addresses known now (cheap: a few Services per target namespace). */
    public List<Target> bypassServices() {
        Set<Target> out = new LinkedHashSet<>(configured);
        out.addAll(derive(services(), targets, targetServices.selectors(), serverComponents));
        return List.copyOf(out);
    }

    /** Headless Services of the gateway/broker pods: {@code <pod>.<svc>.<ns>:26500} reaches one pod directly. */
    public List<Target> bypassPodsOf() {
        return derivePodsOf(services(), targets, targetServices.selectors(), serverComponents);
    }

    private List<Service> services() {
        List<Service> services = new ArrayList<>();
        informers.forEach(inf -> services.addAll(inf.getStore().list()));
        return services;
    }

    /** Pure: headless Services selecting Zeebe gateway/broker pods, with the gateway's port on the pods. */
    static List<Target> derivePodsOf(Collection<Service> services, List<Target> targets,
            Map<Target, Map<String, String>> targetSelectors, Set<String> serverComponents) {
        List<Target> out = new ArrayList<>();
        for (Service s : services) {
            if (s.getSpec() != null && "None".equals(s.getSpec().getClusterIP()) && selectsGateway(s, targets, targetSelectors, serverComponents)) {
                out.add(new Target(s.getMetadata().getNamespace(), s.getMetadata().getName(), ZEEBE_GRPC_PORT));
            }
        }
        return out;
    }

    private static boolean selectsGateway(Service s, List<Target> targets, Map<Target, Map<String, String>> targetSelectors,
            Set<String> serverComponents) {
        if (s.getMetadata() == null || s.getSpec() == null || s.getSpec().getSelector() == null || s.getSpec().getSelector().isEmpty()) {
            return false;
        }
        String ns = s.getMetadata().getNamespace();
        String name = s.getMetadata().getName();
        if (targets.stream().anyMatch(t -> t.namespace().equals(ns) && t.name().equals(name))) {
            return false;
        }
        Map<String, String> selector = s.getSpec().getSelector();
        String component = selector.get(COMPONENT);
        return (component != null && serverComponents.contains(component)) // Set.of rejects null
                || targets.stream().filter(t -> t.namespace().equals(ns)).map(targetSelectors::get)
                        .anyMatch(ts -> ts != null && !ts.isEmpty() && ts.entrySet().containsAll(selector.entrySet()));
    }

    /** Pure: the gRPC ports of Services in a target's namespace that select Zeebe gateway/broker pods. */
    static List<Target> derive(Collection<Service> services, List<Target> targets, Map<Target, Map<String, String>> targetSelectors,
            Set<String> serverComponents) {
        Set<Target> out = new LinkedHashSet<>();
        for (Service s : services) {
            if (!selectsGateway(s, targets, targetSelectors, serverComponents)) {
                continue;
            }
            String ns = s.getMetadata().getNamespace();
            String name = s.getMetadata().getName();
            for (ServicePort p : s.getSpec().getPorts() == null ? List.<ServicePort>of() : s.getSpec().getPorts()) {
                if (p.getPort() != null && (p.getPort() == ZEEBE_GRPC_PORT || "grpc".equals(p.getName())
                        || "gateway".equals(p.getName()) || "grpc".equals(p.getAppProtocol()))) {
                    out.add(new Target(ns, name, p.getPort()));
                }
            }
        }
        return new ArrayList<>(out);
    }
}
