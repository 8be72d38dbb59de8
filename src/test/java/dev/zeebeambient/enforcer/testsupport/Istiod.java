package dev.zeebeambient.enforcer.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real istiod ({@code pilot-discovery discovery}, built from the istio.io/istio module by
 * {@code src/test/istio/build-istio.sh}) against the test API server, ambient enabled, no proxies:
 * it accepts Gateways, creates waypoint Deployments, writes status, computes xDS. Started by a test
 * class that needs it and stopped after it ({@link #close}), so other classes keep an API server
 * without an Istio control plane.
 * <p>
 * istiod reads its injection templates from {@code ./var/lib/istio/inject} relative to its working
 * directory (there is no flag): a temp directory links it to the build's rendered config.
 */
public final class Istiod implements AutoCloseable {

    public static final int XDS_PORT = 25010;
    public static final int HTTP_PORT = 25015;
    /** Its HTTPS port: the sidecar injector ({@code /inject}) and config validation. */
    public static final int HTTPS_PORT = 25017;
    static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final Path log;
    private final Path kubeconfig;

    private Istiod(Process process, Path log, Path kubeconfig) {
        this.process = process;
        this.log = log;
        this.kubeconfig = kubeconfig;
    }

    /** Starts istiod with {@code kubeconfig} (an admin's: istiod is a fixture, installed like a platform team would) and waits until ready. */
    public static Istiod start(Path kubeconfig) throws Exception {
        return start(kubeconfig, List.of());
    }

    /**
     * As above, with more pilot-discovery flags: e.g. {@code --tlsCertFile}/{@code --tlsKeyFile}/{@code --caCertFile} with the
     * test CA's certificate, so that the API server can call its sidecar injector ({@code https://127.0.0.1:25017/inject}).
     */
    public static Istiod start(Path kubeconfig, List<String> extraArgs) throws Exception {
        Path bin = IstioBuild.path("istio.bin");
        Path cwd = Files.createTempDirectory("istiod");
        Path inject = cwd.resolve("var/lib/istio/inject");
        Files.createDirectories(inject.getParent());
        Files.createSymbolicLink(inject, IstioBuild.path("istio.inject"));
        Path log = Files.createDirectories(Paths.get("target")).resolve("istiod.log");
        List<String> cmd = new ArrayList<>(List.of(bin.resolve("pilot-discovery").toString(), "discovery",
                "--kubeconfig", kubeconfig.toString(), "--meshConfig", IstioBuild.path("istio.mesh").toString(),
                "--httpAddr", "127.0.0.1:" + HTTP_PORT, "--grpcAddr", "127.0.0.1:" + XDS_PORT,
                "--secureGRPCAddr", "127.0.0.1:25012", "--monitoringAddr", "127.0.0.1:25014", "--httpsAddr", "127.0.0.1:25017",
                "--ctrlz_port", "25016", "--ctrlz_address", "127.0.0.1"));
        cmd.addAll(extraArgs);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(Map.of("POD_NAMESPACE", "istio-system", "POD_NAME", "istiod-test", "REVISION", "default",
                "CLUSTER_ID", "Kubernetes", "PILOT_ENABLE_AMBIENT", "true", "PILOT_ENABLE_ANALYSIS", "false"));
        Istiod istiod = new Istiod(pb.start(), log, kubeconfig);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (istiod.get("/ready").getKey() != 200) {
            if (!istiod.process.isAlive() || System.nanoTime() > deadline) {
                String out = istiod.log();
                istiod.close();
                throw new IllegalStateException("istiod did not become ready (" + cmd + "):\n"
                        + out.substring(Math.max(0, out.length() - 4000)));
            }
            Thread.sleep(200);
        }
        return istiod;
    }

    /** GET on istiod's HTTP port (/ready, /debug/...): status and body, or -1 when nothing answers. */
    public Map.Entry<Integer, String> get(String path) {
        return HttpGet.get("http://127.0.0.1:" + HTTP_PORT + path, 10_000);
    }

    /** A debug view as JSON, e.g. {@code ambientz} (what ztunnels are told: workloads and services). */
    public JsonNode debug(String view) throws IOException {
        var r = get("/debug/" + view);
        if (r.getKey() != 200) {
            throw new IllegalStateException("istiod /debug/" + view + ": HTTP " + r.getKey() + " " + r.getValue());
        }
        return JSON.readTree(r.getValue());
    }

    /** The xDS istiod sends to a proxy of {@code type} whose pod is {@code ns/pod} with IP {@code ip} ({@code xdsdump}). */
    public JsonNode xds(String type, String ip, String pod, String ns, String types, String names) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(IstioBuild.path("istio.xdsdump").toString(), "-addr", "127.0.0.1:" + XDS_PORT,
                "-type", type, "-ip", ip, "-pod", pod, "-namespace", ns, "-types", types));
        if (names != null) {
            cmd.addAll(List.of("-names", names));
        }
        Result r = run(cmd);
        if (r.exit() != 0) {
            throw new IllegalStateException("xdsdump failed (" + r.exit() + "): " + r.output());
        }
        return JSON.readTree(r.output());
    }

    /** istioctl against the test API server, e.g. {@code analyze --use-kube -n camunda}. */
    public Result istioctl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(IstioBuild.path("istio.bin").resolve("istioctl").toString(),
                "--kubeconfig", kubeconfig.toString(), "--istioNamespace", "istio-system"));
        cmd.addAll(List.of(args));
        return run(cmd);
    }

    /**
     * What the istio-cni node agent does when the pod starts: decide with istio-cni's own enablement
     * selectors whether ambient captures it and, if so, annotate it as redirected ({@code cnicapture}).
     */
    public boolean cniCapture(String ns, String pod) throws Exception {
        Result r = run(List.of(IstioBuild.path("istio.cnicapture").toString(), "-kubeconfig", kubeconfig.toString(),
                "-cni-values", IstioBuild.path("istio.cni-values").toString(), "-namespace", ns, "-pod", pod));
        if (r.exit() != 0) {
            throw new IllegalStateException("cnicapture failed (" + r.exit() + "): " + r.output());
        }
        return JSON.readTree(r.output()).path("captured").asBoolean();
    }

    public record Result(int exit, String output) {
    }

    static Result run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(cmd + " did not finish in 120 s");
        }
        return new Result(p.exitValue(), out);
    }

    public Path logFile() {
        return log.toAbsolutePath();
    }

    public String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
