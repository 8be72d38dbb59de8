package dev.zeebeambient.enforcer.admission;

import dev.zeebeambient.enforcer.testsupport.KubeApiServerResource;
import dev.zeebeambient.enforcer.testsupport.TestPki;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.tls.CertificateUpdatedEvent;
import io.quarkus.tls.TlsConfiguration;
import io.quarkus.tls.TlsConfigurationRegistry;
import jakarta.enterprise.event.Event;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * certs/generate.sh's certificate serves real TLS, and a replaced certificate is picked up without
 * a restart (what happens when cert-manager or a re-run of the script renews the mounted Secret).
 */
@QuarkusTest
@WithTestResource(KubeApiServerResource.class)
class CertificateReloadTest {

    @Inject
    TlsConfigurationRegistry registry;
    @Inject
    Event<CertificateUpdatedEvent> updated;

    void reload() {
        TlsConfiguration tls = registry.get("admission").orElseThrow();
        assertTrue(tls.reload(), "reload of the admission TLS configuration");
        updated.fire(new CertificateUpdatedEvent("admission", tls));
    }

    static X509Certificate handshake(KeyStore trust) throws Exception {
        SSLSession session = TestPki.handshake(trust);
        assertTrue(session.getProtocol().equals("TLSv1.3") || session.getProtocol().equals("TLSv1.2"));
        return (X509Certificate) session.getPeerCertificates()[0];
    }

    static KeyStore trust(Path caPem) throws Exception {
        return TestPki.trustStore(Files.readString(caPem));
    }

    @Test
    void generatedCertificateIsServedAfterAReloadWithoutRestart() throws Exception {
        Path out = Files.createTempDirectory("certs");
        Process p = new ProcessBuilder("bash", "certs/generate.sh", "--out", out.toString(), "--dns", "localhost", "--ip", "127.0.0.1")
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), log);
        assertTrue(Files.readString(out.resolve("tls.key")).startsWith("-----BEGIN PRIVATE KEY-----"), "PKCS#8 key");

        TestPki pki = TestPki.get();
        Path savedCert = Files.createTempFile("saved", ".crt");
        Path savedKey = Files.createTempFile("saved", ".key");
        Files.copy(pki.cert(), savedCert, StandardCopyOption.REPLACE_EXISTING);
        Files.copy(pki.key(), savedKey, StandardCopyOption.REPLACE_EXISTING);
        X509Certificate before = handshake(pki.trustStore());
        try {
            Files.copy(out.resolve("tls.crt"), pki.cert(), StandardCopyOption.REPLACE_EXISTING);
            Files.copy(out.resolve("tls.key"), pki.key(), StandardCopyOption.REPLACE_EXISTING);
            reload();
            X509Certificate renewed = handshake(trust(out.resolve("ca.crt")));
            assertTrue(!renewed.equals(before), "new handshakes use the new certificate");
            assertTrue(renewed.getSubjectAlternativeNames().stream().anyMatch(n -> n.get(1).equals(
                    "zeebe-ambient-enforcer.zeebe-ambient-enforcer.svc")), "SANs for the Service DNS names");
            assertThrows(SSLException.class, () -> handshake(pki.trustStore()), "the old CA no longer matches");
        } finally {
            Files.copy(savedCert, pki.cert(), StandardCopyOption.REPLACE_EXISTING);
            Files.copy(savedKey, pki.key(), StandardCopyOption.REPLACE_EXISTING);
            reload();
        }
        assertEquals(before, handshake(pki.trustStore()));
    }
}
