package dev.zeebeambient.enforcer.testsupport;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The shipped image run under podman the way the kubelet runs the Deployment's pod: the container
 * and pod {@code securityContext}, env (fieldRefs resolved), ports, memory limit, volumes (the
 * Secret as files with its defaultMode and the pod's fsGroup, emptyDirs as tmpfs with their size
 * limit) and the ServiceAccount token at the in-cluster path, with {@code KUBERNETES_SERVICE_HOST/PORT}
 * naming the local API server. Everything is read from the rendered Deployment; a field this
 * translation does not know fails the start, so a Deployment change cannot silently go untested.
 * Ports are published on 127.0.0.1 only. Containers are removed on {@link #close()} (and at JVM exit).
 *
 * <p>Podman runs as root with runc and explicit ulimits: crun fails on hybrid cgroups, and the
 * default ulimits can exceed what such hosts allow.
 */
public final class ImageRun implements EnforcerProcess {

    /** Where the in-cluster config looks for the token, CA and namespace. */
    public static final String SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
    /** A name in the API server's certificate, resolved in the container to the host (podman's gateway). */
    static final String API_SERVER_NAME = "kubernetes.default.svc";
    private static final Set<String> RUNNING = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> RUNNING.forEach(ImageRun::remove), "image-run-cleanup"));
    }

    private final String name;
    private final String id;
    private final Map<String, Integer> ports;
    private final String readinessPath;
    private final List<Path> tempDirs;
    private final List<String> mounts;

    private ImageRun(String name, String id, Map<String, Integer> ports, String readinessPath, List<Path> tempDirs,
            List<String> mounts) {
        this.mounts = mounts;
        this.name = name;
        this.id = id;
        this.ports = ports;
        this.readinessPath = readinessPath;
        this.tempDirs = tempDirs;
    }

    /**
     * What a test adds to the Deployment's pod: contents of Secret volumes and of the ConfigMaps its env comes from
     * ({@code envFrom}), env, host ports, mounts.
     */
    public record Options(String podName, String namespace, Map<String, Map<String, byte[]>> secrets, Map<String, String> env,
            Map<String, Integer> hostPorts, List<String> extraPodmanArgs, Map<String, Map<String, String>> configMaps) {

        public static Options of(String podName, String namespace) {
            return new Options(podName, namespace, Map.of(), Map.of(), Map.of(), List.of(), Map.of());
        }

        public Options withSecret(String secretName, Map<String, byte[]> files) {
            Map<String, Map<String, byte[]>> s = new LinkedHashMap<>(secrets);
            s.put(secretName, files);
            return new Options(podName, namespace, s, env, hostPorts, extraPodmanArgs, configMaps);
        }

        /** The ConfigMaps of a rendering (the one the Deployment came from): what its {@code envFrom} reads. */
        public Options withConfigMapsOf(List<? extends io.fabric8.kubernetes.api.model.HasMetadata> rendered) {
            Map<String, Map<String, String>> c = new LinkedHashMap<>(configMaps);
            for (var o : rendered) {
                if (o instanceof io.fabric8.kubernetes.api.model.ConfigMap cm && cm.getData() != null) {
                    c.put(cm.getMetadata().getName(), cm.getData());
                }
            }
            return new Options(podName, namespace, secrets, env, hostPorts, extraPodmanArgs, c);
        }

        public Options withEnv(Map<String, String> more) {
            Map<String, String> e = new LinkedHashMap<>(env);
            e.putAll(more);
            return new Options(podName, namespace, secrets, e, hostPorts, extraPodmanArgs, configMaps);
        }

        /** Publish the named container port on this host port (default: a free one). */
        public Options withHostPort(String portName, int hostPort) {
            Map<String, Integer> p = new LinkedHashMap<>(hostPorts);
            p.put(portName, hostPort);
            return new Options(podName, namespace, secrets, env, p, extraPodmanArgs, configMaps);
        }

        public Options withPodmanArgs(String... args) {
            List<String> a = new ArrayList<>(extraPodmanArgs);
            a.addAll(List.of(args));
            return new Options(podName, namespace, secrets, env, hostPorts, a, configMaps);
        }
    }

    /** The podman command for the Deployment's first container; {@code token}: the ServiceAccount token. */
    public static ImageRun start(String image, Deployment deployment, String token, Options o) throws IOException, InterruptedException {
        PodSpec pod = deployment.getSpec().getTemplate().getSpec();
        if (pod.getContainers().size() != 1 || (pod.getInitContainers() != null && !pod.getInitContainers().isEmpty())) {
            throw new IllegalStateException("ImageRun runs one container; the Deployment has " + pod.getContainers().size()
                    + " and init containers " + pod.getInitContainers());
        }
        Container c = pod.getContainers().get(0);
        List<Path> temp = new ArrayList<>();
        String name = "zae-test-" + o.podName();
        remove(name); // a container of an earlier, killed run
        List<String> cmd = new ArrayList<>(podman());
        cmd.addAll(List.of("run", "--detach", "--name", name, "--hostname", o.podName(),
                "--ulimit", "nproc=4096:4096", "--ulimit", "nofile=" + nofile() + ":" + nofile()));
        security(cmd, pod.getSecurityContext(), c.getSecurityContext());
        // resources: the memory limit is the container's cgroup limit (what the JVM sizes itself by)
        if (c.getResources() != null && c.getResources().getLimits() != null) {
            for (Map.Entry<String, Quantity> l : c.getResources().getLimits().entrySet()) {
                switch (l.getKey()) {
                    case "memory" -> cmd.add("--memory=" + Quantity.getAmountInBytes(l.getValue()).longValueExact());
                    case "cpu" -> cmd.add("--cpus=" + Quantity.getAmountInBytes(l.getValue()).doubleValue());
                    default -> throw new IllegalStateException("ImageRun: unknown resource limit " + l.getKey());
                }
            }
        }
        if (pod.getTerminationGracePeriodSeconds() != null) {
            cmd.add("--stop-timeout=" + pod.getTerminationGracePeriodSeconds());
        }
        // envFrom first (the kubelet lets env override it): ConfigMaps only, as the Deployment uses them
        for (var from : c.getEnvFrom() == null ? List.<io.fabric8.kubernetes.api.model.EnvFromSource>of() : c.getEnvFrom()) {
            if (from.getConfigMapRef() == null || from.getPrefix() != null) {
                throw new IllegalStateException("ImageRun: envFrom is not translated: " + from);
            }
            Map<String, String> data = o.configMaps().get(from.getConfigMapRef().getName());
            if (data == null) {
                throw new IllegalStateException("ImageRun: no contents given for ConfigMap " + from.getConfigMapRef().getName()
                        + " (Options.withConfigMapsOf the rendering)");
            }
            data.forEach((k, v) -> cmd.addAll(List.of("--env", k + "=" + v)));
        }
        // env, with the fieldRefs the kubelet resolves
        for (EnvVar e : c.getEnv() == null ? List.<EnvVar>of() : c.getEnv()) {
            String value = e.getValue();
            if (e.getValueFrom() != null) {
                String field = e.getValueFrom().getFieldRef() == null ? null : e.getValueFrom().getFieldRef().getFieldPath();
                value = switch (field == null ? "" : field) {
                    case "metadata.namespace" -> o.namespace();
                    case "metadata.name" -> o.podName();
                    default -> throw new IllegalStateException("ImageRun: env " + e.getName() + " from " + e.getValueFrom());
                };
            }
            cmd.addAll(List.of("--env", e.getName() + "=" + (value == null ? "" : value)));
        }
        URI api = URI.create(KubeTestCluster.get().config().getMasterUrl());
        cmd.addAll(List.of("--env", "KUBERNETES_SERVICE_HOST=" + API_SERVER_NAME,
                "--env", "KUBERNETES_SERVICE_PORT=" + api.getPort(),
                "--add-host", API_SERVER_NAME + ":" + gateway()));
        o.env().forEach((k, v) -> cmd.addAll(List.of("--env", k + "=" + v)));
        // ports: on loopback only
        Map<String, Integer> ports = new LinkedHashMap<>();
        for (var p : c.getPorts()) {
            int host = o.hostPorts().getOrDefault(p.getName(), freePort());
            ports.put(p.getName(), host);
            cmd.addAll(List.of("--publish", "127.0.0.1:" + host + ":" + p.getContainerPort()));
        }
        // volumes
        Map<String, Volume> volumes = new LinkedHashMap<>();
        pod.getVolumes().forEach(v -> volumes.put(v.getName(), v));
        Long fsGroup = pod.getSecurityContext() == null ? null : pod.getSecurityContext().getFsGroup();
        for (VolumeMount m : c.getVolumeMounts()) {
            Volume v = volumes.get(m.getName());
            boolean ro = Boolean.TRUE.equals(m.getReadOnly());
            if (v.getSecret() != null) {
                Map<String, byte[]> files = o.secrets().get(v.getSecret().getSecretName());
                if (files == null) {
                    throw new IllegalStateException("ImageRun: no contents given for Secret " + v.getSecret().getSecretName());
                }
                Path dir = Files.createTempDirectory("image-run-secret");
                temp.add(dir);
                int mode = v.getSecret().getDefaultMode() == null ? 0644 : v.getSecret().getDefaultMode();
                for (var f : files.entrySet()) {
                    Path file = dir.resolve(f.getKey());
                    Files.write(file, f.getValue());
                    own(file, fsGroup);
                    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(perms(mode)));
                }
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
                cmd.addAll(List.of("--volume", dir + ":" + m.getMountPath() + (ro ? ":ro" : "")));
            } else if (v.getEmptyDir() != null) {
                // an emptyDir: writable by the pod's users (the kubelet makes it 0777); tmpfs, bounded by its size limit
                Quantity size = v.getEmptyDir().getSizeLimit();
                cmd.add("--mount=type=tmpfs,destination=" + m.getMountPath() + ",tmpfs-mode=1777"
                        + (size == null ? "" : ",tmpfs-size=" + Quantity.getAmountInBytes(size).longValueExact())
                        + (ro ? ",ro=true" : ""));
            } else {
                throw new IllegalStateException("ImageRun: volume kind of " + v.getName() + " is not translated: " + v);
            }
        }
        // the ServiceAccount token, as automountServiceAccountToken mounts it
        if (!Boolean.FALSE.equals(pod.getAutomountServiceAccountToken())) {
            Path sa = Files.createTempDirectory("image-run-serviceaccount");
            temp.add(sa);
            Files.writeString(sa.resolve("token"), token);
            Files.writeString(sa.resolve("namespace"), o.namespace());
            String caFile = KubeTestCluster.get().config().getCaCertFile();
            Files.write(sa.resolve("ca.crt"), caFile != null ? Files.readAllBytes(Path.of(caFile))
                    : java.util.Base64.getDecoder().decode(KubeTestCluster.get().config().getCaCertData()));
            for (String f : List.of("token", "namespace", "ca.crt")) {
                Files.setPosixFilePermissions(sa.resolve(f), PosixFilePermissions.fromString("rw-r--r--"));
            }
            Files.setPosixFilePermissions(sa, PosixFilePermissions.fromString("rwxr-xr-x"));
            cmd.addAll(List.of("--volume", sa + ":" + SERVICE_ACCOUNT_DIR + ":ro"));
        }
        cmd.addAll(o.extraPodmanArgs());
        cmd.add(image);
        if (c.getCommand() != null && !c.getCommand().isEmpty()) {
            throw new IllegalStateException("ImageRun: the Deployment overrides the entrypoint: " + c.getCommand());
        }
        if (c.getArgs() != null) {
            cmd.addAll(c.getArgs());
        }
        String id = run(cmd, 60).trim();
        RUNNING.add(name);
        String readiness = c.getReadinessProbe() != null && c.getReadinessProbe().getHttpGet() != null
                ? c.getReadinessProbe().getHttpGet().getPath() : "/q/health/ready";
        List<String> mounts = new ArrayList<>();
        for (int i = 0; i < cmd.size(); i++) {
            String a = cmd.get(i);
            if (a.equals("--volume")) {
                mounts.add(cmd.get(i + 1).split(":")[1]);
            } else if (a.startsWith("--mount=")) {
                mounts.add(a.replaceAll(".*destination=([^,]+).*", "$1"));
            }
        }
        return new ImageRun(name, id, ports, readiness, temp, mounts);
    }

    /** Pod and container securityContext as podman flags; unknown settings fail. */
    static void security(List<String> cmd, PodSecurityContext pod, SecurityContext c) {
        Long user = c != null && c.getRunAsUser() != null ? c.getRunAsUser() : pod == null ? null : pod.getRunAsUser();
        Long group = c != null && c.getRunAsGroup() != null ? c.getRunAsGroup() : pod == null ? null : pod.getRunAsGroup();
        boolean nonRoot = Boolean.TRUE.equals(c == null ? null : c.getRunAsNonRoot())
                || Boolean.TRUE.equals(pod == null ? null : pod.getRunAsNonRoot());
        if (nonRoot && (user == null || user == 0)) {
            throw new IllegalStateException("runAsNonRoot without a non-root runAsUser: the kubelet would refuse an image whose USER it cannot verify");
        }
        if (user != null) {
            cmd.add("--user=" + user + (group != null ? ":" + group : ":0"));
        }
        if (pod != null && pod.getFsGroup() != null) {
            cmd.add("--group-add=" + pod.getFsGroup());
        }
        if (pod != null && pod.getSupplementalGroups() != null) {
            pod.getSupplementalGroups().forEach(g -> cmd.add("--group-add=" + g));
        }
        String seccomp = c != null && c.getSeccompProfile() != null ? c.getSeccompProfile().getType()
                : pod != null && pod.getSeccompProfile() != null ? pod.getSeccompProfile().getType() : "Unconfined";
        if (!"RuntimeDefault".equals(seccomp)) {
            cmd.add("--security-opt=seccomp=unconfined"); // podman's default profile is RuntimeDefault
        }
        if (c != null) {
            if (Boolean.TRUE.equals(c.getReadOnlyRootFilesystem())) {
                // no tmpfs of podman's own on /tmp, /run, /var/tmp: only the pod's volumes are writable
                cmd.addAll(List.of("--read-only", "--read-only-tmpfs=false"));
            }
            if (Boolean.FALSE.equals(c.getAllowPrivilegeEscalation())) {
                cmd.add("--security-opt=no-new-privileges");
            }
            if (c.getCapabilities() != null) {
                if (c.getCapabilities().getDrop() != null) {
                    c.getCapabilities().getDrop().forEach(cap -> cmd.add("--cap-drop=" + cap));
                }
                if (c.getCapabilities().getAdd() != null) {
                    c.getCapabilities().getAdd().forEach(cap -> cmd.add("--cap-add=" + cap));
                }
            }
            if (Boolean.TRUE.equals(c.getPrivileged()) || c.getSeLinuxOptions() != null || c.getProcMount() != null
                    || c.getAppArmorProfile() != null || c.getWindowsOptions() != null) {
                throw new IllegalStateException("ImageRun: securityContext field not translated: " + c);
            }
        }
    }

    public String name() {
        return name;
    }

    /** The host port (on 127.0.0.1) of a named container port. */
    public int port(String portName) {
        return ports.get(portName);
    }

    /** GET on the management port: status and body, or -1 when nothing answers. */
    public Map.Entry<Integer, String> get(String path) {
        return HttpGet.get("http://127.0.0.1:" + port("management") + path, 2000);
    }

    public boolean ready() {
        return get(readinessPath).getKey() == 200;
    }

    public boolean leads() {
        var r = get("/status");
        return r.getKey() == 200 && r.getValue().replaceAll("\\s", "").contains("\"isLeader\":true");
    }

    @Override
    public boolean alive() {
        return running();
    }

    public boolean running() {
        try {
            return run(cmd("inspect", "--format", "{{.State.Running}}", id), 20).trim().equals("true");
        } catch (IllegalStateException e) {
            return false;
        }
    }

    /** SIGTERM to PID 1 (the JVM), as the kubelet sends it; waits for the exit; returns the exit code. */
    public int terminate(int seconds) {
        run(cmd("kill", "--signal", "TERM", id), 20);
        return Integer.parseInt(run(cmd("wait", id), seconds).trim()); // podman wait prints the exit code
    }

    public void kill() {
        run(cmd("kill", "--signal", "KILL", id), 20);
    }

    /** stdout and stderr of the container so far. */
    public String log() {
        return run(cmd("logs", id), 30);
    }

    /** {@code podman diff}: paths added, changed or deleted in the container's own (image) file system. */
    public List<String> diff() {
        String out = run(cmd("diff", id), 30).trim();
        return out.isEmpty() ? List.of() : List.of(out.split("\n"));
    }

    /**
     * {@link #diff()} without the mount points the runtime created for the pod's volumes (and their
     * parent directories): what the application wrote to the image's file system.
     */
    public List<String> writesOutsideVolumes() {
        List<String> writes = new ArrayList<>();
        for (String line : diff()) {
            String path = line.substring(2).trim();
            boolean mountPoint = mounts.stream().map(m -> m.replaceFirst("^/var/run/", "/run/"))
                    .anyMatch(m -> m.equals(path) || m.startsWith(path + "/"));
            if (!mountPoint) {
                writes.add(line);
            }
        }
        return writes;
    }

    /** A command in the running container, as its user. */
    public String exec(String... args) {
        List<String> c = cmd("exec", id);
        c.addAll(List.of(args));
        return run(c, 30);
    }

    /** Resident set of the JVM (PID 1), from /proc, in bytes. */
    public long rssBytes() {
        for (String line : exec("cat", "/proc/1/status").split("\n")) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS for " + name);
    }

    /** The container's memory cgroup usage (what the kernel counts against the limit), in bytes. */
    public long cgroupMemoryBytes() {
        String v1 = exec("sh", "-c", "cat /sys/fs/cgroup/memory/memory.usage_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.current").trim();
        return Long.parseLong(v1);
    }

    @Override
    public void close() {
        remove(name);
        RUNNING.remove(name);
        for (Path d : tempDirs) {
            try (var files = Files.walk(d)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException e) {
                // temp files only
            }
        }
    }

    static void remove(String name) {
        try {
            new ProcessBuilder(cmd("rm", "--force", "--time", "0", "--ignore", name)).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(60, TimeUnit.SECONDS);
        } catch (IOException e) {
            // podman is missing: nothing to remove
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static List<String> podman() {
        return new ArrayList<>(List.of("podman", "--runtime", "runc"));
    }

    static List<String> cmd(String... args) {
        List<String> c = podman();
        c.addAll(List.of(args));
        return c;
    }

    /** Runs a command; its stdout, or an exception with its output. */
    public static String run(List<String> cmd, int seconds) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + String.join(" ", cmd));
            }
            String s = new String(out, StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " exited " + p.exitValue() + ":\n" + s);
            }
            return s;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + cmd.get(0) + " (installed by src/main/docker/build-image.sh tools)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The image's configured environment (ENV lines of its Dockerfile). */
    public static Map<String, String> imageEnv(String image) {
        Map<String, String> env = new LinkedHashMap<>();
        for (String line : run(cmd("image", "inspect", "--format", "{{range .Config.Env}}{{println .}}{{end}}", image), 30).split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                env.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return env;
    }

    /** The host as the container sees it: the gateway of podman's default network. */
    static String gateway() {
        String gw = run(cmd("network", "inspect", "podman", "--format", "{{range .Subnets}}{{.Gateway}}{{end}}"), 30).trim();
        if (gw.isEmpty()) {
            throw new IllegalStateException("podman's default network has no gateway");
        }
        return gw;
    }

    static int nofile() {
        String hard = run(List.of("sh", "-c", "ulimit -Hn"), 10).trim();
        return hard.equals("unlimited") ? 65536 : Math.min(65536, Integer.parseInt(hard));
    }

    public static int freePort() throws IOException {
        try (var s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void own(Path file, Long fsGroup) throws IOException {
        if (fsGroup != null) {
            Files.setAttribute(file, "unix:gid", fsGroup.intValue());
        }
    }

    private static String perms(int mode) {
        StringBuilder s = new StringBuilder();
        String rwx = "rwx";
        for (int i = 8; i >= 0; i--) {
            s.append((mode & (1 << i)) != 0 ? rwx.charAt(2 - i % 3) : '-');
        }
        return s.toString();
    }
}
