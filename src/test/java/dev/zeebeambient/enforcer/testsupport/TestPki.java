package dev.zeebeambient.enforcer.testsupport;

import dev.zeebeambient.enforcer.tls.Pki;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;

/**
 * A throw-away CA and a serving certificate for localhost, made at test time with the
 * application's own {@link Pki} (no private key is committed). The API server trusts the CA
 * through the webhook's caBundle. Also the TLS client side of the tests.
 */
public final class TestPki {

    private static TestPki instance;

    private final Path dir;
    private final Pki.Issued ca;

    private TestPki() throws Exception {
        dir = Files.createTempDirectory("enforcer-test-pki");
        dir.toFile().deleteOnExit();
        Instant now = Instant.now();
        ca = Pki.ca("zeebe-ambient-enforcer test CA", Duration.ofDays(1), now);
        Pki.Issued server = Pki.serving(ca, List.of("localhost"), List.of("127.0.0.1"), Duration.ofDays(1), now);
        Files.writeString(cert(), server.certificatePem() + ca.certificatePem());
        Files.writeString(key(), server.keyPem()); // PKCS#8, the form Vert.x reads
        Files.writeString(dir.resolve("ca.crt"), ca.certificatePem());
        // deleteOnExit runs in reverse order of registration: the files, then the directory registered above (a JVM used
        // to leave one enforcer-test-pki* directory per test JVM behind)
        for (Path f : List.of(cert(), key(), dir.resolve("ca.crt"))) {
            f.toFile().deleteOnExit();
        }
    }

    public static synchronized TestPki get() {
        if (instance == null) {
            try {
                instance = new TestPki();
            } catch (Exception e) {
                throw new IllegalStateException("cannot create the test PKI", e);
            }
        }
        return instance;
    }

    /** The CA certificate alone (PEM). */
    public Path caCert() {
        return dir.resolve("ca.crt");
    }

    public Path cert() {
        return dir.resolve("tls.crt");
    }

    public Path key() {
        return dir.resolve("tls.key");
    }

    public String caPem() {
        return ca.certificatePem();
    }

    /** What a webhook's {@code clientConfig.caBundle} holds. */
    public String caBundle() {
        return Base64.getEncoder().encodeToString(caPem().getBytes(StandardCharsets.US_ASCII));
    }

    public KeyStore trustStore() {
        return trustStore(caPem());
    }

    /** A client TLS context trusting only the test CA. */
    public SSLContext sslContext() {
        return sslContext(trustStore());
    }

    /** A trust store holding every certificate of a PEM bundle. */
    public static KeyStore trustStore(String caPem) {
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            int i = 0;
            for (X509Certificate c : Pki.certificates(caPem)) {
                ks.setCertificateEntry("ca" + i++, c);
            }
            return ks;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public static SSLContext sslContext(KeyStore trust) {
        try {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A hostname-verified handshake with the admission port (as the API server does it). */
    public static SSLSession handshake(KeyStore trust) throws Exception {
        try (SSLSocket s = (SSLSocket) sslContext(trust).getSocketFactory().createSocket("localhost", Endpoints.HTTPS_PORT)) {
            var params = s.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS");
            s.setSSLParameters(params);
            s.startHandshake();
            return s.getSession();
        }
    }
}
