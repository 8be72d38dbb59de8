package dev.zeebeambient.enforcer;

import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.config.ConfigRules;
import dev.zeebeambient.enforcer.tls.Pki;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;

import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;

import java.io.IOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Entry point. With self-managed TLS the certificate comes from a Secret only after start-up, but
 * the HTTPS server needs files to start: a throw-away one-day certificate is written first (when
 * none is there) and replaced within seconds by {@code SelfManagedTls}.
 */
@QuarkusMain
public final class Main {

    private Main() {
    }

    public static void main(String... args) throws Exception {
        if (args.length > 0 && args[0].equals(CHECK)) {
            System.exit(dev.zeebeambient.enforcer.health.InstallCheck.run(List.of(args).subList(1, args.length), System.out));
        }
        if (args.length > 0 && (args[0].equals(EXPLAIN) || args[0].equals(PRECHECK))) {
            System.exit(command(args[0], List.of(args).subList(1, args.length)));
        }
        String invalid = invalidConfiguration();
        if (invalid != null) {
            System.err.println(invalid);
            System.exit(2);
        }
        warmKubernetesModel();
        SmallRyeConfig config = bootConfig();
        if (config.getOptionalValue("enforcer.self-managed-tls.enabled", Boolean.class).orElse(false)) {
            Path cert = Paths.get(config.getValue(CERT, String.class));
            Path key = Paths.get(config.getValue(KEY, String.class));
            if (!Files.exists(cert) || !Files.exists(key)) {
                Instant now = Instant.now();
                Pki.Issued ca = Pki.ca(Pki.PLACEHOLDER_ISSUER, Duration.ofDays(1), now);
                Pki.Issued serving = Pki.serving(ca, List.of("localhost"), List.of(), Duration.ofDays(1), now);
                Pki.writePrivate(key, serving.keyPem());
                Pki.writePrivate(cert, serving.certificatePem());
            }
        }
        Quarkus.run(args);
    }

    /**
     * fabric8's first deserialisation registers every Kubernetes model class it ships (a static,
     * ServiceLoader-driven kind -> class table: ~1,300 classes, 0.5-1 s on these machines even with
     * the AOT cache), and it used to happen on the way to readiness, inside the first namespace
     * list. Done here on a second thread it overlaps with Quarkus' own start. Best effort: a
     * failure only means the work happens later, where it always did.
     */
    static void warmKubernetesModel() {
        Thread t = new Thread(() -> {
            try {
                new io.fabric8.kubernetes.client.utils.KubernetesSerialization().unmarshal(
                        "{\"apiVersion\":\"v1\",\"kind\":\"NamespaceList\",\"items\":[{\"apiVersion\":\"v1\","
                                + "\"kind\":\"Namespace\",\"metadata\":{\"name\":\"warm-up\"}}]}");
            } catch (RuntimeException | LinkageError e) {
                // nothing to do: see above
            }
        }, "warm-kubernetes-model");
        t.setDaemon(true);
        t.start();
    }

    /** {@code java -jar quarkus-run.jar explain ...}: why a pod is (not) enrolled ({@link dev.zeebeambient.enforcer.cli.Explain}). */
    static final String EXPLAIN = "explain";

    /** {@code java -jar quarkus-run.jar precheck}: is the cluster ready ({@link dev.zeebeambient.enforcer.cli.Precheck}). */
    static final String PRECHECK = "precheck";

    /** explain or precheck: a command's output on stdout, only warnings and errors of the libraries on stderr. */
    static int command(String name, List<String> args) throws IOException {
        if (args.contains("-h") || args.contains("--help")) {
            System.out.print(name.equals(EXPLAIN) ? dev.zeebeambient.enforcer.cli.Explain.USAGE : dev.zeebeambient.enforcer.cli.Precheck.USAGE);
            return 0;
        }
        String invalid = invalidConfiguration();
        if (invalid != null) {
            System.err.println(invalid);
            return 2;
        }
        java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
        root.setLevel(java.util.logging.Level.WARNING);
        for (var h : root.getHandlers()) {
            h.setLevel(java.util.logging.Level.WARNING);
        }
        try (var client = new io.fabric8.kubernetes.client.KubernetesClientBuilder().build()) {
            return name.equals(EXPLAIN)
                    ? dev.zeebeambient.enforcer.cli.Explain.run(args, configuration(), client, System.in, System.out, System.err)
                    : dev.zeebeambient.enforcer.cli.Precheck.run(args, configuration(), client, System.out, System.err);
        }
    }

    /** {@code java -jar quarkus-run.jar check <management URL> <webhook URL> [CA file]}: what {@code helm test} runs. */
    static final String CHECK = "check";

    /**
     * One line naming every setting that breaks {@link ConfigRules} (or that its converters refuse), or null. The chart
     * refuses the same values when it renders; this catches a kustomize user's edited environment before anything starts.
     */
    static String invalidConfiguration() throws IOException {
        List<String> problems;
        try {
            problems = ConfigRules.problems(configuration());
        } catch (RuntimeException e) { // SmallRye's ConfigValidationException and the converters': their message names the key
            problems = List.of(String.valueOf(e.getMessage()).replaceAll("\\s*\\R\\s*", " ").trim());
        }
        return problems.isEmpty() ? null : "zeebe-ambient-enforcer: invalid configuration, not starting: " + String.join("; ", problems);
    }

    /** The configuration as the enforcer would read it, without starting it. */
    static EnforcerConfig configuration() throws IOException {
        SmallRyeConfig config = bootConfigBuilder().withMapping(EnforcerConfig.class).addDiscoveredInterceptors()
                .withConverter(Duration.class, 100, new io.quarkus.runtime.configuration.DurationConverter()).build();
        return config.getConfigMapping(EnforcerConfig.class);
    }

    static final String CERT = "quarkus.tls.admission.key-store.pem.0.cert";
    static final String KEY = "quarkus.tls.admission.key-store.pem.0.key";

    /**
     * The configuration as Quarkus will read it, before Quarkus runs: system properties,
     * environment, {@code config/application.properties} in the working directory and the packaged
     * {@code application.properties}, with the active profile and {@code ${...}} expansion. So a TLS
     * path or the self-managed switch set any of these ways reaches the placeholder step too.
     */
    static SmallRyeConfig bootConfig() throws IOException {
        return bootConfigBuilder().build();
    }

    private static SmallRyeConfigBuilder bootConfigBuilder() throws IOException {
        String profile = System.getProperty("quarkus.profile", System.getenv().getOrDefault("QUARKUS_PROFILE", "prod"));
        SmallRyeConfigBuilder b = new SmallRyeConfigBuilder().addDefaultSources().withProfile(profile);
        URL packaged = Main.class.getClassLoader().getResource("application.properties");
        if (packaged != null) {
            b.withSources(new PropertiesConfigSource(packaged, 250));
        }
        Path local = Paths.get("config", "application.properties");
        if (Files.exists(local)) {
            b.withSources(new PropertiesConfigSource(local.toUri().toURL(), 260));
        }
        return b;
    }
}
