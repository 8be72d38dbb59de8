package dev.zeebeambient.enforcer.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One enforcer replica as the image runs it: the packaged jar ({@code target/quarkus-app}) in a
 * process of its own, with the image's JVM flags ({@link #jvmFlags()}), authenticating as the
 * shipped ServiceAccount. Signals stand in for what happens to pods: SIGSTOP (frozen node or
 * GC pause), SIGKILL (OOM kill), SIGTERM (rollout, drain).
 */
public final class Replica implements EnforcerProcess {

    /** The packaged application; {@code -Dreplica.jar=...} runs another build (e.g. an older release, for before/after figures). */
    public static final Path JAR = Paths.get(System.getProperty("replica.jar", "target/quarkus-app/quarkus-run.jar"));

    private final String name;
    private final int managementPort;
    private final Process process;
    private final Path log;

    private Replica(String name, int managementPort, Process process, Path log) {
        this.name = name;
        this.managementPort = managementPort;
        this.process = process;
        this.log = log;
    }

    /**
     * Starts the jar with {@code KUBECONFIG=kubeconfig}; {@code config} are extra system properties
     * (enforcer.* settings). Output goes to {@code target/replicas/<name>.log}.
     */
    public static Replica start(String name, Path kubeconfig, int httpsPort, int managementPort, Map<String, String> config)
            throws IOException {
        return start(name, kubeconfig, httpsPort, managementPort, config, Map.of());
    }

    /** {@code env}: environment variables set last (e.g. another TLS directory). */
    public static Replica start(String name, Path kubeconfig, int httpsPort, int managementPort, Map<String, String> config,
            Map<String, String> env) throws IOException {
        if (!Files.exists(JAR)) {
            throw new IllegalStateException(JAR + " is missing: replicas run the packaged application (mvn package)");
        }
        TestPki pki = TestPki.get();
        List<String> cmd = new ArrayList<>();
        cmd.add(javaHome().resolve("bin").resolve("java").toString());
        cmd.addAll(jvmFlags());
        cmd.addAll(StartupArchive.forRunningJdk().useFlags()); // as the image starts: with the start-up archive
        for (String f : System.getProperty("replica.jvm.extra", "").trim().split("\\s+")) { // experiments, e.g. -XX:NativeMemoryTracking=summary
            if (!f.isEmpty()) {
                cmd.add(f);
            }
        }
        cmd.add("-Dquarkus.http.ssl-port=" + httpsPort);
        cmd.add("-Dquarkus.management.port=" + managementPort);
        config.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
        cmd.add("-jar");
        cmd.add(JAR.toString());
        Path log = Files.createDirectories(Paths.get("target", "replicas")).resolve(name + ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("KUBECONFIG", kubeconfig.toString());
        pb.environment().put("ENFORCER_TLS_CERT", pki.cert().toString());
        pb.environment().put("ENFORCER_TLS_KEY", pki.key().toString());
        pb.environment().put("ENFORCER_OWN_NAMESPACE", KubeTestCluster.SA_NAMESPACE);
        pb.environment().putAll(env);
        return new Replica(name, managementPort, pb.start(), log);
    }

    /** The JDK replicas run on: {@code -Dreplica.java.home=} (start-up comparisons), else this JVM's. */
    public static Path javaHome() {
        return Paths.get(System.getProperty("replica.java.home", System.getProperty("java.home")));
    }

    /**
     * The image's JVM flags, read from the one place they are written
     * ({@code src/main/docker/Dockerfile.jvm}: {@code JAVA_OPTS_APPEND} and {@code JAVA_MAX_MEM_RATIO}),
     * with the Deployment's 384Mi memory limit standing in for the container's.
     */
    public static List<String> jvmFlags() {
        try {
            String dockerfile = Files.readString(Paths.get("src", "main", "docker", "Dockerfile.jvm"));
            List<String> flags = new ArrayList<>(List.of("-XX:MaxRAM=384m"));
            Matcher ratio = Pattern.compile("ENV JAVA_MAX_MEM_RATIO=(\\d+)").matcher(dockerfile);
            if (ratio.find()) {
                flags.add("-XX:MaxRAMPercentage=" + ratio.group(1));
            }
            Matcher opts = Pattern.compile("ENV JAVA_OPTS_APPEND=\"([^\"]*)\"").matcher(dockerfile);
            if (!opts.find()) {
                throw new IllegalStateException("Dockerfile.jvm has no JAVA_OPTS_APPEND");
            }
            for (String f : opts.group(1).trim().split("\\s+")) {
                // the image listens on all interfaces (tests on localhost); its archive path is the image's
                // (StartupArchive adds the local one)
                if (!f.startsWith("-Dquarkus.http.host=") && !f.startsWith("${ARCHIVE_FLAG}=")) {
                    flags.add(f);
                }
            }
            return flags;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public String name() {
        return name;
    }

    public long pid() {
        return process.pid();
    }

    public boolean alive() {
        return process.isAlive();
    }

    /** GET on the management port: status code and body, or -1 when nothing answers. */
    public Map.Entry<Integer, String> get(String path) {
        return HttpGet.get("http://localhost:" + managementPort + path, 2000);
    }

    public boolean ready() {
        return get("/q/health/ready").getKey() == 200;
    }

    /** What this replica's {@code /status} says about itself. */
    public boolean leads() {
        var r = get("/status");
        return r.getKey() == 200 && r.getValue().replaceAll("\\s", "").contains("\"isLeader\":true");
    }

    public void signal(String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new IllegalStateException("kill -" + signal + " " + process.pid() + " failed");
        }
    }

    public void freeze() throws IOException, InterruptedException {
        signal("STOP");
    }

    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** Waits for the process to end on its own (a Job's container); its exit code. */
    public int awaitExit(int seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            throw new IllegalStateException(name + " did not exit within " + seconds + " s:\n" + log());
        }
        return process.exitValue();
    }

    /** SIGTERM, as the kubelet sends it; waits for the exit. */
    public int terminate(int seconds) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            throw new IllegalStateException(name + " did not exit within " + seconds + " s of SIGTERM");
        }
        return process.exitValue();
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
        if (process.isAlive()) {
            process.destroyForcibly();
        }
    }
}
