package dev.zeebeambient.enforcer.bootstrap;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Before cleanup deletes the waypoint, Service and DestinationRule, no replica may lead any more: a running leader's
 * drift repair would re-create them within seconds. Helm's pre-delete hook runs while the Deployment still does, so
 * cleanup scales it to 0 itself and waits until <em>no pod of the Deployment exists</em> (terminating ones included) and
 * the leader Lease is released (a replica releases it on SIGTERM) or has expired (a replica killed without releasing it).
 * A free Lease alone is not enough: a follower whose SIGTERM has not arrived yet takes the Lease its predecessor released
 * and repairs what cleanup deletes next.
 */
public final class ScaleDown {

    /** What stands in the way, or empty when no replica leads. */
    public static Optional<String> leaseHeld(Lease lease, Instant now) {
        if (lease == null || lease.getSpec() == null) {
            return Optional.empty();
        }
        var spec = lease.getSpec();
        String holder = spec.getHolderIdentity();
        if (holder == null || holder.isEmpty()) {
            return Optional.empty();
        }
        if (spec.getRenewTime() == null || spec.getLeaseDurationSeconds() == null) {
            return Optional.of(holder + " holds it (no renew time)");
        }
        Instant expires = spec.getRenewTime().toInstant().plusSeconds(spec.getLeaseDurationSeconds());
        return now.isAfter(expires) ? Optional.empty()
                : Optional.of(holder + " holds it until " + expires);
    }

    /** Pods that still run the enforcer (terminating ones count: a replica acts until its process ends), or empty. */
    public static Optional<String> podsLeft(java.util.List<io.fabric8.kubernetes.api.model.Pod> pods) {
        if (pods.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(pods.size() + " pod(s) of it still exist: " + pods.stream().limit(5).map(p -> p.getMetadata().getName()
                + (p.getMetadata().getDeletionTimestamp() != null ? " (terminating)" : "")).collect(java.util.stream.Collectors.joining(", ")));
    }

    private final KubernetesClient client;
    private final Clock clock;

    public ScaleDown(KubernetesClient client, Clock clock) {
        this.client = client;
        this.clock = clock;
    }

    /**
     * Scales {@code namespace/deployment} to 0 and waits for its pods to be gone and for the Lease {@code namespace/lease};
     * returns empty when no replica runs or leads any more, else why cleanup must not run (the message names the
     * Deployment, the Lease, the pods or the holder).
     */
    public Optional<String> run(String namespace, String deployment, String lease, Duration timeout) throws InterruptedException {
        String selector;
        try {
            // the scale subresource only (get, update): the ServiceAccount may not read or change the Deployment itself
            var resource = client.apps().deployments().inNamespace(namespace).withName(deployment);
            var scale = resource.scale();
            if (scale == null) {
                return Optional.of("Deployment " + namespace + "/" + deployment + " not found; nothing to scale down");
            }
            selector = scale.getStatus() == null ? null : scale.getStatus().getSelector();
            scale.getSpec().setReplicas(0);
            resource.scale(scale);
        } catch (KubernetesClientException e) {
            return Optional.of("cannot scale Deployment " + namespace + "/" + deployment + " to 0 (HTTP " + e.getCode() + ": "
                    + e.getMessage() + "); scale it down yourself and run cleanup without enforcer.bootstrap.cleanup-scale-down");
        }
        Instant deadline = clock.instant().plus(timeout);
        Optional<String> held;
        do {
            try {
                held = selector == null || selector.isEmpty() ? Optional.empty()
                        : podsLeft(client.pods().inNamespace(namespace).withLabelSelector(selector).list().getItems());
                if (held.isEmpty()) {
                    held = leaseHeld(client.leases().inNamespace(namespace).withName(lease).get(), clock.instant())
                            .map(h -> "the leader Lease " + namespace + "/" + lease + " is still held: " + h);
                }
            } catch (KubernetesClientException e) {
                held = Optional.of("cannot read its pods or the Lease (HTTP " + e.getCode() + ")");
            }
            if (held.isEmpty()) {
                return held;
            }
            Thread.sleep(500);
        } while (clock.instant().isBefore(deadline));
        return Optional.of("Deployment " + namespace + "/" + deployment + " scaled to 0, but after " + timeout.toSeconds()
                + " s " + held.get() + "; nothing was deleted (a running replica would re-create it)");
    }
}
