package dev.zeebeambient.enforcer.backstop;

import dev.zeebeambient.enforcer.kube.Watches;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import org.jboss.logging.Logger;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One pod informer per watched namespace, started and stopped as the set of watched namespaces
 * changes ({@link #watchOnly}). Each lists in pages of {@link #PAGE} and caches trimmed pods
 * ({@link TrimmedPodStore}).
 */
final class PodInformers {

    private static final Logger LOG = Logger.getLogger(PodInformers.class);
    static final long PAGE = 500;

    private final KubernetesClient client;
    private final Watches watches;
    private final long resyncMillis;
    private final Listener listener;

    interface Listener {
        /** A pod seen for the first time (the full pod as received, not kept). */
        void added(Pod pod);

        /** A pod that changed, or a periodic resync. */
        void changed(String key);

        /** A pod deleted, or in a namespace no longer watched. */
        void gone(String key);
    }
    private final Map<String, SharedIndexInformer<Pod>> byNamespace = new ConcurrentHashMap<>();

    PodInformers(KubernetesClient client, Watches watches, long resyncMillis, Listener listener) {
        this.client = client;
        this.watches = watches;
        this.resyncMillis = resyncMillis;
        this.listener = listener;
    }

    /** Starts informers for namespaces in {@code wanted} not watched yet, stops those no longer wanted. */
    synchronized void watchOnly(Set<String> wanted) {
        for (String ns : new HashSet<>(byNamespace.keySet())) {
            if (!wanted.contains(ns)) {
                stop(ns);
            }
        }
        for (String ns : wanted) {
            if (!byNamespace.containsKey(ns)) {
                start(ns);
            }
        }
    }

    synchronized void stopAll() {
        new HashSet<>(byNamespace.keySet()).forEach(this::stop);
    }

    Set<String> namespaces() {
        return new TreeSet<>(byNamespace.keySet());
    }

    /** The trimmed pod, or null when not (or no longer) watched. */
    Pod get(String key) {
        int slash = key.indexOf('/');
        SharedIndexInformer<Pod> inf = slash < 0 ? null : byNamespace.get(key.substring(0, slash));
        return inf == null ? null : inf.getStore().getByKey(key);
    }

    /** Keys of every cached pod in {@code ns} (or all watched namespaces when null). */
    Set<String> keys(String ns) {
        Set<String> out = new HashSet<>();
        byNamespace.forEach((n, inf) -> {
            if (ns == null || ns.equals(n)) {
                out.addAll(inf.getStore().listKeys());
            }
        });
        return out;
    }

    int size() {
        return byNamespace.values().stream().mapToInt(i -> i.getStore().listKeys().size()).sum();
    }

    private void start(String ns) {
        SharedIndexInformer<Pod> inf = watches.track(what(ns), "list, watch pods in " + ns,
                client.pods().inNamespace(ns).withLimit(PAGE).runnableInformer(resyncMillis));
        inf.itemStore(new TrimmedPodStore());
        inf.addEventHandler(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Pod pod) {
                listener.added(pod);
            }

            @Override
            public void onUpdate(Pod before, Pod after) {
                listener.changed(Cache.metaNamespaceKeyFunc(after));
            }

            @Override
            public void onDelete(Pod pod, boolean unknownFinalState) {
                listener.gone(Cache.metaNamespaceKeyFunc(pod));
            }
        });
        byNamespace.put(ns, inf);
        inf.start();
        LOG.infof("backstop: watching pods in namespace %s (opted in)", ns);
    }

    private void stop(String ns) {
        SharedIndexInformer<Pod> inf = byNamespace.remove(ns);
        if (inf == null) {
            return;
        }
        Set<String> keys = new HashSet<>(inf.getStore().listKeys());
        inf.stop();
        watches.untrack(what(ns));
        keys.forEach(listener::gone);
        LOG.infof("backstop: stopped watching pods in namespace %s (no longer opted in)", ns);
    }

    private static String what(String ns) {
        return "Pods in " + ns;
    }
}
