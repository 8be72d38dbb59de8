package dev.zeebeambient.enforcer.detection;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A shell comment is not an address: in {@code sh -c <script>} (also bash, ash, dash, zsh, ksh, and an image whose
 * entrypoint is the shell: args {@code ["-c", script]}) the script's comments are dropped before it is scanned, as the
 * shell drops them. {@code # old: nc -vz camunda-zeebe-gateway-grpc.camunda 26500} names no gateway the container
 * talks to. Only the {@code -c} script: other programs' words keep their {@code #} (a URL fragment, a colour).
 */
final class ShellScripts {

    private static final Set<String> SHELLS = Set.of("sh", "bash", "ash", "dash", "zsh", "ksh");
    /** {@code -c}, and combined flags that include it ({@code -ec}, {@code -xc}, {@code -lc}). */
    private static final Pattern DASH_C = Pattern.compile("-[a-zA-Z]*c[a-zA-Z]*");

    private ShellScripts() {
    }

    /** {@code command} and {@code args} as scanned: the {@code -c} script, if any, without its comments. */
    static List<List<String>> withoutComments(List<String> command, List<String> args) {
        List<String> all = new ArrayList<>(command);
        all.addAll(args);
        int script = scriptIndex(command, all);
        if (script < 0) {
            return List.of(command, args);
        }
        List<String> c = new ArrayList<>(command);
        List<String> a = new ArrayList<>(args);
        if (script < c.size()) {
            c.set(script, strip(c.get(script)));
        } else {
            a.set(script - c.size(), strip(a.get(script - c.size())));
        }
        return List.of(c, a);
    }

    /** Index in command + args of the script a shell runs with {@code -c}, or -1. */
    private static int scriptIndex(List<String> command, List<String> all) {
        int from;
        if (!command.isEmpty()) {
            String exe = command.get(0);
            if (!SHELLS.contains(exe.substring(exe.lastIndexOf('/') + 1))) {
                return -1;
            }
            from = 1;
        } else {
            from = 0; // the image's entrypoint: a shell when the first argument is -c
            if (all.isEmpty() || !DASH_C.matcher(all.get(0)).matches()) {
                return -1;
            }
        }
        for (int i = from; i < all.size() - 1; i++) {
            String w = all.get(i);
            if (DASH_C.matcher(w).matches()) {
                return i + 1;
            }
            if (!w.startsWith("-") || w.equals("--")) {
                return -1; // a script file, not a -c script
            }
        }
        return -1;
    }

    /** The script without comments: a {@code #} that starts a word outside quotes, up to the end of its line. */
    static String strip(String script) {
        StringBuilder out = new StringBuilder(script.length());
        boolean single = false;
        boolean dbl = false;
        boolean wordStart = true;
        for (int i = 0; i < script.length(); i++) {
            char ch = script.charAt(i);
            if (!single && !dbl && ch == '#' && wordStart) {
                while (i < script.length() && script.charAt(i) != '\n') {
                    i++;
                }
                if (i < script.length()) {
                    out.append('\n');
                }
                wordStart = true;
                continue;
            }
            out.append(ch);
            if (ch == '\\' && !single && i + 1 < script.length()) {
                out.append(script.charAt(++i));
                wordStart = false;
                continue;
            }
            if (ch == '\'' && !dbl) {
                single = !single;
            } else if (ch == '"' && !single) {
                dbl = !dbl;
            }
            wordStart = !single && !dbl && (Character.isWhitespace(ch) || ch == ';' || ch == '&' || ch == '|' || ch == '(' || ch == ')');
        }
        return out.toString();
    }
}
