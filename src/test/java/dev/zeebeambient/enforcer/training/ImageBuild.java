package dev.zeebeambient.enforcer.training;

import dev.zeebeambient.enforcer.testsupport.ImageRun;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The image build of {@code mvn package} (after the jar's own AOT training; {@code -Dimage.skip=true}
 * skips it): {@code src/main/docker/build-image.sh} builds the base and the {@code app} stage of
 * Dockerfile.jvm, {@link AotTraining} runs that stage under podman to record the AOT cache with the
 * image's own runtime, and the final stage adds the cache. Leaves {@code localhost/zeebe-ambient-enforcer:VERSION}
 * and {@code target/image/zeebe-ambient-enforcer-VERSION.oci.tar}, and prints the layers' sizes.
 */
public final class ImageBuild {

    public static final String REPOSITORY = "localhost/zeebe-ambient-enforcer";

    private ImageBuild() {
    }

    public static void main(String[] args) {
        try {
            build(args[0]);
        } catch (Throwable e) {
            e.printStackTrace();
            System.exit(1); // not a return: the API server's threads would keep the JVM (and the build) waiting
        }
        System.exit(0);
    }

    /**
     * {@code -Dimage.jdk=<JDK home>}: an image on another JDK (tag suffix {@code -jdk<feature>}); a JDK
     * before 25 gets a dynamic AppCDS archive instead of an AOT cache. For the JDK comparison of
     * {@code src/test/bench/run-image.sh}; the shipped image is the build JDK's.
     */
    static void build(String version) throws Exception {
        String jdk = System.getProperty("image.jdk");
        int feature = jdk == null ? Runtime.version().feature() : dev.zeebeambient.enforcer.testsupport.StartupArchive.feature(Path.of(jdk));
        boolean shipped = jdk == null;
        String image = REPOSITORY + ":" + version + (shipped ? "" : "-jdk" + feature);
        String untrained = image + "-untrained";
        List<String> buildArgs = feature >= 25 ? List.of() : List.of("--build-arg", "ARCHIVE_FLAG=-XX:SharedArchiveFile");
        long t0 = System.nanoTime();
        script(jdk, "app", untrained, buildArgs);
        Path aot = Path.of("target", shipped ? "image" : "image-jdk" + feature, feature >= 25 ? "app.aot" : "app-cds.jsa");
        AotTraining.train(untrained, aot);
        List<String> finalArgs = new ArrayList<>(List.of(image, aot.toString()));
        finalArgs.addAll(buildArgs);
        finalArgs.addAll(List.of("--build-arg", "VERSION=" + version, "--build-arg", "REVISION=" + revision(),
                "--build-arg", "CREATED=" + java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS)));
        System.out.println("image: " + script(jdk, "final", finalArgs.toArray(String[]::new)).trim());
        ImageRun.run(List.of("podman", "--runtime", "runc", "untag", untrained), 60);
        System.out.printf("image: built in %.1f s; layers:%n%s", (System.nanoTime() - t0) / 1e9, script(jdk, "layers", image));
        String push = System.getProperty("image.push", "");
        if (shipped && !push.isBlank()) { // -Dimage.push=registry/repository [-Dimage.push.tls-verify=false]
            List<String> pushArgs = new ArrayList<>(List.of(image, push + ":" + version));
            if (!Boolean.parseBoolean(System.getProperty("image.push.tls-verify", "true"))) {
                pushArgs.add("--tls-verify=false");
            }
            System.out.println("image: pushed " + script(jdk, "push", pushArgs.toArray(String[]::new)).trim());
        }
        if (shipped) {
            Files.writeString(Path.of("target", "image", "image.txt"), image + "\n");
            // the SBOM the image carries, beside its archive
            Files.copy(Path.of("target", "bom.json"), Path.of("target", "image", "zeebe-ambient-enforcer-" + version + ".cdx.json"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** The commit the image is built from (OCI revision label), or "unknown" outside a git work tree. */
    static String revision() {
        try {
            Process p = new ProcessBuilder("git", "rev-parse", "HEAD").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
            return p.waitFor() == 0 && out.matches("[0-9a-f]{40}") ? out : "unknown";
        } catch (java.io.IOException e) {
            return "unknown";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }

    static String script(String jdk, String command, String tag, List<String> args) {
        List<String> all = new ArrayList<>(List.of(tag));
        all.addAll(args);
        return script(jdk, command, all.toArray(String[]::new));
    }

    static String script(String jdk, String command, String... args) {
        List<String> cmd = new ArrayList<>(List.of("bash", "src/main/docker/build-image.sh", command));
        cmd.addAll(List.of(args));
        if (jdk == null) {
            return ImageRun.run(cmd, 900);
        }
        List<String> env = new ArrayList<>(List.of("env", "IMAGE_JDK=" + jdk));
        env.addAll(cmd);
        return ImageRun.run(env, 900);
    }

}
