package dev.zeebeambient.enforcer.detection;

/**
 * {@link AddressMatcher}'s grammar as RE2 fragments, for the admission policies the chart renders (it composes them per
 * target; its {@code files/constants.json} is written from here). RE2's {@code (?i)} is never used: its Unicode
 * folding accepts more than Java's {@code toLowerCase(Locale.ROOT)}; letters are spelled out per case instead.
 */
public final class AddressRegex {

    /** A scheme ({@code http(s), grpc(s), zeebe}) or gRPC target prefix, any case, as {@code AddressMatcher} strips it. */
    public static final String PREFIX = "(?:(?:" + ci("http") + "[sS]?|" + ci("grpc") + "[sS]?|" + ci("zeebe") + ")://|" + ci("dns")
            + "://[^/]*/|" + ci("passthrough") + ":///|" + ci("dns") + ":)?";

    /** The lower-case scheme the scan accepts before a bare host followed by a port word ({@code nc -vz <host> 26500}). */
    public static final String BARE_SCHEME = "(?:(?:https?|grpcs?|zeebe)://)?";

    /** {@code AddressMatcher}'s separators ({@code [\\s"'`,;(){}\[\]<>|\\]}, Java's {@code \\s}), as RE2 escapes (no quote). */
    public static final String SEP_CHARS = " \\t\\n\\x0B\\f\\r\\x22\\x27\\x60,;(){}\\[\\]<>|\\\\";

    private static final String KEY_CHARS = "A-Za-z0-9_.\\-";

    /** A {@code key=}/{@code key:} prefix in front of a token, but not {@code dns:} in any case (a gRPC target to the detector). */
    public static final String KEY_PREFIX;

    static {
        String k = "[" + KEY_CHARS + "]";
        KEY_PREFIX = "(?:-{1,2}" + k + "+[=:]|" + k + "+=|(?:" + k + "{1,2}|" + k + "{4,}|[A-CE-Za-ce-z0-9_.\\-]" + k + "{2}"
                + "|[dD][A-MO-Za-mo-z0-9_.\\-]" + k + "|[dD][nN][A-RT-Za-rt-z0-9_.\\-]):)?";
    }

    private AddressRegex() {
    }

    /** A literal matched as Java's {@code toLowerCase(Locale.ROOT)} would see it (the Kelvin sign lower-cases to k). */
    static String ci(String lowerCase) {
        StringBuilder b = new StringBuilder();
        for (char c : lowerCase.toCharArray()) {
            b.append('[').append(c).append(Character.toUpperCase(c)).append(c == 'k' ? "\\x{212A}" : "").append(']');
        }
        return b.toString();
    }
}
