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

    static void build(String version) throws Exception {
        String image = REPOSITORY + ":" + version;
        String untrained = image + "-untrained";
        long t0 = System.nanoTime();
        script("app", untrained);
        Path aot = Path.of("target", "image", "app.aot");
        AotTraining.train(untrained, aot);
        System.out.println("image: " + script("final", image, aot.toString()).trim());
        ImageRun.run(List.of("podman", "--runtime", "runc", "untag", untrained), 60);
        System.out.printf("image: built in %.1f s; layers:%n%s", (System.nanoTime() - t0) / 1e9, script("layers", image));
        Files.writeString(Path.of("target", "image", "image.txt"), image + "\n");
    }

    static String script(String... args) {
        List<String> cmd = new ArrayList<>(List.of("bash", "src/main/docker/build-image.sh"));
        cmd.addAll(List.of(args));
        return ImageRun.run(cmd, 900);
    }
}
