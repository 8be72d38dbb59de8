package dev.zeebeambient.enforcer.testsupport;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A second kube-apiserver + etcd of the same build, owned by a fault test: the API server can be killed and restarted
 * on the same port and etcd, etcd killed and restarted on the same data, and etcd compacted. It uses the test
 * cluster's certificates (same serving certificate, client CA and ServiceAccount signing key, all in
 * {@code ~/.kube_api_test}, the flags {@code io.fabric8:kube-api-test} starts its server with), so the admin
 * kubeconfig is the main one with another port. The main API server of the other tests is never touched.
 */
public final class FaultCluster implements AutoCloseable {

    private final Path bin;
    private final Path apiServerBinary;
    private final Path certDir;
    private final Path dataDir;
    private int etcdPort;
    private int etcdPeerPort;
    private final int apiPort;
    private final Path kubeconfig;
    private final KubeTestCluster cluster;
    private Process etcd;
    private Process apiserver;

    public FaultCluster() throws Exception {
        this(KubeTestCluster.get().kubectl().getParent().resolve("kube-apiserver"));
    }

    /** With another kube-apiserver binary (an older minor, built by src/test/kube/build-binaries.sh) on this build's etcd. */
    public FaultCluster(Path kubeApiServer) throws Exception {
        KubeTestCluster main = KubeTestCluster.get();
        bin = main.kubectl().getParent();
        apiServerBinary = kubeApiServer;
        certDir = Paths.get(System.getenv().getOrDefault("KUBE_API_TEST_DIR",
                Paths.get(System.getProperty("user.home"), ".kube_api_test").toString()));
        dataDir = Files.createTempDirectory("fault-etcd");
        etcdPort = freePort();
        etcdPeerPort = freePort();
        apiPort = freePort();
        startEtcd();
        startApiServer();
        String yaml = Files.readString(main.kubeconfig());
        Matcher m = Pattern.compile("server: https://127\\.0\\.0\\.1:(\\d+)").matcher(yaml);
        if (!m.find()) {
            throw new IllegalStateException("no server: https://127.0.0.1:<port> in " + main.kubeconfig());
        }
        kubeconfig = Files.writeString(Files.createTempFile("fault-kubeconfig", ".yaml"), m.replaceAll("server: https://127.0.0.1:" + apiPort));
        cluster = KubeTestCluster.of(kubeconfig, main.kubectl(), main.crdDirs());
        awaitReady(120);
    }

    /** Admin access and the test helpers (CRDs, identity, webhook registration), against this API server. */
    public KubeTestCluster cluster() {
        return cluster;
    }

    public int apiPort() {
        return apiPort;
    }

    /** A copy of {@code kubeconfig} whose server is {@code 127.0.0.1:port} (e.g. a {@link TcpProxy} in front of this server). */
    public static Path via(Path kubeconfig, int port) throws IOException {
        String yaml = Files.readString(kubeconfig).replaceAll("server: https://127\\.0\\.0\\.1:\\d+", "server: https://127.0.0.1:" + port);
        return Files.writeString(Files.createTempFile("via-kubeconfig", ".yaml"), yaml);
    }

    private void startEtcd() throws IOException {
        Path log = Files.createDirectories(Paths.get("target", "fault")).resolve("etcd.log");
        // a free port can be taken by another process before etcd binds it (seen in CI: "bind: address already in
        // use"): etcd then exits, and a new pair of ports is tried
        for (int attempt = 1; ; attempt++) {
            etcd = new ProcessBuilder(bin.resolve("etcd").toString(), "-data-dir", dataDir.resolve("data-" + attempt).toString(),
                    "-wal-dir", dataDir.resolve("wal-" + attempt).toString(),
                    "--listen-client-urls", "http://127.0.0.1:" + etcdPort, "--advertise-client-urls", "http://127.0.0.1:" + etcdPort,
                    "--initial-cluster", "default=http://localhost:" + etcdPeerPort,
                    "--initial-advertise-peer-urls", "http://localhost:" + etcdPeerPort, "--listen-peer-urls", "http://localhost:" + etcdPeerPort)
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (etcd.isAlive() && System.nanoTime() < until) {
                if (HttpGet.get("http://127.0.0.1:" + etcdPort + "/health", 1000).getKey() == 200) {
                    return;
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while etcd starts", e);
                }
            }
            if (etcd.isAlive() || attempt == 3) {
                etcd.destroyForcibly();
                throw new IllegalStateException("etcd on 127.0.0.1:" + etcdPort + " did not answer (attempt " + attempt + "; log: " + log + ")");
            }
            etcdPort = freePort();
            etcdPeerPort = freePort();
        }
    }

    private void startApiServer() throws IOException {
        Path log = Files.createDirectories(Paths.get("target", "fault")).resolve("kube-apiserver.log");
        String key = certDir.resolve("apiserver.key").toString();
        List<String> cmd = new ArrayList<>(List.of(apiServerBinary.toString(), "--cert-dir", certDir.toString(),
                "--secure-port", Integer.toString(apiPort), "--etcd-servers", "http://127.0.0.1:" + etcdPort,
                "--authorization-mode", "RBAC", "--service-account-issuer", "https://localhost",
                "--service-account-signing-key-file", key, "--service-account-key-file", key,
                "--disable-admission-plugins", "ServiceAccount", "--client-ca-file", certDir.resolve("client.crt").toString(),
                "--service-cluster-ip-range", "10.0.0.0/24", "--allow-privileged"));
        apiserver = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    /** SIGKILL of the API server (etcd keeps running). */
    public void killApiServer() throws InterruptedException {
        apiserver.destroyForcibly();
        apiserver.waitFor(30, TimeUnit.SECONDS);
    }

    /** The API server again, same port and etcd; returns once it is ready. */
    public void startApiServerAgain() throws Exception {
        startApiServer();
        awaitReady(120);
    }

    public void killEtcd() throws InterruptedException {
        etcd.destroyForcibly();
        etcd.waitFor(30, TimeUnit.SECONDS);
    }

    public void startEtcdAgain() throws IOException {
        startEtcd();
    }

    /** etcd's current revision (its JSON gateway). */
    public long revision() throws IOException, InterruptedException {
        String body = post("/v3/kv/range", "{\"key\":\"AA==\"}"); // any key: the header carries the revision
        Matcher m = Pattern.compile("\"revision\":\"(\\d+)\"").matcher(body);
        if (!m.find()) {
            throw new IllegalStateException("no revision in etcd's answer: " + body);
        }
        return Long.parseLong(m.group(1));
    }

    /** Compacts etcd to its current revision: every watch resumed from an older resourceVersion gets 410 Gone. */
    public long compact() throws IOException, InterruptedException {
        long rev = revision();
        post("/v3/kv/compaction", "{\"revision\":\"" + rev + "\",\"physical\":true}");
        return rev;
    }

    private String post(String path, String json) throws IOException, InterruptedException {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + etcdPort + path))
                .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("etcd " + path + ": HTTP " + r.statusCode() + " " + r.body());
        }
        return r.body();
    }

    private void awaitReady(int seconds) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        Exception last = null;
        while (System.nanoTime() < until) {
            if (!apiserver.isAlive()) {
                throw new IllegalStateException("kube-apiserver exited: target/fault/kube-apiserver.log");
            }
            try {
                if ("ok".equals(cluster == null ? null : cluster.client().raw("/readyz"))) {
                    return;
                }
            } catch (RuntimeException e) {
                last = e;
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("the fault API server was not ready within " + seconds + " s", last);
    }


    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() {
        if (apiserver != null) {
            apiserver.destroyForcibly();
        }
        if (etcd != null) {
            etcd.destroyForcibly();
        }
    }
}
