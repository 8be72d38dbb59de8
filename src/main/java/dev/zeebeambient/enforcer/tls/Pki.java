package dev.zeebeambient.enforcer.tls;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The certificate work of self-managed TLS: an EC P-256 CA and serving certificates signed by
 * it, as PEM. NotBefore is back-dated one hour against clock skew (as Kyverno and
 * cert-controller do).
 */
public final class Pki {

    private static final SecureRandom RANDOM = new SecureRandom();
    /** Common name of the throw-away CA behind {@code Main}'s start-up placeholder certificate. */
    public static final String PLACEHOLDER_ISSUER = "zeebe-ambient-enforcer placeholder";
    private static final Pattern PEM = Pattern.compile(
            "-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");

    private Pki() {
    }

    /** A key pair and its certificate. */
    public record Issued(X509Certificate certificate, PrivateKey key) {
        public String certificatePem() {
            return pem("CERTIFICATE", encoded(certificate));
        }

        public String keyPem() {
            return pem("PRIVATE KEY", key.getEncoded());
        }
    }

    public static Issued ca(String commonName, Duration validity, Instant now) {
        KeyPair keys = keys();
        X500Name name = new X500Name("CN=" + commonName);
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, serial(), notBefore(now),
                Date.from(now.plus(validity)), name, keys.getPublic());
        try {
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return new Issued(sign(b, keys.getPrivate()), keys.getPrivate());
    }

    public static Issued serving(Issued ca, List<String> dnsNames, List<String> ips, Duration validity, Instant now) {
        KeyPair keys = keys();
        List<GeneralName> sans = new ArrayList<>();
        dnsNames.forEach(d -> sans.add(new GeneralName(GeneralName.dNSName, d)));
        ips.forEach(i -> sans.add(new GeneralName(GeneralName.iPAddress, i)));
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(ca.certificate(), serial(), notBefore(now),
                Date.from(now.plus(validity)), new X500Name("CN=" + dnsNames.get(0)), keys.getPublic());
        try {
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans.toArray(GeneralName[]::new)));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return new Issued(sign(b, ca.key()), keys.getPrivate());
    }

    /** Every certificate in a PEM bundle (empty when there is none or it does not parse). */
    public static List<X509Certificate> certificates(String pem) {
        List<X509Certificate> out = new ArrayList<>();
        if (pem == null) {
            return out;
        }
        Matcher m = PEM.matcher(pem);
        while (m.find()) {
            if (m.group(1).equals("CERTIFICATE")) {
                try {
                    out.add((X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
                            new ByteArrayInputStream(Base64.getMimeDecoder().decode(m.group(2).trim()))));
                } catch (Exception ignored) {
                    // not a certificate: treated as absent
                }
            }
        }
        return out;
    }

    public static PrivateKey key(String pem) {
        Matcher m = pem == null ? null : PEM.matcher(pem);
        if (m == null || !m.find() || !m.group(1).equals("PRIVATE KEY")) {
            return null;
        }
        try {
            return KeyFactory.getInstance("EC").generatePrivate(
                    new PKCS8EncodedKeySpec(Base64.getMimeDecoder().decode(m.group(2).trim())));
        } catch (Exception e) {
            return null;
        }
    }

    public static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    private static byte[] encoded(X509Certificate c) {
        try {
            return c.getEncoded();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static KeyPair keys() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(256);
            return g.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey signer) {
        try {
            return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer)));
        } catch (Exception e) {
            throw new IllegalStateException("cannot sign a certificate", e);
        }
    }

    private static BigInteger serial() {
        return new BigInteger(127, RANDOM);
    }

    private static Date notBefore(Instant now) {
        return Date.from(now.minus(Duration.ofHours(1)));
    }

    /**
     * Writes a file readable by its owner only (0600) where the file system knows POSIX
     * permissions: created that way, never widened afterwards.
     */
    public static void writePrivate(java.nio.file.Path file, String content) throws java.io.IOException {
        java.nio.file.Path dir = file.toAbsolutePath().getParent();
        if (dir != null) {
            java.nio.file.Files.createDirectories(dir);
        }
        java.nio.file.Files.deleteIfExists(file);
        if (java.nio.file.FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            java.nio.file.Files.createFile(file, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        }
        java.nio.file.Files.writeString(file, content, StandardCharsets.US_ASCII);
    }
}
