package dev.zeebeambient.enforcer.kube;

import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.detection.Target;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

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

    private static final Logger LOG = Logger.getLogger(TargetServices.class);

    private final KubernetesClient client;
    private final List<Target> targets;
    private final Map<Target, SharedIndexInformer<Service>> informers = new java.util.concurrent.ConcurrentHashMap<>();
    private final List<SharedIndexInformer<Service>> started = new CopyOnWriteArrayList<>();

    public TargetServices(KubernetesClient client, EnforcerConfig config) {
        this.client = client;
        this.targets = List.copyOf(config.targets());
    }

    void start(@Observes StartupEvent ev) {
        for (Target t : targets) {
            SharedIndexInformer<Service> inf = client.services().inNamespace(t.namespace()).withName(t.name())
                    .runnableInformer(0);
            inf.exceptionHandler((s, e) -> {
                LOG.warnf("watch of target Service %s failed (%s); retrying", t, e.toString());
                return true;
            });
            informers.put(t, inf);
            started.add(inf);
            inf.start();
        }
    }

    void stop(@Observes ShutdownEvent ev) {
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
