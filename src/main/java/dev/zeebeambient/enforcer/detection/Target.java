package dev.zeebeambient.enforcer.detection;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Zeebe gateway Service whose clients must go through the waypoint, written in
 * configuration as {@code namespace/name:port}.
 */
public record Target(String namespace, String name, int port) {

    /** The form, also the chart's (its constants file is written from this): {@code namespace/service:port}. */
    public static final String PATTERN = "([a-z0-9]([-a-z0-9]*[a-z0-9])?)/([a-z0-9]([-a-z0-9]*[a-z0-9])?):(\\d{1,5})";
    private static final Pattern FORM = Pattern.compile(PATTERN);

    /** Parses {@code namespace/name:port}; the error names the bad value and the expected form. */
    public static Target parse(String text) {
        String value = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        Matcher m = FORM.matcher(value);
        if (!m.matches()) {
            throw new IllegalArgumentException("invalid target '" + text
                    + "': expected <namespace>/<service>:<port>, e.g. camunda/camunda-zeebe-gateway-grpc:26500");
        }
        int port = Integer.parseInt(m.group(5));
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("invalid target '" + text + "': port must be 1..65535");
        }
        return new Target(m.group(1), m.group(3), port);
    }

    @Override
    public String toString() {
        return namespace + "/" + name + ":" + port;
    }
}
