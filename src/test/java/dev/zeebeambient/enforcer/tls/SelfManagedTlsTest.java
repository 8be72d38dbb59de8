package dev.zeebeambient.enforcer.tls;

import dev.zeebeambient.enforcer.testsupport.Endpoints;
import dev.zeebeambient.enforcer.testsupport.Eventually;
import dev.zeebeambient.enforcer.leader.Leadership;
import dev.zeebeambient.enforcer.testsupport.KubeApiServerResource;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import dev.zeebeambient.enforcer.testsupport.TestPki;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.tls.CertificateUpdatedEvent;
import io.quarkus.tls.TlsConfigurationRegistry;
import jakarta.enterprise.event.Event;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Self-managed TLS against the real API server, with the real HTTPS server reloading. */
@QuarkusTest
@WithTestResource(value = KubeApiServerResource.class,
        initArgs = @ResourceArg(name = KubeApiServerResource.IDENTITY, value = "overlays/self-managed-tls"))
@TestProfile(SelfManagedTlsTest.Names.class)
class SelfManagedTlsTest {

    /** Not enabled (no background checks): the test drives check() and the clock itself. */
    public static class Names implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("enforcer.self-managed-tls.extra-dns-names", "localhost",
                    "enforcer.self-managed-tls.extra-ips", "127.0.0.1");
        }
    }

    @Inject
    SelfManagedTls selfManaged;
    @Inject
    Leadership leadership;
    @Inject
    TlsConfigurationRegistry registry;
    @Inject
    Event<CertificateUpdatedEvent> updated;

    static final String NS = "zeebe-ambient-enforcer";

    Map<String, String> secret(KubernetesClient k8s) {
        Secret s = k8s.secrets().inNamespace(NS).withName("zeebe-ambient-enforcer-tls").get();
        Map<String, String> out = new java.util.HashMap<>();
        s.getData().forEach((k, v) -> out.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.US_ASCII)));
        return out;
    }

    static String caBundle(KubernetesClient k8s) {
        return new String(Base64.getDecoder().decode(k8s.admissionRegistration().v1().mutatingWebhookConfigurations()
                .withName("zeebe-ambient-enforcer").get().getWebhooks().get(0).getClientConfig().getCaBundle()),
                StandardCharsets.US_ASCII);
    }

    static X509Certificate handshake(String caPem) throws Exception {
        return (X509Certificate) TestPki.handshake(TestPki.trustStore(caPem)).getPeerCertificates()[0];
    }

    @Test
    void createsRenewsAndReinjects() throws Exception {
        KubeTestCluster cluster = KubeTestCluster.get();
        KubernetesClient k8s = cluster.client();
        TestPki pki = TestPki.get();
        Path savedCert = Files.createTempFile("saved", ".crt");
        Path savedKey = Files.createTempFile("saved", ".key");
        Files.copy(pki.cert(), savedCert, StandardCopyOption.REPLACE_EXISTING);
        Files.copy(pki.key(), savedKey, StandardCopyOption.REPLACE_EXISTING);
        cluster.registerWebhook("zeebe-ambient-enforcer", Endpoints.MUTATE_URL, "Ignore");
        k8s.secrets().inNamespace(NS).withName("zeebe-ambient-enforcer-tls").delete();
        Eventually.await(leadership::isLeader, 30, "leadership");
        Instant now = Instant.now();
        try {
            // 1. nothing there: CA + certificate created, CA injected, HTTPS server serves it
            selfManaged.useClock(Clock.fixed(now, ZoneOffset.UTC));
            selfManaged.check();
            Map<String, String> first = secret(k8s);
            assertEquals(java.util.Set.of("ca.crt", "ca.key", "tls.crt", "tls.key"), first.keySet());
            assertEquals(first.get("ca.crt"), caBundle(k8s), "caBundle injected");
            X509Certificate served = handshake(first.get("ca.crt"));
            assertEquals(Pki.certificates(first.get("tls.crt")).get(0), served, "served without restart");
            long days = Duration.between(now, served.getNotAfter().toInstant()).toDays();
            assertTrue(days >= 149 && days <= 150, "150-day certificate: " + days);
            assertTrue(served.getSubjectAlternativeNames().stream().anyMatch(
                    n -> n.get(1).equals("zeebe-ambient-enforcer.zeebe-ambient-enforcer.svc")));

            // 2. nothing due: no write
            String rv = k8s.secrets().inNamespace(NS).withName("zeebe-ambient-enforcer-tls").get().getMetadata().getResourceVersion();
            selfManaged.check();
            assertEquals(rv, k8s.secrets().inNamespace(NS).withName("zeebe-ambient-enforcer-tls").get().getMetadata().getResourceVersion());

            // 3. someone resets the caBundle: re-injected
            cluster.registerWebhook("zeebe-ambient-enforcer", Endpoints.MUTATE_URL, "Ignore");
            assertNotEquals(first.get("ca.crt"), caBundle(k8s));
            selfManaged.check();
            assertEquals(first.get("ca.crt"), caBundle(k8s), "re-injected");

            // 4. 140 days later the certificate is within renew-before (15 d): renewed, same CA
            selfManaged.useClock(Clock.fixed(now.plus(Duration.ofDays(140)), ZoneOffset.UTC));
            selfManaged.check();
            Map<String, String> renewed = secret(k8s);
            assertEquals(first.get("ca.key"), renewed.get("ca.key"));
            assertNotEquals(first.get("tls.crt"), renewed.get("tls.crt"));
            // (issued "in the future" by the shifted clock, so not handshaked: checked as files and signature)
            assertEquals(renewed.get("tls.crt"), Files.readString(pki.cert()), "the HTTPS server's files follow the Secret");
            Pki.certificates(renewed.get("tls.crt")).get(0).verify(Pki.certificates(renewed.get("ca.crt")).get(0).getPublicKey());

            // 5. 355 days later the CA itself is due: new CA, the old one stays in the bundle while valid
            selfManaged.useClock(Clock.fixed(now.plus(Duration.ofDays(355)), ZoneOffset.UTC));
            selfManaged.check();
            Map<String, String> rotated = secret(k8s);
            assertNotEquals(first.get("ca.key"), rotated.get("ca.key"));
            List<X509Certificate> bundle = Pki.certificates(rotated.get("ca.crt"));
            assertEquals(2, bundle.size(), "new CA first, previous CA kept until it expires");
            assertEquals(Pki.certificates(first.get("ca.crt")).get(0), bundle.get(1));
            assertEquals(rotated.get("ca.crt"), caBundle(k8s));
            assertEquals(rotated.get("tls.crt"), Files.readString(pki.cert()));
            Pki.certificates(rotated.get("tls.crt")).get(0).verify(bundle.get(0).getPublicKey());
        } finally {
            Files.copy(savedCert, pki.cert(), StandardCopyOption.REPLACE_EXISTING);
            Files.copy(savedKey, pki.key(), StandardCopyOption.REPLACE_EXISTING);
            var admission = registry.get("admission").orElseThrow();
            admission.reload();
            updated.fire(new CertificateUpdatedEvent("admission", admission));
            cluster.registerWebhook("zeebe-ambient-enforcer", Endpoints.MUTATE_URL, "Ignore");
            k8s.secrets().inNamespace(NS).withName("zeebe-ambient-enforcer-tls").delete();
        }
    }
}
