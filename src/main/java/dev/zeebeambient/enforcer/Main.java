package dev.zeebeambient.enforcer;

import dev.zeebeambient.enforcer.tls.Pki;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Entry point. With self-managed TLS the certificate comes from a Secret only after start-up, but
 * the HTTPS server needs files to start: a throw-away one-day certificate is written first (when
 * none is there) and replaced within seconds by {@code SelfManagedTls}.
 */
@QuarkusMain
public final class Main {

    private Main() {
    }

    public static void main(String... args) throws Exception {
        if ("true".equalsIgnoreCase(setting("enforcer.self-managed-tls.enabled", "ENFORCER_SELF_MANAGED_TLS_ENABLED", "false"))) {
            Path cert = Paths.get(setting("quarkus.tls.admission.key-store.pem.0.cert", "ENFORCER_TLS_CERT",
                    "/etc/zeebe-ambient-enforcer/tls/tls.crt"));
            Path key = Paths.get(setting("quarkus.tls.admission.key-store.pem.0.key", "ENFORCER_TLS_KEY",
                    "/etc/zeebe-ambient-enforcer/tls/tls.key"));
            if (!Files.exists(cert) || !Files.exists(key)) {
                Instant now = Instant.now();
                Pki.Issued ca = Pki.ca(Pki.PLACEHOLDER_ISSUER, Duration.ofDays(1), now);
                Pki.Issued serving = Pki.serving(ca, List.of("localhost"), List.of(), Duration.ofDays(1), now);
                Pki.writePrivate(key, serving.keyPem());
                Pki.writePrivate(cert, serving.certificatePem());
            }
        }
        Quarkus.run(args);
    }

    /**
     * A setting read before Quarkus' configuration exists: a system property ({@code -D}) first,
     * then its environment variable, as the configuration itself would resolve them (application.properties
     * holds no value for these).
     */
    static String setting(String property, String env, String fallback) {
        String v = System.getProperty(property);
        if (v == null) {
            v = System.getenv(env);
        }
        return v == null || v.isBlank() ? fallback : v;
    }
}
