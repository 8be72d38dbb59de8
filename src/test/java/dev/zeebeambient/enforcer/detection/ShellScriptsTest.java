package dev.zeebeambient.enforcer.detection;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A shell comment is not an address; everything else of a script, and other programs' words, are kept. */
class ShellScriptsTest {

    static final String ADDRESS = "camunda-zeebe-gateway-grpc.camunda 26500";

    @Test
    void commentsAreDroppedFromTheScriptOnly() {
        String[][] cases = {
            // script, what the scan sees
            {"# old: nc -vz " + ADDRESS + "\nexec ./worker", "\nexec ./worker"},
            {"exec ./worker # was: nc -vz " + ADDRESS, "exec ./worker "},
            {"nc -vz " + ADDRESS + " # wait for the gateway", "nc -vz " + ADDRESS + " "},
            {"echo 'a # not a comment' " + ADDRESS, "echo 'a # not a comment' " + ADDRESS},
            {"echo \"# quoted\"; nc " + ADDRESS, "echo \"# quoted\"; nc " + ADDRESS},
            {"curl http://host/#frag " + ADDRESS, "curl http://host/#frag " + ADDRESS},
            {"echo \\# " + ADDRESS, "echo \\# " + ADDRESS},
            {"true;# nc " + ADDRESS + "\nrun", "true;\nrun"},
            {"  # indented\n  # " + ADDRESS, "  \n  "},
        };
        for (String[] c : cases) {
            assertEquals(c[1], ShellScripts.strip(c[0]), c[0]);
        }
    }

    @Test
    void onlyAShellsDashCScriptIsStripped() {
        String script = "# nc -vz " + ADDRESS + "\nexec ./worker";
        String stripped = "\nexec ./worker";
        assertEquals(List.of(List.of("sh", "-c", stripped), List.of()), ShellScripts.withoutComments(List.of("sh", "-c", script), List.of()));
        assertEquals(List.of(List.of("/bin/bash", "-ec"), List.of(stripped)),
                ShellScripts.withoutComments(List.of("/bin/bash", "-ec"), List.of(script)));
        assertEquals(List.of(List.of(), List.of("-c", stripped)), ShellScripts.withoutComments(List.of(), List.of("-c", script)),
                "an image whose entrypoint is the shell");
        assertEquals(List.of(List.of("sh", "-x", "-c", stripped), List.of()),
                ShellScripts.withoutComments(List.of("sh", "-x", "-c", script), List.of()));
        // not a -c script: kept as they are
        assertEquals(List.of(List.of("sh", "run.sh"), List.of(script)), ShellScripts.withoutComments(List.of("sh", "run.sh"), List.of(script)));
        assertEquals(List.of(List.of("python", "-c", script), List.of()), ShellScripts.withoutComments(List.of("python", "-c", script), List.of()));
        assertEquals(List.of(List.of("worker"), List.of("--tag", "#" + ADDRESS)),
                ShellScripts.withoutComments(List.of("worker"), List.of("--tag", "#" + ADDRESS)));
        assertEquals(List.of(List.of("sh", "-c"), List.of()), ShellScripts.withoutComments(List.of("sh", "-c"), List.of()), "no script");
    }
}
