package dev.zeebeambient.enforcer.kube;

import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.detection.ResolvedSources;
import dev.zeebeambient.enforcer.detection.SourceRef;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Fetches the ConfigMaps (and, only when enabled, Secrets) a pod references, through a short-lived
 * cache bounded by bytes ({@link SourceCache}), with one time budget per admission request: what is not back in time is reported as
 * unavailable instead of holding up the API server's call. Late answers still fill the cache.
 */
@ApplicationScoped
public class SourceResolver {

    private static final Logger LOG = Logger.getLogger(SourceResolver.class);
    private static final Duration NEGATIVE_TTL = Duration.ofSeconds(5);

    private final KubernetesClient client;
    private final MeterRegistry registry;
    private final Duration timeout;
    private final SourceCache cache;
    private final ThreadPoolExecutor pool;

    public SourceResolver(KubernetesClient client, MeterRegistry registry, EnforcerConfig config) {
        this.client = client;
        this.registry = registry;
        this.timeout = config.detection().lookupTimeout();
        AtomicInteger n = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(8, 8, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(256), r -> {
            Thread t = new Thread(r, "source-lookup-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.cache = new SourceCache(this::fetch, pool, config.detection().cacheTtl(), NEGATIVE_TTL,
                config.detection().cacheMaxBytes(), com.github.benmanes.caffeine.cache.Ticker.systemTicker());
        registry.gauge("zeebe.ambient.source.cache.bytes", cache, SourceCache::weightedSize);
    }

    public void stop() {
        pool.shutdownNow();
    }

    public ResolvedSources resolve(String namespace, Set<SourceRef> refs) {
        if (refs.isEmpty()) {
            return ResolvedSources.NONE;
        }
        long now = System.nanoTime();
        Map<SourceRef, Map<String, String>> data = new LinkedHashMap<>();
        Map<SourceRef, CompletableFuture<Map<String, String>>> pending = new HashMap<>();
        Set<SourceRef> unavailable = new HashSet<>();
        Set<SourceRef> missing = new HashSet<>();
        for (SourceRef ref : refs) {
            SourceCache.Key key = new SourceCache.Key(namespace, ref);
            if (cache.present(key)) {
                count(ref, "cached"); // misses are counted by the read itself: fetched / not-found / error
            }
            try {
                pending.put(ref, cache.get(key));
            } catch (RejectedExecutionException full) {
                count(ref, "overloaded");
                unavailable.add(ref);
            }
        }
        long deadline = now + timeout.toNanos();
        for (var p : pending.entrySet()) {
            try {
                Map<String, String> d = p.getValue().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (d != null) {
                    data.put(p.getKey(), d);
                } else {
                    missing.add(p.getKey());
                }
            } catch (java.util.concurrent.TimeoutException e) {
                count(p.getKey(), "timeout");
                LOG.warnf("reading %s in namespace %s took longer than %s; not checked for this pod",
                        p.getKey(), namespace, timeout);
                unavailable.add(p.getKey());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                unavailable.add(p.getKey());
            } catch (Exception e) {
                count(p.getKey(), "error");
                LOG.warnf("reading %s in namespace %s failed: %s", p.getKey(), namespace, rootMessage(e));
                unavailable.add(p.getKey());
            }
        }
        return new ResolvedSources(data, unavailable, missing);
    }

    private Map<String, String> fetch(SourceCache.Key key) {
        Map<String, String> data;
        String ns = key.namespace();
        String name = key.ref().name();
        if (key.ref().kind() == SourceRef.Kind.CONFIGMAP) {
            ConfigMap cm = client.configMaps().inNamespace(ns).withName(name).get();
            // only data: binaryData cannot name an address, metadata is not read
            data = cm == null ? null : cm.getData() == null ? Map.of() : cm.getData();
        } else {
            Secret s = client.secrets().inNamespace(ns).withName(name).get();
            data = s == null ? null : decode(s.getData());
        }
        count(key.ref(), data == null ? "not-found" : "fetched");
        return data;
    }

    private static Map<String, String> decode(Map<String, String> b64) {
        if (b64 == null) {
            return Map.of();
        }
        Map<String, String> out = new HashMap<>();
        b64.forEach((k, v) -> {
            try {
                out.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8));
            } catch (IllegalArgumentException ignored) {
                // not base64: not something a client could read an address from
            }
        });
        return out;
    }

    private void count(SourceRef ref, String result) {
        registry.counter("zeebe.ambient.source.lookups", "kind", ref.kind().name().toLowerCase(), "result", result)
                .increment();
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        if (t instanceof KubernetesClientException k && k.getCode() > 0) {
            return "HTTP " + k.getCode() + " " + k.getMessage();
        }
        return t.toString();
    }

}
