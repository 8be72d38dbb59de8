package dev.zeebeambient.enforcer.testsupport;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

/**
 * The JVM start-up archive next to the packaged jar, for the JDK that runs it: the JDK AOT cache
 * ({@code app.aot}, JDK 25+) or a dynamic AppCDS archive ({@code app-cds.jsa}, older JDKs).
 * {@code training.AotTraining} records it during {@code mvn package}; replicas (tests, benchmarks,
 * {@code run-local.sh}) use it as the image does. {@code -Dstartup.archive=false} starts without
 * it (before/after comparisons). An archive from another JDK build or another jar is ignored by
 * the JVM with a warning (it never stops the start).
 */
public record StartupArchive(Path path, boolean aotCache) {

    static final Path DIR = Paths.get("target", "quarkus-app");

    public static StartupArchive forRunningJdk() {
        return forJdk(Replica.javaHome());
    }

    /** For the JDK in {@code javaHome} (its {@code release} file names the version). */
    public static StartupArchive forJdk(Path javaHome) {
        boolean aot = feature(javaHome) >= 25;
        return new StartupArchive(DIR.resolve(aot ? "app.aot" : "app-cds.jsa"), aot);
    }

    public static int feature(Path javaHome) {
        try {
            for (String line : Files.readAllLines(javaHome.resolve("release"))) {
                if (line.startsWith("JAVA_VERSION=")) {
                    return Integer.parseInt(line.replaceAll("[^0-9.]", "").split("\\.")[0]);
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // fall through: the running JDK
        }
        return Runtime.version().feature();
    }

    /** Flag for the training run: write the archive when the JVM exits. */
    public String recordFlag() {
        return (aotCache ? "-XX:AOTCacheOutput=" : "-XX:ArchiveClassesAtExit=") + path;
    }

    /** Flags to start with the archive: none if there is none, it is switched off, or a recording runs. */
    public List<String> useFlags() {
        String extra = System.getProperty("replica.jvm.extra", "");
        if (!Boolean.parseBoolean(System.getProperty("startup.archive", "true")) || !Files.isRegularFile(path)
                || extra.contains("AOTCache") || extra.contains("ArchiveClassesAtExit") || extra.contains("SharedArchiveFile")) {
            return List.of();
        }
        return List.of((aotCache ? "-XX:AOTCache=" : "-XX:SharedArchiveFile=") + path);
    }
}
