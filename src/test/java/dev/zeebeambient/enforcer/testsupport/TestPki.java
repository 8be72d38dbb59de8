package dev.zeebeambient.enforcer.testsupport;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;

/**
 * A throw-away CA and a serving certificate for localhost, made at test time (no private key
 * is committed). The API server trusts the CA through the webhook's caBundle.
 */
public final class TestPki {

    private static TestPki instance;

    private final Path dir;
    private final X509Certificate ca;

    private TestPki() throws Exception {
        dir = Files.createTempDirectory("enforcer-test-pki");
        dir.toFile().deleteOnExit();
        KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
        gen.initialize(256);
        KeyPair caKeys = gen.generateKeyPair();
        Instant now = Instant.now();
        X500Name caName = new X500Name("CN=zeebe-ambient-enforcer test CA");
        X509v3CertificateBuilder caBuilder = new JcaX509v3CertificateBuilder(caName, BigInteger.ONE,
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(1))), caName,
                caKeys.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        ca = sign(caBuilder, caKeys);

        KeyPair serverKeys = gen.generateKeyPair();
        X509v3CertificateBuilder serverBuilder = new JcaX509v3CertificateBuilder(caName, BigInteger.TWO,
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(1))),
                new X500Name("CN=localhost"), serverKeys.getPublic())
                .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                        new GeneralName(GeneralName.dNSName, "localhost"),
                        new GeneralName(GeneralName.iPAddress, "127.0.0.1") }))
                .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
        X509Certificate server = sign(serverBuilder, caKeys);
        Files.writeString(cert(), pem(server) + pem(ca));
        // PKCS#8 ("PRIVATE KEY"), the form Vert.x and most servers read
        Files.writeString(key(), "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(serverKeys.getPrivate().getEncoded())
                + "\n-----END PRIVATE KEY-----\n");
        Files.writeString(dir.resolve("ca.crt"), pem(ca));
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

    public Path cert() {
        return dir.resolve("tls.crt");
    }

    public Path key() {
        return dir.resolve("tls.key");
    }

    public String caPem() {
        return pem(ca);
    }

    /** What a webhook's {@code clientConfig.caBundle} holds. */
    public String caBundle() {
        return Base64.getEncoder().encodeToString(caPem().getBytes(StandardCharsets.US_ASCII));
    }

    public KeyStore trustStore() {
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setCertificateEntry("ca", ca);
            return ks;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A client TLS context trusting only the test CA. */
    public javax.net.ssl.SSLContext sslContext() {
        try {
            javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance("PKIX");
            tmf.init(trustStore());
            javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair signer) throws Exception {
        return new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate())));
    }

    private static String pem(Object o) {
        try (StringWriter w = new StringWriter(); JcaPEMWriter p = new JcaPEMWriter(w)) {
            p.writeObject(o);
            p.flush();
            return w.toString();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
