package dev.zeebeambient.enforcer.lifecycle;

import io.smallrye.config.ConfigSourceInterceptor;
import io.smallrye.config.ConfigSourceInterceptorContext;
import io.smallrye.config.ConfigValue;
import io.smallrye.config.Priorities;
import jakarta.annotation.Priority;

/**
 * In cleanup mode ({@code enforcer.bootstrap.mode=cleanup}, however it is set) the HTTPS listener
 * is not opened: a one-off Job must not answer admission calls. The HTTP server reads
 * {@code quarkus.http.host-enabled} before any bean exists, hence a config interceptor rather
 * than code in {@link Lifecycle}.
 */
@Priority(Priorities.APPLICATION + 100)
public class CleanupModeConfig implements ConfigSourceInterceptor {

    static final String LISTENER = "quarkus.http.host-enabled";

    @Override
    public ConfigValue getValue(ConfigSourceInterceptorContext context, String name) {
        if (LISTENER.equals(name)) {
            ConfigValue mode = context.proceed("enforcer.bootstrap.mode");
            if (mode != null && "cleanup".equalsIgnoreCase(mode.getValue())) {
                return ConfigValue.builder().withName(name).withValue("false").withConfigSourceName("cleanup mode").build();
            }
        }
        return context.proceed(name);
    }
}
