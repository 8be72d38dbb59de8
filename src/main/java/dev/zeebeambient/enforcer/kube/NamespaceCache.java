package dev.zeebeambient.enforcer.kube;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.util.Map;

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

    public NamespaceCache(KubernetesClient client) {
        this.client = client;
    }

    void start(@Observes StartupEvent ev) {
        SharedIndexInformer<Namespace> inf = client.namespaces().runnableInformer(0);
        inf.exceptionHandler((started, t) -> {
            LOG.warnf("namespace watch failed (%s); retrying. Namespace labels stay unknown until it succeeds", t.toString());
            return true;
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
