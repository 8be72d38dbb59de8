package dev.zeebeambient.enforcer.health;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * {@code java -jar quarkus-run.jar check <management URL> <webhook URL> [CA file]}: what {@code helm test} runs in the
 * image (it has no shell or curl). Passes when a replica is ready, the bootstrap has converged and the webhook answers
 * an AdmissionReview over TLS trusted by the given CA (the one the API server trusts); prints each step.
 */
public final class InstallCheck {

    private InstallCheck() {
    }

    /** Exit code: 0 all passed, 1 a check failed, 2 usage. */
    public static int run(List<String> args, PrintStream out) {
        if (args.size() < 2 || args.size() > 3) {
            out.println("usage: check <management URL, e.g. http://zeebe-ambient-enforcer.ns.svc:9000> "
                    + "<webhook URL, e.g. https://zeebe-ambient-enforcer.ns.svc:443> [CA certificate file]");
            return 2;
        }
        String management = strip(args.get(0));
        String webhook = strip(args.get(1));
        List<String> failed = new ArrayList<>();
        try {
            HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            get(plain, management + "/q/health/ready", "a replica is ready", out, failed);
            bootstrapOfTheLeader(management, out, failed);
            HttpClient.Builder tls = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
            if (args.size() == 3 && Files.isRegularFile(Path.of(args.get(2)))) {
                tls.sslContext(trusting(Path.of(args.get(2))));
            } else {
                out.println("FAIL the webhook's CA: " + (args.size() == 3 ? args.get(2) + " is missing" : "no CA file given")
                        + "; the webhook's certificate cannot be checked");
                failed.add("CA");
            }
            if (failed.isEmpty() || !failed.contains("CA")) {
                String uid = UUID.randomUUID().toString();
                String review = "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"" + uid
                        + "\",\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},\"resource\":{\"group\":\"\",\"version\":\"v1\","
                        + "\"resource\":\"pods\"},\"namespace\":\"helm-test\",\"operation\":\"CREATE\",\"dryRun\":true,\"object\":{"
                        + "\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"helm-test\",\"namespace\":\"helm-test\"},"
                        + "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}}}";
                HttpResponse<String> r = tls.build().send(HttpRequest.newBuilder(URI.create(webhook + "/mutate"))
                        .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(review)).build(), HttpResponse.BodyHandlers.ofString());
                boolean ok = r.statusCode() == 200 && r.body().contains(uid) && r.body().contains("\"allowed\":true");
                out.println((ok ? "ok   " : "FAIL ") + "the webhook answers an AdmissionReview over TLS: " + webhook + "/mutate -> HTTP "
                        + r.statusCode() + (ok ? "" : " " + abbreviate(r.body())));
                if (!ok) {
                    failed.add("webhook");
                }
            }
        } catch (IOException | RuntimeException | java.security.GeneralSecurityException e) {
            out.println("FAIL " + e.getClass().getSimpleName() + ": " + e.getMessage());
            failed.add("error");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failed.add("interrupted");
        }
        out.println(failed.isEmpty() ? "check: passed" : "check: failed");
        return failed.isEmpty() ? 0 : 1;
    }

    /** How many fresh connections the check opens to reach the leader through the Service. */
    static final int LEADER_ATTEMPTS = 30;

    /**
     * Only the leader knows the bootstrap's state (a follower answers "observing", UP): through the Service each new
     * connection may reach another replica, so the check opens new ones until the leader answers, and fails when none
     * does. A follower's UP would otherwise hide a leader in error or conflict.
     */
    static void bootstrapOfTheLeader(String management, PrintStream out, List<String> failed) throws IOException, InterruptedException {
        String url = management + "/q/health/group/bootstrap";
        String what = "the bootstrap converged (waypoint, gRPC Service, DestinationRule), as the leader reports it";
        HttpResponse<String> last = null;
        for (int i = 0; i < LEADER_ATTEMPTS; i++) {
            // a new client each time: a new connection, which the Service may route to another replica
            HttpClient fresh = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            last = fresh.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            if (!fromAFollower(last.body())) {
                boolean ok = last.statusCode() == 200;
                out.println((ok ? "ok   " : "FAIL ") + what + ": " + url + " -> HTTP " + last.statusCode() + (ok ? "" : " "
                        + abbreviate(last.body())));
                if (!ok) {
                    failed.add(url);
                }
                return;
            }
            Thread.sleep(200);
        }
        out.println("FAIL " + what + ": " + url + " answered " + LEADER_ATTEMPTS + " times, only from followers (\"observing\"); no "
                + "leader answered, so the bootstrap's state is unknown: " + abbreviate(last == null ? "" : last.body()));
        failed.add(url);
    }

    /** Whether a bootstrap health answer comes from a follower (phase observing), which does not know the bootstrap's state. */
    static boolean fromAFollower(String body) {
        return body != null && body.replace(" ", "").contains("\"phase\":\"observing\"");
    }

    private static void get(HttpClient client, String url, String what, PrintStream out, List<String> failed)
            throws IOException, InterruptedException {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        boolean ok = r.statusCode() == 200;
        out.println((ok ? "ok   " : "FAIL ") + what + ": " + url + " -> HTTP " + r.statusCode() + (ok ? "" : " " + abbreviate(r.body())));
        if (!ok) {
            failed.add(url);
        }
    }

    private static SSLContext trusting(Path ca) throws IOException, java.security.GeneralSecurityException {
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        int i = 0;
        try (InputStream in = Files.newInputStream(ca)) {
            for (var cert : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                ks.setCertificateEntry("ca" + i++, cert);
            }
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    private static String strip(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    private static String abbreviate(String body) {
        String one = body.replace('\n', ' ');
        return one.length() > 300 ? one.substring(0, 300) + "..." : one;
    }
}
