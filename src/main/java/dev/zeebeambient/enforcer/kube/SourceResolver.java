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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Fetches the ConfigMaps (and, only when enabled, Secrets) a pod references, with a short-lived
 * cache and one time budget per admission request: what is not back in time is reported as
 * unavailable instead of holding up the API server's call. Late answers still fill the cache.
 */
@ApplicationScoped
public class SourceResolver {

    private static final Logger LOG = Logger.getLogger(SourceResolver.class);
    private static final int MAX_ENTRIES = 10_000;
    private static final Duration NEGATIVE_TTL = Duration.ofSeconds(5);

    private final KubernetesClient client;
    private final MeterRegistry registry;
    private final Duration timeout;
    private final Duration ttl;
    private final Map<Key, Entry> cache = new ConcurrentHashMap<>();
    /** One read per key at a time: a scale-up of 50 replicas asks the API server once. */
    private final Map<Key, CompletableFuture<Map<String, String>>> inFlight = new ConcurrentHashMap<>();
    private final ExecutorService pool;

    public SourceResolver(KubernetesClient client, MeterRegistry registry, EnforcerConfig config) {
        this.client = client;
        this.registry = registry;
        this.timeout = config.detection().lookupTimeout();
        this.ttl = config.detection().cacheTtl();
        AtomicInteger n = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(8, 8, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(256), r -> {
            Thread t = new Thread(r, "source-lookup-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
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
            Key key = new Key(namespace, ref);
            Entry e = cache.get(key);
            if (e != null && e.expiresAt - now > 0) {
                count(ref, "cached");
                if (e.data != null) {
                    data.put(ref, e.data);
                } else {
                    missing.add(ref);
                }
                continue;
            }
            try {
                pending.put(ref, inFlight.computeIfAbsent(key, k -> CompletableFuture.supplyAsync(() -> fetch(k), pool)
                        .whenComplete((d, t) -> inFlight.remove(k))));
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

    private Map<String, String> fetch(Key key) {
        Map<String, String> data;
        String ns = key.namespace();
        String name = key.ref().name();
        if (key.ref().kind() == SourceRef.Kind.CONFIGMAP) {
            ConfigMap cm = client.configMaps().inNamespace(ns).withName(name).get();
            data = cm == null ? null : cm.getData() == null ? Map.of() : cm.getData();
        } else {
            Secret s = client.secrets().inNamespace(ns).withName(name).get();
            data = s == null ? null : decode(s.getData());
        }
        count(key.ref(), data == null ? "not-found" : "fetched");
        long now = System.nanoTime();
        if (cache.size() >= MAX_ENTRIES) {
            cache.values().removeIf(e -> e.expiresAt - now <= 0);
            if (cache.size() >= MAX_ENTRIES) {
                cache.clear();
            }
        }
        cache.put(key, new Entry(data, now + (data == null ? NEGATIVE_TTL : ttl).toNanos()));
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

    private record Key(String namespace, SourceRef ref) {
    }

    private record Entry(Map<String, String> data, long expiresAt) {
    }
}
