package dev.zeebeambient.enforcer.kube;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;

/**
 * Namespace labels from a watch (informer), so admission never calls the API per request.
 * Started without blocking; readiness stays DOWN until the first list completes, so a fresh
 * replica is not sent admission requests it would have to decide from the pod alone.
 */
@ApplicationScoped
public class NamespaceCache {

    private static final Logger LOG = Logger.getLogger(NamespaceCache.class);

    private final KubernetesClient client;
    private final Watches watches;
    private volatile SharedIndexInformer<Namespace> informer;
    private final List<Consumer<String>> labelListeners = new CopyOnWriteArrayList<>();

    public NamespaceCache(KubernetesClient client, Watches watches) {
        this.client = client;
        this.watches = watches;
    }

    /** Started first by the lifecycle: admission and the backstop decide from these labels. */
    public void start() {
        SharedIndexInformer<Namespace> inf = watches.track("Namespaces (all)", "list, watch namespaces (cluster-wide)",
                client.namespaces().runnableInformer(0));
        inf.addEventHandler(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Namespace ns) {
                // namespaces seen during the initial list are not "changes"; one created later is
                if (inf.hasSynced()) {
                    labelListeners.forEach(l -> l.accept(ns.getMetadata().getName()));
                }
            }

            @Override
            public void onUpdate(Namespace before, Namespace after) {
                if (!Objects.equals(before.getMetadata().getLabels(), after.getMetadata().getLabels())) {
                    labelListeners.forEach(l -> l.accept(after.getMetadata().getName()));
                }
            }

            @Override
            public void onDelete(Namespace ns, boolean unknownFinalState) {
                labelListeners.forEach(l -> l.accept(ns.getMetadata().getName()));
            }
        });
        informer = inf;
        inf.start().whenComplete((v, t) -> {
            if (t == null) {
                LOG.infof("namespace cache synced: %d namespaces", inf.getStore().list().size());
            }
        });
    }

    public void stop() {
        if (informer != null) {
            informer.stop();
        }
    }

    /** Called with a namespace's name whenever its labels change (e.g. it opts in), it is created after the first list, or deleted. */
    public void onLabelsChanged(Consumer<String> listener) {
        labelListeners.add(listener);
    }

    public boolean synced() {
        SharedIndexInformer<Namespace> inf = informer;
        return inf != null && inf.hasSynced();
    }

    /** Every known namespace's labels (empty until the first list completed). */
    public Map<String, Map<String, String>> allLabels() {
        if (!synced()) {
            return Map.of();
        }
        Map<String, Map<String, String>> out = new java.util.HashMap<>();
        for (Namespace ns : informer.getStore().list()) {
            Map<String, String> l = ns.getMetadata().getLabels();
            out.put(ns.getMetadata().getName(), l == null ? Map.of() : l);
        }
        return out;
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
