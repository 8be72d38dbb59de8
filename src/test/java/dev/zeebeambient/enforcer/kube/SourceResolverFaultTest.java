package dev.zeebeambient.enforcer.kube;

import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.detection.ResolvedSources;
import dev.zeebeambient.enforcer.detection.SourceRef;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.smallrye.config.SmallRyeConfigBuilder;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kubernetes API faults while resolving ConfigMaps during admission: the webhook's answer must
 * stay within its budget (the API server's call to us times out after 5 s).
 */
class SourceResolverFaultTest {

    static EnforcerConfig config() {
        return new SmallRyeConfigBuilder().withMapping(EnforcerConfig.class)
                .withConverter(java.time.Duration.class, 200, new io.quarkus.runtime.configuration.DurationConverter())
                .withDefaultValues(Map.of("enforcer.detection.lookup-timeout", "300ms")).build()
                .getConfigMapping(EnforcerConfig.class);
    }

    static KubernetesClient client(String url) {
        return new KubernetesClientBuilder().withConfig(new ConfigBuilder().withMasterUrl(url).withRequestTimeout(30_000)
                .withRequestRetryBackoffLimit(0).build()).build();
    }

    @Test
    void apiServerThatNeverAnswersCostsTheBudgetNotTheCall() throws Exception {
        List<Socket> held = new ArrayList<>();
        try (ServerSocket blackhole = new ServerSocket(0)) {
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        held.add(blackhole.accept()); // accept, never answer
                    }
                } catch (Exception closed) {
                    // test over
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            try (KubernetesClient k8s = client("http://127.0.0.1:" + blackhole.getLocalPort())) {
                SourceResolver resolver = new SourceResolver(k8s, registry, config());
                long start = System.nanoTime();
                ResolvedSources r = resolver.resolve("apps", Set.of(SourceRef.configMap("a"), SourceRef.configMap("b")));
                long ms = (System.nanoTime() - start) / 1_000_000;
                assertTrue(ms < 1000, "answered in " + ms + " ms (budget 300 ms)");
                assertEquals(Set.of(SourceRef.configMap("a"), SourceRef.configMap("b")), r.unavailable());
                assertTrue(r.data().isEmpty());
                assertEquals(2.0, registry.counter("zeebe.ambient.source.lookups", "kind", "configmap", "result", "timeout").count());
            }
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }

    @Test
    void unreachableApiServerIsReportedNotThrown() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        try (KubernetesClient k8s = client("http://127.0.0.1:" + closedPort)) {
            SourceResolver resolver = new SourceResolver(k8s, new SimpleMeterRegistry(), config());
            long start = System.nanoTime();
            ResolvedSources r = resolver.resolve("apps", Set.of(SourceRef.configMap("a")));
            assertTrue((System.nanoTime() - start) / 1_000_000 < 1000);
            assertEquals(Set.of(SourceRef.configMap("a")), r.unavailable());
        }
    }
}
