package dev.zeebeambient.enforcer.lifecycle;

import io.quarkus.logging.LoggingFilter;
import org.jboss.logmanager.ExtLogRecord;

import java.util.logging.Filter;
import java.util.logging.Level;
import java.util.logging.LogRecord;

/**
 * A warning a library logs with an exception (fabric8's leader elector retrying a renewal, Caffeine's failed
 * ConfigMap load while the API server restarts) becomes one line: its message and the chain of causes. Operators
 * read these during faults, when a screen of stack frames hides what failed; the enforcer's own lines already name the
 * resource and the reason. Errors keep their stack trace.
 */
@LoggingFilter(name = "one-line-library-warnings")
public final class OneLineLibraryWarnings implements Filter {

    static final String[] LIBRARIES = {"io.fabric8.kubernetes.client.", "com.github.benmanes.caffeine.", "io.vertx.", "io.netty."};
    static final int MAX = 600;

    @Override
    public boolean isLoggable(LogRecord record) {
        Throwable thrown = record.getThrown();
        if (record.getLevel() == Level.SEVERE && "io.vertx.core.net.impl.ConnectionBase".equals(record.getLoggerName())
                && thrown instanceof java.net.SocketException && "Connection reset".equals(thrown.getMessage())) {
            // a peer went away (the API server restarting, a webhook caller closing): expected, not an error of ours
            record.setLevel(Level.WARNING);
            return oneLine(record, "a connection was reset by its peer (the API server restarting, or a caller going away)");
        }
        if (thrown == null || record.getLevel().intValue() > Level.WARNING.intValue() || !fromLibrary(record.getLoggerName())) {
            return true;
        }
        return oneLine(record, (record instanceof ExtLogRecord ext ? ext.getFormattedMessage() : record.getMessage()) + causes(thrown));
    }

    /** The record with {@code message} as its whole text, and no exception. */
    private static boolean oneLine(LogRecord record, String message) {
        if (record instanceof ExtLogRecord ext) {
            ext.setMessage(message, ExtLogRecord.FormatStyle.NO_FORMAT);
        } else {
            record.setMessage(message);
        }
        record.setParameters(null);
        record.setThrown(null);
        return true;
    }

    static boolean fromLibrary(String logger) {
        if (logger == null) {
            return false;
        }
        for (String l : LIBRARIES) {
            if (logger.startsWith(l)) {
                return true;
            }
        }
        return false;
    }

    /** " (caused by X: msg; Y: msg)", each cause once, cut to {@link #MAX} characters. */
    static String causes(Throwable t) {
        StringBuilder b = new StringBuilder(" (");
        java.util.Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Throwable c = t; c != null && seen.add(c); c = c.getCause()) {
            if (b.length() > 2) {
                b.append("; ");
            }
            b.append(c.getClass().getSimpleName());
            if (c.getMessage() != null) {
                b.append(": ").append(c.getMessage().replace('\n', ' '));
            }
        }
        String s = b.append(')').toString();
        return s.length() > MAX ? s.substring(0, MAX - 4) + "...)" : s;
    }
}
