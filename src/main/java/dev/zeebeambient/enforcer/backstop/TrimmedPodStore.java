package dev.zeebeambient.enforcer.backstop;

import dev.zeebeambient.enforcer.kube.PodProjection;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.informers.cache.ItemStore;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The pod informer's cache: each pod {@link PodProjection trimmed} and kept as compact JSON bytes,
 * decoded when the backstop reads it. The informer still hands each event the full pod it received;
 * only the bytes stay. Why bytes: a trimmed fabric8 {@code Pod} is still a graph of ~40 objects
 * (every model object carries its own map and pre-allocated lists), about 10 KB for a modest pod;
 * its JSON is ~1 KB. Reads are rare (the worker, at the patch rate, and resyncs), so decoding on
 * read costs little.
 */
public final class TrimmedPodStore implements ItemStore<Pod> {

    private static final ObjectMapper JSON = new ObjectMapper()
            .setSerializationInclusion(JsonInclude.Include.NON_EMPTY)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private final Map<String, byte[]> pods = new ConcurrentHashMap<>();

    @Override
    public String getKey(Pod pod) {
        return Cache.metaNamespaceKeyFunc(pod);
    }

    @Override
    public Pod put(String key, Pod pod) {
        return decode(pods.put(key, encode(PodProjection.trim(pod))));
    }

    @Override
    public Pod remove(String key) {
        return decode(pods.remove(key));
    }

    @Override
    public Stream<String> keySet() {
        return pods.keySet().stream();
    }

    @Override
    public Stream<Pod> values() {
        return pods.values().stream().map(TrimmedPodStore::decode);
    }

    @Override
    public int size() {
        return pods.size();
    }

    @Override
    public Pod get(String key) {
        return decode(pods.get(key));
    }

    /** Bytes kept (for the benchmark's per-pod figure). */
    long bytes() {
        return pods.values().stream().mapToLong(b -> b.length).sum();
    }

    public static byte[] encode(Pod pod) {
        try {
            return JSON.writeValueAsBytes(pod);
        } catch (IOException e) {
            throw new UncheckedIOException("could not encode pod " + Cache.metaNamespaceKeyFunc(pod), e);
        }
    }

    public static Pod decode(byte[] json) {
        if (json == null) {
            return null;
        }
        try {
            return JSON.readValue(json, Pod.class);
        } catch (IOException e) {
            throw new UncheckedIOException("could not decode a cached pod", e);
        }
    }
}
