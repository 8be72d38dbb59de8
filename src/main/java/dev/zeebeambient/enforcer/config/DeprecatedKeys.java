package dev.zeebeambient.enforcer.config;

import io.smallrye.config.ConfigSourceInterceptor;
import io.smallrye.config.ConfigSourceInterceptorContext;
import io.smallrye.config.ConfigValue;
import io.smallrye.config.Priorities;
import jakarta.annotation.Priority;
import org.jboss.logging.Logger;

import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keys that moved keep working: a value set under the old name is used for the new one (unless
 * the new one is set too), with one WARN per key naming the new name. The leader election gates
 * the backstop and self-managed TLS as much as the bootstrapper, so it left {@code enforcer.bootstrap.}.
 */
@Priority(Priorities.LIBRARY + 600)
public class DeprecatedKeys implements ConfigSourceInterceptor {

    private static final Logger LOG = Logger.getLogger(DeprecatedKeys.class);
    /** new prefix -> old prefix */
    static final Map<String, String> MOVED = Map.of("enforcer.leader-election.", "enforcer.bootstrap.leader-election.");
    private static final Set<String> warned = ConcurrentHashMap.newKeySet();

    @Override
    public ConfigValue getValue(ConfigSourceInterceptorContext context, String name) {
        ConfigValue value = context.proceed(name);
        for (Map.Entry<String, String> m : MOVED.entrySet()) {
            if (name.startsWith(m.getKey()) && (value == null || isDefault(value))) {
                String oldName = m.getValue() + name.substring(m.getKey().length());
                ConfigValue old = context.proceed(oldName);
                if (old != null && !isDefault(old)) {
                    if (warned.add(oldName)) {
                        LOG.warnf("configuration key %s is deprecated: use %s (environment: %s)", oldName, name,
                                name.toUpperCase(java.util.Locale.ROOT).replaceAll("[^A-Z0-9]", "_"));
                    }
                    return old.withName(name);
                }
            }
        }
        return value;
    }

    @Override
    public Iterator<String> iterateNames(ConfigSourceInterceptorContext context) {
        // the old names are not offered as names: they are read only through the new ones
        Iterator<String> names = context.iterateNames();
        java.util.List<String> out = new java.util.ArrayList<>();
        names.forEachRemaining(n -> {
            if (MOVED.values().stream().noneMatch(n::startsWith)) {
                out.add(n);
            }
        });
        return out.iterator();
    }

    private static boolean isDefault(ConfigValue v) {
        return v.getConfigSourceName() != null && v.getConfigSourceName().startsWith("DefaultValuesConfigSource");
    }
}
