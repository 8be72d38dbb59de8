package dev.zeebeambient.enforcer.kube;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;

/**
 * Namespace labels from a watch (informer), so admission never calls the API per request.
 * Started without blocking: until the first list completes, {@link #labels} answers null and
 * the webhook decides from the pod alone.
 */
@ApplicationScoped
public class NamespaceCache {

    private static final Logger LOG = Logger.getLogger(NamespaceCache.class);

    private final KubernetesClient client;
    private volatile SharedIndexInformer<Namespace> informer;
    private final List<Consumer<String>> labelListeners = new CopyOnWriteArrayList<>();

    public NamespaceCache(KubernetesClient client) {
        this.client = client;
    }

    void start(@Observes StartupEvent ev) {
        SharedIndexInformer<Namespace> inf = client.namespaces().runnableInformer(0);
        inf.exceptionHandler((started, t) -> {
            LOG.warnf("namespace watch failed (%s); retrying. Namespace labels stay unknown until it succeeds", t.toString());
            return true;
        });
        inf.addEventHandler(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Namespace ns) {
                // namespaces seen during the initial list are not "changes"
            }

            @Override
            public void onUpdate(Namespace before, Namespace after) {
                if (!Objects.equals(before.getMetadata().getLabels(), after.getMetadata().getLabels())) {
                    labelListeners.forEach(l -> l.accept(after.getMetadata().getName()));
                }
            }

            @Override
            public void onDelete(Namespace ns, boolean unknownFinalState) {
            }
        });
        informer = inf;
        inf.start().whenComplete((v, t) -> {
            if (t == null) {
                LOG.infof("namespace cache synced: %d namespaces", inf.getStore().list().size());
            }
        });
    }

    void stop(@Observes ShutdownEvent ev) {
        if (informer != null) {
            informer.stop();
        }
    }

    /** Called with a namespace's name whenever its labels change (e.g. it opts in). */
    public void onLabelsChanged(Consumer<String> listener) {
        labelListeners.add(listener);
    }

    public boolean synced() {
        SharedIndexInformer<Namespace> inf = informer;
        return inf != null && inf.hasSynced();
    }

    /** The namespace's labels, or null when not known (cache not synced, or namespace not seen yet). */
    public Map<String, String> labels(String namespace) {
        if (!synced() || namespace == null) {
            return null;
        }
        Namespace ns = informer.getStore().getByKey(namespace);
        if (ns == null) {
            return null;
        }
        Map<String, String> labels = ns.getMetadata().getLabels();
        return labels == null ? Map.of() : labels;
    }
}
