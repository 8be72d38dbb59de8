package dev.zeebeambient.enforcer.health;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What {@code helm test} says about the bootstrap when the Service's replicas answer in turn: only the leader's answer
 * counts (a follower reports "observing", UP, whatever state the leader is in). A local server stands in for the
 * Service, answering as a follower or as the leader per request.
 */
class InstallCheckTest {

    static final String FOLLOWER = """
            {"status":"UP","checks":[{"name":"bootstrap","status":"UP","data":{"phase":"observing"}}]}""";
    static final String LEADER_IN_CONFLICT = """
            {"status":"DOWN","checks":[{"name":"bootstrap","status":"DOWN","data":{"phase":"conflict","message":"Service camunda/x: field \
            spec.selector owned by helm"}}]}""";

    /** Runs the check against a "Service" whose {@code n}-th bootstrap answer comes from {@code replicas[n % size]}. */
    static String check(List<String> replicas) throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        AtomicInteger n = new AtomicInteger();
        server.createContext("/q/health/ready", x -> {
            byte[] b = "{\"status\":\"UP\"}".getBytes(StandardCharsets.UTF_8);
            x.sendResponseHeaders(200, b.length);
            x.getResponseBody().write(b);
            x.close();
        });
        server.createContext("/q/health/group/bootstrap", x -> {
            String body = replicas.get(n.getAndIncrement() % replicas.size());
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            x.sendResponseHeaders(body.contains("\"status\":\"DOWN\"") ? 503 : 200, b.length);
            x.getResponseBody().write(b);
            x.close();
        });
        server.start();
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            String base = "http://127.0.0.1:" + server.getAddress().getPort();
            InstallCheck.run(List.of(base, "https://127.0.0.1:1"), new PrintStream(out, true, StandardCharsets.UTF_8));
            return out.toString(StandardCharsets.UTF_8);
        } finally {
            server.stop(0);
        }
    }

    static String bootstrapLine(String output) {
        return output.lines().filter(l -> l.contains("the bootstrap converged")).findFirst().orElseThrow(() -> new AssertionError(output));
    }

    @Test
    void aFollowersUpDoesNotHideTheLeadersConflict() throws Exception {
        String line = bootstrapLine(check(List.of(FOLLOWER, FOLLOWER, LEADER_IN_CONFLICT)));
        assertTrue(line.startsWith("FAIL ") && line.contains("HTTP 503") && line.contains("conflict"), line);
    }

    @Test
    void theLeadersConvergedPasses() throws Exception {
        String line = bootstrapLine(check(List.of(FOLLOWER, """
                {"status":"UP","checks":[{"name":"bootstrap","status":"UP","data":{"phase":"converged"}}]}""")));
        assertTrue(line.startsWith("ok   ") && line.contains("as the leader reports it"), line);
    }

    @Test
    void onlyFollowersAnsweringIsAFailureThatSaysSo() throws Exception {
        String line = bootstrapLine(check(List.of(FOLLOWER)));
        assertTrue(line.startsWith("FAIL ") && line.contains("only from followers") && line.contains("no leader answered"), line);
        assertFalse(InstallCheck.fromAFollower(LEADER_IN_CONFLICT));
        assertTrue(InstallCheck.fromAFollower(FOLLOWER));
    }
}
