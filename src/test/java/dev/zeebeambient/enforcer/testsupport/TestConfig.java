package dev.zeebeambient.enforcer.testsupport;

import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.decision.Rules;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;

import java.util.Map;

/**
 * {@link EnforcerConfig} outside Quarkus, from the mapping itself: its {@code @WithDefault}s are the
 * one source of truth for defaults (unit tests, fuzzing and benchmarks never re-type them).
 */
public final class TestConfig {

    private TestConfig() {
    }

    public static EnforcerConfig defaults() {
        return with(Map.of());
    }

    /** The defaults with some {@code enforcer.*} keys set. */
    public static EnforcerConfig with(Map<String, String> properties) {
        return new SmallRyeConfigBuilder()
                .withMapping(EnforcerConfig.class)
                .addDiscoveredInterceptors() // as in the app: CleanupModeConfig, DeprecatedKeys
                .withConverter(java.time.Duration.class, 100, new io.quarkus.runtime.configuration.DurationConverter()) // "10s", as in Quarkus
                .withSources(new PropertiesConfigSource(properties, "test", 500))
                .build()
                .getConfigMapping(EnforcerConfig.class);
    }

    /** The configuration a container with this environment reads (ENFORCER_X_Y -> enforcer.x-y, as in the app). */
    public static EnforcerConfig fromEnv(Map<String, String> env) {
        return new SmallRyeConfigBuilder()
                .withMapping(EnforcerConfig.class)
                .addDiscoveredInterceptors()
                .withConverter(java.time.Duration.class, 100, new io.quarkus.runtime.configuration.DurationConverter())
                .withSources(new io.smallrye.config.EnvConfigSource(env, 300))
                .build()
                .getConfigMapping(EnforcerConfig.class);
    }

    public static Rules rules() {
        return Rules.from(defaults());
    }
}
