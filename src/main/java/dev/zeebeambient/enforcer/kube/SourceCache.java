package dev.zeebeambient.enforcer.kube;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Scheduler;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.zeebeambient.enforcer.detection.SourceRef;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * ConfigMap/Secret data by (namespace, ref): one read per key at a time (a scale-up of 50 replicas
 * asks the API server once), bounded by the bytes it keeps, each entry dropped {@code ttl} after it
 * was read ({@code negativeTtl} for "does not exist"), failures never kept. Caffeine holds the
 * in-flight future in the same map as the result, so a read that completes before it is even
 * registered cannot be left behind as a stale "in flight" answer (the race of a separate
 * in-flight map with {@code computeIfAbsent} + remove-on-complete).
 */
final class SourceCache {

    record Key(String namespace, SourceRef ref) {
    }

    /** {@code null} data: the object does not exist. */
    private static final Map<String, String> ABSENT = Map.of();

    private final AsyncCache<Key, Map<String, String>> cache;
    private final Function<Key, Map<String, String>> fetch;

    /**
     * @param fetch reads the object's data from the API server (null when it does not exist); runs on {@code executor}
     */
    SourceCache(Function<Key, Map<String, String>> fetch, Executor executor, Duration ttl, Duration negativeTtl, long maxBytes,
            Ticker ticker) {
        this.fetch = fetch;
        this.cache = Caffeine.newBuilder()
                .executor(executor)
                .ticker(ticker)
                .scheduler(ticker == Ticker.systemTicker() ? Scheduler.systemScheduler() : Scheduler.disabledScheduler())
                .maximumWeight(maxBytes)
                .weigher((Key k, Map<String, String> v) -> weigh(k, v))
                .expireAfter(Expiry.<Key, Map<String, String>>writing((k, v) -> v == ABSENT ? negativeTtl : ttl))
                .buildAsync();
    }

    /** The cached answer, the read already running for this key, or a new read. Completes with null for "absent". */
    CompletableFuture<Map<String, String>> get(Key key) {
        return cache.get(key, k -> {
            Map<String, String> d = fetch.apply(k);
            return d == null ? ABSENT : d;
        }).thenApply(d -> d == ABSENT ? null : d);
    }

    /** Whether the key's answer is there now (a hit: no read). */
    boolean present(Key key) {
        CompletableFuture<Map<String, String>> f = cache.getIfPresent(key);
        return f != null && f.isDone() && !f.isCompletedExceptionally();
    }

    /** Bytes kept now (after pending evictions ran). */
    long weightedSize() {
        cache.synchronous().cleanUp();
        return cache.synchronous().policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
    }

    long entries() {
        cache.synchronous().cleanUp();
        return cache.synchronous().estimatedSize();
    }

    /** What an entry costs, roughly: characters of keys and values (compact strings: a byte each) plus per-entry overhead. */
    static int weigh(Key k, Map<String, String> data) {
        long w = 64 + k.namespace().length() + k.ref().name().length();
        for (var e : data.entrySet()) {
            w += 48 + e.getKey().length() + (e.getValue() == null ? 0 : e.getValue().length());
        }
        return (int) Math.min(Integer.MAX_VALUE, w);
    }
}
