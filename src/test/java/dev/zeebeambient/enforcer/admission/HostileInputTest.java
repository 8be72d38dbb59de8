package dev.zeebeambient.enforcer.admission;

import dev.zeebeambient.enforcer.testsupport.Endpoints;
import dev.zeebeambient.enforcer.testsupport.Eventually;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zeebeambient.enforcer.testsupport.KubeApiServerResource;
import dev.zeebeambient.enforcer.testsupport.TestPki;
import io.fabric8.zjsonpatch.JsonPatch;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hostile inputs on the real HTTPS endpoint: each gets a clear 4xx, or allowed + warning. */
@QuarkusTest
@WithTestResource(KubeApiServerResource.class)
class HostileInputTest {

    static final String NS = "hostile-apps";

    static RequestSpecification https() {
        return Endpoints.https()
                .contentType("application/json");
    }

    static ObjectNode clientReview() {
        return ReviewFixtures.review(ReviewFixtures.pod("spring-worker-pod.json"), NS, "CREATE", false);
    }

    @Test
    void deeplyNestedJsonIs400() throws Exception {
        String deep = "[".repeat(100_000) + "]".repeat(100_000);
        // java.net.http, not rest-assured: rest-assured's Groovy JSON handling itself runs out of memory here
        var client = java.net.http.HttpClient.newBuilder().sslContext(TestPki.get().sslContext()).build();
        var response = client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(Endpoints.MUTATE_URL))
                .header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"apiVersion\":\"admission.k8s.io/v1\","
                        + "\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\",\"x\":" + deep + "}}"))
                .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(400, response.statusCode());
        assertTrue(response.body().contains("nesting depth (1001) exceeds the maximum allowed (1000"), response.body());
    }

    @Test
    void tenThousandEnvVarsAreDecided() {
        ObjectNode review = clientReview();
        ArrayNode env = (ArrayNode) review.at("/request/object/spec/containers/0/env");
        for (int i = 0; i < 10_000; i++) {
            env.insertObject(0).put("name", "VAR_" + i).put("value", "value-" + i);
        }
        https().body(review.toString()).post("/mutate").then().statusCode(200)
                .body("response.patchType", equalTo("JSONPatch"));
    }

    @Test
    void thousandContainersAreDecided() {
        ObjectNode review = ReviewFixtures.review(ReviewFixtures.pod("nginx-pod.json"), NS, "CREATE", false);
        ArrayNode containers = (ArrayNode) review.at("/request/object/spec/containers");
        for (int i = 0; i < 1_000; i++) {
            containers.addObject().put("name", "c" + i).put("image", "nginx");
        }
        containers.addObject().put("name", "last").put("image", "w").putArray("env").addObject()
                .put("name", "ZEEBE_ADDRESS").put("value", "camunda-zeebe-gateway-grpc.camunda:26500");
        https().body(review.toString()).post("/mutate").then().statusCode(200)
                .body("response.warnings[0]", containsString("env ZEEBE_ADDRESS"));
    }

    @Test
    void invalidUtf8Is400() {
        byte[] prefix = "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"".getBytes(StandardCharsets.US_ASCII);
        byte[] body = new byte[prefix.length + 4];
        System.arraycopy(prefix, 0, body, 0, prefix.length);
        body[prefix.length] = (byte) 0xC3;
        body[prefix.length + 1] = (byte) 0x28; // invalid 2-byte sequence
        body[prefix.length + 2] = '"';
        body[prefix.length + 3] = '}';
        https().body(body).post("/mutate").then().statusCode(400).body("error", startsWith("malformed JSON"));
    }

    @Test
    void nullsAndWrongTypes() {
        https().body("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":null}").post("/mutate")
                .then().statusCode(400).body("error", startsWith("missing 'request'"));
        https().body("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":5}}").post("/mutate")
                .then().statusCode(400).body("error", startsWith("missing 'request.uid'"));
        https().body("null").post("/mutate").then().statusCode(400).body("error", startsWith("body is not a JSON object"));

        ObjectNode nulls = clientReview();
        ((ObjectNode) nulls.at("/request/object")).putNull("metadata").putNull("spec");
        https().body(nulls.toString()).post("/mutate").then().statusCode(200).body("response.allowed", equalTo(true))
                .body("response.patch", equalTo(null));

        ObjectNode wrong = clientReview();
        ((ObjectNode) wrong.at("/request/object/spec")).put("containers", 42);
        https().body(wrong.toString()).post("/mutate").then().statusCode(200).body("response.allowed", equalTo(true))
                .body("response.warnings[0]", containsString("not a decodable Pod"));
        ObjectNode wrongKind = clientReview();
        ((ObjectNode) wrongKind.get("request")).put("kind", "Pod").put("operation", 7);
        https().body(wrongKind.toString()).post("/mutate").then().statusCode(200).body("response.allowed", equalTo(true))
                .body("response.patch", equalTo(null));
    }

    @Test
    void duplicateKeysAre400() {
        https().body("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"a\",\"uid\":\"b\"}}")
                .post("/mutate").then().statusCode(400).body("error", containsString("Duplicate field 'uid'"));
    }

    @Test
    void labelKeysAndValuesWithTildeAndSlashSurviveThePatch() throws Exception {
        ObjectNode review = clientReview();
        ObjectNode labels = (ObjectNode) review.at("/request/object/metadata/labels");
        labels.put("example.com/a~b", "x~1/y");
        labels.put("~0", "/");
        JsonNode pod = review.at("/request/object").deepCopy();
        String b64 = https().body(review.toString()).post("/mutate").then().statusCode(200).extract().path("response.patch");
        JsonNode patched = JsonPatch.apply(ReviewFixtures.M.readTree(Base64.getDecoder().decode(b64)), pod);
        assertEquals("x~1/y", patched.at("/metadata/labels").get("example.com/a~b").asText());
        assertEquals("/", patched.at("/metadata/labels").get("~0").asText());
        assertEquals("ambient", patched.at("/metadata/labels").get("istio.io/dataplane-mode").asText());
    }

    @Test
    void aResponseOrPatchInTheRequestIsIgnored() throws Exception {
        ObjectNode review = clientReview();
        review.putObject("response").put("uid", "forged").put("allowed", false).put("patchType", "JSONPatch")
                .put("patch", Base64.getEncoder().encodeToString("[{\"op\":\"remove\",\"path\":\"/spec\"}]".getBytes()));
        String b64 = https().body(review.toString()).post("/mutate").then().statusCode(200)
                .body("response.uid", equalTo(review.at("/request/uid").asText()))
                .body("response.allowed", equalTo(true))
                .extract().path("response.patch");
        String patch = new String(Base64.getDecoder().decode(b64), StandardCharsets.UTF_8);
        assertTrue(patch.contains("istio.io~1dataplane-mode") && !patch.contains("remove"), patch);
    }

    @Test
    void slowClientIsCutOffAtTheDeadline() throws Exception {
        long start = System.nanoTime();
        try (Socket s = TestPki.get().sslContext().getSocketFactory().createSocket("localhost", Endpoints.HTTPS_PORT)) {
            s.setSoTimeout(15_000);
            OutputStream out = s.getOutputStream();
            out.write(("POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            // one byte every 300 ms: no idle timeout ever fires; the whole-request deadline (3 s in tests) does
            Thread writer = new Thread(() -> {
                try {
                    for (int i = 0; i < 100; i++) {
                        out.write('{');
                        out.flush();
                        Thread.sleep(300);
                    }
                } catch (Exception closed) {
                    // expected once the server closes the connection
                }
            });
            writer.setDaemon(true);
            writer.start();
            String status = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
            long seconds = (System.nanoTime() - start) / 1_000_000_000L;
            assertEquals("HTTP/1.1 408 Request Timeout", status);
            assertTrue(seconds >= 2 && seconds < 10, "cut off after " + seconds + " s");
        }
        // and the server still serves everyone else
        https().body(clientReview().toString()).post("/mutate").then().statusCode(200);
        // the 408 is timed and counted like every other response
        Eventually.await(() -> httpCount("408") >= 1, 5, "the 408 counted: " + httpCount("408"));
    }

    /** {@code zeebe_ambient_admission_http_seconds_count{code}} from the management port (0 if absent). */
    static double httpCount(String code) {
        String metrics = Endpoints.management().get("/q/metrics").asString();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^zeebe_ambient_admission_http_seconds_count\\{code=\"" + code
                + "\"[^}]*} (\\S+)$", java.util.regex.Pattern.MULTILINE).matcher(metrics);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    @Test
    void everyResponseIsCountedByStatusAtTheHttpLayer() {
        double bad = httpCount("400");
        double ok = httpCount("200");
        https().body("null").post("/mutate").then().statusCode(400);
        https().body("{").post("/mutate").then().statusCode(400);
        https().body(clientReview().toString()).post("/mutate").then().statusCode(200);
        Eventually.await(() -> httpCount("400") >= bad + 2 && httpCount("200") >= ok + 1, 5,
                "400 and 200 counted: " + httpCount("400") + ", " + httpCount("200"));
        String metrics = Endpoints.management().get("/q/metrics").asString();
        assertTrue(metrics.contains("zeebe_ambient_admission_http_seconds_bucket{code=\"400\""), "with latency buckets");
    }
}
