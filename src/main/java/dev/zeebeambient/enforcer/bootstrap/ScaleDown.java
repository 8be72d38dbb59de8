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
 * cleanup scales it to 0 itself and waits until the leader Lease is released (a replica releases it on SIGTERM) or has
 * expired (a replica killed without releasing it).
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

    private final KubernetesClient client;
    private final Clock clock;

    public ScaleDown(KubernetesClient client, Clock clock) {
        this.client = client;
        this.clock = clock;
    }

    /**
     * Scales {@code namespace/deployment} to 0 and waits for the Lease {@code namespace/lease}; returns empty when no
     * replica leads any more, else why cleanup must not run (the message names the Deployment, the Lease and the holder).
     */
    public Optional<String> run(String namespace, String deployment, String lease, Duration timeout) throws InterruptedException {
        try {
            // the scale subresource only (get, update): the ServiceAccount may not read or change the Deployment itself
            var resource = client.apps().deployments().inNamespace(namespace).withName(deployment);
            var scale = resource.scale();
            if (scale == null) {
                return Optional.of("Deployment " + namespace + "/" + deployment + " not found; nothing to scale down");
            }
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
                held = leaseHeld(client.leases().inNamespace(namespace).withName(lease).get(), clock.instant());
            } catch (KubernetesClientException e) {
                held = Optional.of("cannot read the Lease (HTTP " + e.getCode() + ")");
            }
            if (held.isEmpty()) {
                return held;
            }
            Thread.sleep(500);
        } while (clock.instant().isBefore(deadline));
        return Optional.of("Deployment " + namespace + "/" + deployment + " scaled to 0, but after " + timeout.toSeconds()
                + " s the leader Lease " + namespace + "/" + lease + " is still held: " + held.get()
                + "; nothing was deleted (a running leader would re-create it)");
    }
}
