package dev.zeebeambient.enforcer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.zeebeambient.enforcer.testsupport.Helm;
import dev.zeebeambient.enforcer.testsupport.ImageRun;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An image a cluster can pull: the built image pushed (build-image.sh push, what {@code mvn package -Dimage.push=...}
 * runs) to a real OCI registry on loopback (Debian's docker-registry, distribution 2.8), pulled back by its digest and
 * run; the chart's image.registry/repository/digest render exactly that reference.
 */
class RegistryIT {

    @Test
    void theImageIsPushedPulledByDigestAndRuns() throws Exception {
        String image = Files.readString(Path.of("target", "image", "image.txt")).trim();
        String version = image.substring(image.lastIndexOf(':') + 1);
        Path dir = Files.createTempDirectory("registry-it");
        int port = ImageRun.freePort();
        Files.writeString(dir.resolve("config.yml"), """
                version: 0.1
                storage:
                  filesystem:
                    rootdirectory: %s
                http:
                  addr: 127.0.0.1:%d
                """.formatted(dir.resolve("data"), port));
        Process registry = new ProcessBuilder("docker-registry", "serve", dir.resolve("config.yml").toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("registry.log").toFile()).start();
        String pulled = null;
        try {
            HttpClient http = HttpClient.newHttpClient();
            dev.zeebeambient.enforcer.testsupport.Eventually.await(() -> {
                try {
                    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v2/")).build(),
                            HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
                } catch (java.io.IOException notYet) {
                    return false;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }, 30, "the registry answers on 127.0.0.1:" + port);
            String repository = "127.0.0.1:" + port + "/platform/zeebe-ambient-enforcer";
            long t0 = System.nanoTime();
            String ref = ImageRun.run(List.of("bash", "src/main/docker/build-image.sh", "push", image, repository + ":" + version,
                    "--tls-verify=false"), 300).lines().reduce((a, b) -> b).orElse("").trim();
            long pushMs = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ref.matches(java.util.regex.Pattern.quote(repository) + "@sha256:[0-9a-f]{64}"), ref);
            String digest = ref.substring(ref.indexOf('@') + 1);
            // pulled by digest, as a Deployment with image.digest pulls it
            t0 = System.nanoTime();
            ImageRun.run(List.of("podman", "--runtime", "runc", "pull", "--quiet", "--tls-verify=false", ref), 300);
            long pullMs = (System.nanoTime() - t0) / 1_000_000;
            pulled = ref;
            JsonNode labels = new ObjectMapper().readTree(ImageRun.run(List.of("podman", "--runtime", "runc", "image", "inspect", "--format",
                    "{{json .Labels}}", ref), 60));
            assertEquals(version, labels.path("org.opencontainers.image.version").asText(), labels.toString());
            String help = ImageRun.run(List.of("podman", "--runtime", "runc", "run", "--rm", "--ulimit", "nproc=4096:4096", "--ulimit",
                    "nofile=1024:1024", "--entrypoint", "sh", ref, "-c", "exec java -jar /deployments/quarkus-run.jar precheck --help"), 120);
            assertTrue(help.contains("usage: precheck"), help);
            System.out.printf("RegistryIT: pushed %s in %d ms, pulled by digest in %d ms, ran it%n", ref, pushMs, pullMs);
            // the chart renders that very reference
            String rendered = Helm.template("zeebe-ambient-enforcer", "zeebe-ambient-enforcer", List.of("--set", "image.registry=127.0.0.1:" + port
                    + "/platform", "--set", "image.repository=zeebe-ambient-enforcer", "--set", "image.digest=" + digest));
            List<String> images = new ArrayList<>();
            for (var d : Helm.documents(rendered)) {
                d.findValues("image").forEach(i -> images.add(i.asText()));
            }
            assertTrue(!images.isEmpty() && images.stream().allMatch(ref::equals), images.toString());
        } finally {
            if (pulled != null) {
                ImageRun.run(List.of("podman", "--runtime", "runc", "rmi", "--force", pulled), 60);
            }
            registry.destroy();
            registry.waitFor();
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
