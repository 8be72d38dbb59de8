package dev.zeebeambient.enforcer.backstop;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.informers.cache.ItemStore;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The pod informer's cache, holding {@link PodProjection trimmed} pods: the informer still hands
 * each event the full pod it received, but only the projection stays in memory.
 */
final class TrimmedPodStore implements ItemStore<Pod> {

    private final Map<String, Pod> pods = new ConcurrentHashMap<>();

    @Override
    public String getKey(Pod pod) {
        return Cache.metaNamespaceKeyFunc(pod);
    }

    @Override
    public Pod put(String key, Pod pod) {
        return pods.put(key, PodProjection.trim(pod));
    }

    @Override
    public Pod remove(String key) {
        return pods.remove(key);
    }

    @Override
    public Stream<String> keySet() {
        return pods.keySet().stream();
    }

    @Override
    public Stream<Pod> values() {
        return pods.values().stream();
    }

    @Override
    public int size() {
        return pods.size();
    }

    @Override
    public Pod get(String key) {
        return pods.get(key);
    }
}
