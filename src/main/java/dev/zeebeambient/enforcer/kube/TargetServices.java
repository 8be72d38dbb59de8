package dev.zeebeambient.enforcer.kube;

import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.detection.Target;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Watches each target Service so the decision knows its selector: pods it selects are the
 * gateway itself and are never treated as clients.
 */
@ApplicationScoped
public class TargetServices {

    private final KubernetesClient client;
    private final Watches watches;
    private final List<Target> targets;
    private final Map<Target, SharedIndexInformer<Service>> informers = new java.util.concurrent.ConcurrentHashMap<>();
    private final List<SharedIndexInformer<Service>> started = new CopyOnWriteArrayList<>();

    public TargetServices(KubernetesClient client, EnforcerConfig config, Watches watches) {
        this.client = client;
        this.watches = watches;
        this.targets = List.copyOf(config.clientTargets());
    }

    public void start() {
        for (Target t : targets) {
            SharedIndexInformer<Service> inf = watches.track("target Service " + t.namespace() + "/" + t.name(),
                    "list, watch services in " + t.namespace(),
                    client.services().inNamespace(t.namespace()).withName(t.name()).runnableInformer(0));
            informers.put(t, inf);
            started.add(inf);
            inf.start();
        }
    }

    public void stop() {
        started.forEach(SharedIndexInformer::stop);
    }

    /** Selector of every target Service currently known. */
    public Map<Target, Map<String, String>> selectors() {
        Map<Target, Map<String, String>> out = new HashMap<>();
        informers.forEach((t, inf) -> {
            Service s = inf.getStore().getByKey(t.namespace() + "/" + t.name());
            if (s != null && s.getSpec() != null && s.getSpec().getSelector() != null) {
                out.put(t, s.getSpec().getSelector());
            }
        });
        return out;
    }
}
