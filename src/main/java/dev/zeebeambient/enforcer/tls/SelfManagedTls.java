package dev.zeebeambient.enforcer.tls;

import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.leader.Leadership;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.quarkus.tls.CertificateUpdatedEvent;
import io.quarkus.tls.TlsConfiguration;
import io.quarkus.tls.TlsConfigurationRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Self-managed TLS (off by default; cert-manager is the recommended way). The leader keeps a CA
 * and a serving certificate in a Secret, renews the certificate (and the CA) before expiry,
 * keeps a previous CA in the bundle until it expires (so replicas still serving the old
 * certificate stay trusted), and writes the bundle into the webhook's {@code caBundle}, again
 * whenever something resets it. Every replica copies the certificate to its TLS files and
 * reloads the HTTPS server without a restart.
 */
@ApplicationScoped
public class SelfManagedTls {

    private static final Logger LOG = Logger.getLogger(SelfManagedTls.class);
    static final String CA_CRT = "ca.crt";
    static final String CA_KEY = "ca.key";
    static final String TLS_CRT = "tls.crt";
    static final String TLS_KEY = "tls.key";

    private final KubernetesClient client;
    private final EnforcerConfig config;
    private final EnforcerConfig.SelfManagedTls tls;
    private final Leadership leadership;
    private final TlsConfigurationRegistry registry;
    private final Event<CertificateUpdatedEvent> updated;
    private final Path certFile;
    private final Path keyFile;
    private ScheduledExecutorService scheduler;
    Clock clock = Clock.systemUTC();
    /** The files hold the Secret's certificate but the HTTPS server still serves the previous one. */
    private volatile boolean reloadFailed;

    public SelfManagedTls(KubernetesClient client, EnforcerConfig config, Leadership leadership,
            TlsConfigurationRegistry registry, Event<CertificateUpdatedEvent> updated,
            @ConfigProperty(name = "quarkus.tls.admission.key-store.pem.0.cert") String certFile,
            @ConfigProperty(name = "quarkus.tls.admission.key-store.pem.0.key") String keyFile) {
        this.client = client;
        this.config = config;
        this.tls = config.selfManagedTls();
        this.leadership = leadership;
        this.registry = registry;
        this.updated = updated;
        this.certFile = Paths.get(certFile);
        this.keyFile = Paths.get(keyFile);
    }

    public void start() {
        if (!tls.enabled()) {
            return;
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "self-managed-tls");
            t.setDaemon(true);
            return t;
        });
        // reads only, unless something must change: renewal is judged against renew-before, and a
        // reset caBundle is noticed within one period
        scheduler.scheduleWithFixedDelay(this::safeCheck, 0, tls.checkPeriod().toMillis(), TimeUnit.MILLISECONDS);
        leadership.onLeading(() -> scheduler.execute(this::safeCheck));
    }

    public void stop() {
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
    }

    private void safeCheck() {
        try {
            check();
        } catch (RuntimeException e) {
            LOG.warnf("self-managed TLS: check failed (%s); retrying next period", e.toString());
        }
    }

    /** Tests move time forward to reach the renewal horizon. */
    public void useClock(Clock clock) {
        this.clock = clock;
    }

    /** One round: renew if needed (leader), re-inject the caBundle (leader), sync the local files (all). */
    public synchronized void check() {
        String ns = config.ownNamespace();
        Secret secret = client.secrets().inNamespace(ns).withName(tls.secretName()).get();
        Map<String, String> data = decode(secret);
        if (leadership.isLeader()) {
            Map<String, String> renewed = renewIfNeeded(data);
            if (renewed != data) {
                write(ns, secret, renewed);
                data = renewed;
            }
            inject(data.get(CA_CRT));
        }
        if (data.get(TLS_CRT) != null && data.get(TLS_KEY) != null) {
            syncFiles(data.get(TLS_CRT), data.get(TLS_KEY));
        }
    }

    /** Returns {@code data} itself when nothing needs renewing. */
    Map<String, String> renewIfNeeded(Map<String, String> data) {
        Instant now = clock.instant();
        Instant horizon = now.plus(tls.renewBefore());
        List<X509Certificate> cas = Pki.certificates(data.get(CA_CRT));
        var caKey = Pki.key(data.get(CA_KEY));
        X509Certificate currentCa = cas.isEmpty() ? null : cas.get(0);
        List<X509Certificate> leaf = Pki.certificates(data.get(TLS_CRT));
        boolean caOk = currentCa != null && caKey != null && currentCa.getNotAfter().toInstant().isAfter(horizon);
        boolean leafOk = caOk && !leaf.isEmpty() && Pki.key(data.get(TLS_KEY)) != null
                && leaf.get(0).getNotAfter().toInstant().isAfter(horizon) && signedBy(leaf.get(0), currentCa);
        if (caOk && leafOk) {
            return data;
        }
        Pki.Issued ca = caOk ? new Pki.Issued(currentCa, caKey) : Pki.ca("zeebe-ambient-enforcer CA", tls.caValidity(), now);
        Pki.Issued serving = Pki.serving(ca, dnsNames(), tls.extraIps().orElse(List.of()), tls.certValidity(), now);
        // bundle: the current CA first, then older ones still valid (replicas may serve their certificates)
        StringBuilder bundle = new StringBuilder(ca.certificatePem());
        for (X509Certificate old : cas) {
            if (!old.equals(ca.certificate()) && old.getNotAfter().toInstant().isAfter(now)) {
                bundle.append(Pki.pem("CERTIFICATE", encoded(old)));
            }
        }
        Map<String, String> out = new HashMap<>();
        out.put(CA_CRT, bundle.toString());
        out.put(CA_KEY, ca.keyPem());
        out.put(TLS_CRT, serving.certificatePem());
        out.put(TLS_KEY, serving.keyPem());
        LOG.infof("self-managed TLS: %s; new serving certificate valid until %s", caOk ? "certificate renewed"
                : "new CA valid until " + ca.certificate().getNotAfter().toInstant(), serving.certificate().getNotAfter().toInstant());
        return out;
    }

    List<String> dnsNames() {
        String svc = tls.serviceName();
        String ns = config.ownNamespace();
        List<String> names = new ArrayList<>(List.of(svc, svc + "." + ns, svc + "." + ns + ".svc",
                svc + "." + ns + ".svc." + config.clusterDomain()));
        names.addAll(tls.extraDnsNames().orElse(List.of()));
        return names;
    }

    private void write(String ns, Secret existing, Map<String, String> data) {
        Map<String, String> b64 = new HashMap<>();
        data.forEach((k, v) -> b64.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.US_ASCII))));
        Secret s = new SecretBuilder().withNewMetadata().withName(tls.secretName()).withNamespace(ns)
                .addToLabels("app.kubernetes.io/managed-by", config.bootstrap().fieldManager()).endMetadata()
                .withType("kubernetes.io/tls").withData(b64).build();
        if (existing == null) {
            client.secrets().inNamespace(ns).resource(s).create();
        } else {
            s.getMetadata().setResourceVersion(existing.getMetadata().getResourceVersion()); // lose a race, don't clobber
            client.secrets().inNamespace(ns).resource(s).update();
        }
    }

    /** Writes the CA bundle into every webhook of our configuration whose caBundle differs. */
    void inject(String caBundlePem) {
        if (caBundlePem == null) {
            return;
        }
        String want = Base64.getEncoder().encodeToString(caBundlePem.getBytes(StandardCharsets.US_ASCII));
        MutatingWebhookConfiguration mwc = client.admissionRegistration().v1().mutatingWebhookConfigurations()
                .withName(tls.webhookConfiguration()).get();
        if (mwc == null) {
            LOG.warnf("self-managed TLS: MutatingWebhookConfiguration %s not found; caBundle not injected", tls.webhookConfiguration());
            return;
        }
        StringBuilder ops = new StringBuilder("[");
        for (int i = 0; i < mwc.getWebhooks().size(); i++) {
            if (!want.equals(mwc.getWebhooks().get(i).getClientConfig().getCaBundle())) {
                ops.append(ops.length() > 1 ? "," : "").append("{\"op\":\"add\",\"path\":\"/webhooks/").append(i)
                        .append("/clientConfig/caBundle\",\"value\":\"").append(want).append("\"}");
            }
        }
        if (ops.length() > 1) {
            client.admissionRegistration().v1().mutatingWebhookConfigurations().withName(tls.webhookConfiguration())
                    .patch(PatchContext.of(PatchType.JSON), ops.append("]").toString());
            LOG.infof("self-managed TLS: injected the CA bundle into MutatingWebhookConfiguration %s", tls.webhookConfiguration());
        }
    }

    private void syncFiles(String cert, String key) {
        try {
            if (Files.exists(certFile) && Files.readString(certFile).equals(cert)) {
                return;
            }
            replace(keyFile, key);
            replace(certFile, cert);
            TlsConfiguration admission = registry.get("admission").orElseThrow();
            reloadFailed = !admission.reload();
            if (reloadFailed) {
                LOG.warnf("self-managed TLS: wrote the certificate from Secret %s, but the HTTPS server did not reload it", tls.secretName());
                return;
            }
            updated.fire(new CertificateUpdatedEvent("admission", admission));
            LOG.infof("self-managed TLS: serving the certificate from Secret %s", tls.secretName());
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot write " + certFile + " / " + keyFile + ": " + e.getMessage(), e);
        }
    }

    /**
     * True while the HTTPS server still serves {@code Main}'s one-day placeholder (issued by no CA the
     * API server trusts): readiness stays DOWN until the certificate from the Secret is in place.
     */
    public boolean servingPlaceholder() {
        if (!tls.enabled()) {
            return false;
        }
        if (reloadFailed) {
            return true;
        }
        try {
            List<X509Certificate> served = Pki.certificates(Files.readString(certFile));
            return served.isEmpty() || served.get(0).getIssuerX500Principal().getName().contains(Pki.PLACEHOLDER_ISSUER);
        } catch (java.io.IOException | RuntimeException e) {
            return true;
        }
    }

    private static void replace(Path file, String content) throws java.io.IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Pki.writePrivate(tmp, content); // 0600 from the start: a key is never readable by others, not even briefly
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static Map<String, String> decode(Secret s) {
        Map<String, String> out = new HashMap<>();
        if (s != null && s.getData() != null) {
            s.getData().forEach((k, v) -> out.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.US_ASCII)));
        }
        return out;
    }

    private static boolean signedBy(X509Certificate leaf, X509Certificate ca) {
        try {
            leaf.verify(ca.getPublicKey());
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    private static byte[] encoded(X509Certificate c) {
        try {
            return c.getEncoded();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
