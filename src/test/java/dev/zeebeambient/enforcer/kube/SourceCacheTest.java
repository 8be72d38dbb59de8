package dev.zeebeambient.enforcer.kube;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.zeebeambient.enforcer.detection.SourceRef;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ConfigMap/Secret cache on its own: a fake clock, an in-memory "API server", no Quarkus. */
class SourceCacheTest {

    static final Duration TTL = Duration.ofSeconds(30);
    static final Duration NEGATIVE = Duration.ofSeconds(5);
    /** Runs the read in the caller's thread: the read is complete before the cache even stores its future. */
    static final Executor DIRECT = Runnable::run;

    final AtomicLong nanos = new AtomicLong();
    final Ticker clock = nanos::get;
    final Map<String, Map<String, String>> server = new ConcurrentHashMap<>();
    final AtomicInteger reads = new AtomicInteger();

    Map<String, String> fetch(SourceCache.Key k) {
        reads.incrementAndGet();
        return server.get(k.ref().name());
    }

    SourceCache cache(Executor executor, long maxBytes) {
        return new SourceCache(this::fetch, executor, TTL, NEGATIVE, maxBytes, clock);
    }

    static SourceCache.Key key(String name) {
        return new SourceCache.Key("apps", SourceRef.configMap(name));
    }

    void advance(Duration d) {
        nanos.addAndGet(d.toNanos());
    }

    @Test
    void aReadThatCompletesBeforeItIsRegisteredIsReadAgainAfterTheTtl() throws Exception {
        // the old in-flight map: computeIfAbsent(k, supplyAsync(fetch).whenComplete(remove k)) with a read that
        // finishes first removed nothing and then stored the completed future for good: the first answer forever
        SourceCache cache = cache(DIRECT, 1 << 20);
        server.put("cfg", Map.of("ZEEBE_ADDRESS", "old:26500"));
        assertEquals("old:26500", cache.get(key("cfg")).get().get("ZEEBE_ADDRESS"));
        server.put("cfg", Map.of("ZEEBE_ADDRESS", "camunda-zeebe-gateway-grpc.camunda:26500"));
        assertEquals("old:26500", cache.get(key("cfg")).get().get("ZEEBE_ADDRESS"), "within the ttl: the cached answer");
        assertEquals(1, reads.get());
        advance(TTL.plusSeconds(1));
        assertEquals("camunda-zeebe-gateway-grpc.camunda:26500", cache.get(key("cfg")).get().get("ZEEBE_ADDRESS"),
                "after the ttl the ConfigMap is read again");
        assertEquals(2, reads.get());
    }

    @Test
    void concurrentRequestsForOneKeyShareOneRead() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            SourceCache cache = new SourceCache(k -> {
                reads.incrementAndGet();
                try {
                    release.await(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return Map.of("a", "b");
            }, pool, TTL, NEGATIVE, 1 << 20, clock);
            CompletableFuture<?>[] waiting = new CompletableFuture<?>[50];
            for (int i = 0; i < waiting.length; i++) {
                waiting[i] = cache.get(key("shared"));
            }
            release.countDown();
            CompletableFuture.allOf(waiting).get(5, TimeUnit.SECONDS);
            assertEquals(1, reads.get(), "50 pods of one Deployment: one read");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void evictsByBytesNotByCount() throws Exception {
        long max = 8L << 20; // 8 MiB
        SourceCache cache = cache(DIRECT, max);
        String value = "x".repeat(100 * 1024);
        server.put("hot", Map.of("application.yaml", "zeebe.client.gateway-address: camunda-zeebe-gateway-grpc:26500"));
        for (int i = 0; i < 500; i++) { // 500 distinct 100 KiB ConfigMaps: ~50 MB if nothing were evicted
            server.put("big-" + i, Map.of("application.yaml", value + i));
            cache.get(key("big-" + i)).get();
            cache.get(key("hot")).get(); // read by every pod of a large Deployment
        }
        long kept = cache.weightedSize();
        assertTrue(kept <= max, "kept " + kept + " bytes, bound " + max);
        assertTrue(kept > max / 2, "it still caches up to the bound: " + kept);
        assertTrue(cache.entries() < 100, "entries kept: " + cache.entries());
        assertEquals(501, reads.get(), "the often used one was read once, not evicted by the one-off large ones");
    }

    @Test
    void oneObjectLargerThanTheBoundIsAnsweredButNotKept() throws Exception {
        SourceCache cache = cache(DIRECT, 64 * 1024);
        server.put("huge", Map.of("k", "y".repeat(200 * 1024)));
        assertEquals(200 * 1024, cache.get(key("huge")).get().get("k").length());
        assertEquals(0, cache.weightedSize());
    }

    @Test
    void absentObjectsAreRememberedBrieflyThenReadAgain() throws Exception {
        SourceCache cache = cache(DIRECT, 1 << 20);
        assertNull(cache.get(key("later")).get(), "does not exist (yet)");
        assertNull(cache.get(key("later")).get());
        assertEquals(1, reads.get());
        server.put("later", Map.of("ZEEBE_ADDRESS", "x:1"));
        advance(NEGATIVE.plusMillis(1));
        assertEquals("x:1", cache.get(key("later")).get().get("ZEEBE_ADDRESS"), "created after the pod: found after 5 s");
    }

    @Test
    void expiredEntriesAreDroppedNotKept() throws Exception {
        SourceCache cache = cache(DIRECT, 1 << 20);
        for (int i = 0; i < 20; i++) {
            server.put("c" + i, Map.of("k", "v"));
            cache.get(key("c" + i)).get();
        }
        assertEquals(20, cache.entries());
        advance(TTL.plusSeconds(1));
        assertEquals(0, cache.entries(), "expired entries leave the cache (the old map kept them until it was full)");
        assertEquals(0, cache.weightedSize());
    }

    @Test
    void failedReadsAreNotCached() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        SourceCache cache = new SourceCache(k -> {
            if (calls.incrementAndGet() == 1) {
                throw new IllegalStateException("HTTP 500 from the API server");
            }
            return Map.of("k", "v");
        }, DIRECT, TTL, NEGATIVE, 1 << 20, clock);
        CompletableFuture<Map<String, String>> first = cache.get(key("flaky"));
        assertThrows(java.util.concurrent.ExecutionException.class, first::get);
        assertEquals("v", cache.get(key("flaky")).get().get("k"), "the next request reads again");
        assertEquals(2, calls.get());
    }

    @Test
    void weightCountsKeysValuesAndOverhead() {
        assertEquals(64 + 4 + 3, SourceCache.weigh(key("cfg"), Map.of()));
        assertEquals(64 + 4 + 3 + 48 + 1 + 5, SourceCache.weigh(key("cfg"), Map.of("k", "value")));
    }
}
