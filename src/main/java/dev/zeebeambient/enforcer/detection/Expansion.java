package dev.zeebeambient.enforcer.detection;

import java.util.Map;

/**
 * Kubernetes' {@code $(VAR)} expansion in env values, command and args
 * (k8s.io/kubernetes third_party/forked/golang/expansion): a reference to a defined variable
 * is replaced, {@code $$} becomes {@code $}, anything else stays as written.
 */
final class Expansion {

    private Expansion() {
    }

    static String expand(String input, Map<String, ZeebeClientDetector.Var> env) {
        if (input == null || input.indexOf('$') < 0) {
            return input;
        }
        StringBuilder out = new StringBuilder(input.length());
        int i = 0;
        while (i < input.length()) {
            char c = input.charAt(i);
            if (c == '$' && i + 1 < input.length()) {
                char next = input.charAt(i + 1);
                if (next == '$') {
                    out.append('$');
                    i += 2;
                    continue;
                }
                if (next == '(') {
                    int close = input.indexOf(')', i + 2);
                    if (close > 0) {
                        String name = input.substring(i + 2, close);
                        ZeebeClientDetector.Var v = env.get(name);
                        if (v != null) {
                            out.append(v.value());
                        } else {
                            out.append(input, i, close + 1);
                        }
                        i = close + 1;
                        continue;
                    }
                }
            }
            out.append(c);
            i++;
        }
        return out.toString();
    }
}
