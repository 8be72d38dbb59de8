package dev.zeebeambient.enforcer.admission;

import dev.zeebeambient.enforcer.testsupport.Endpoints;
import dev.zeebeambient.enforcer.testsupport.Eventually;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zeebeambient.enforcer.kube.NamespaceCache;
import dev.zeebeambient.enforcer.testsupport.KubeApiServerResource;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import dev.zeebeambient.enforcer.testsupport.TestPki;
import io.fabric8.zjsonpatch.JsonPatch;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusMock;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ValidatableResponse;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.Socket;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real HTTPS endpoint with AdmissionReview bodies; the app talks to the real test API server. */
@QuarkusTest
@WithTestResource(KubeApiServerResource.class)
class AdmissionEndpointTest {

    static final String NS = "endpoint-apps";
    static final String WARN = "zeebe-ambient-enforcer: ";

    @Inject
    NamespaceCache namespaces;

    @BeforeEach
    void optedInNamespaceIsCached() throws InterruptedException {
        KubeTestCluster.get().namespace(NS, Map.of("zeebe-ambient-enforcer.io/enabled", "true"));
        Eventually.await(() -> namespaces.labels(NS) != null, 30, "namespace " + NS + " in the cache");
        assertEquals("true", namespaces.labels(NS).get("zeebe-ambient-enforcer.io/enabled"));
    }

    static RequestSpecification https() {
        return Endpoints.https()
                .contentType("application/json");
    }

    static ValidatableResponse post(JsonNode review) {
        return https().body(review.toString()).post("/mutate").then();
    }

    static double metric(String line) {
        String body = Endpoints.management().get("/q/metrics").then().statusCode(200)
                .extract().asString();
        return body.lines().filter(l -> l.startsWith(line)).mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .sum();
    }

    @Test
    void zeebeClientGetsLabelAndReasonAnnotation() throws Exception {
        ObjectNode pod = ReviewFixtures.pod("spring-worker-pod.json");
        ObjectNode review = ReviewFixtures.review(pod, NS, "CREATE", false);
        String enrolled = "zeebe_ambient_admission_requests_total{decision=\"enroll\",dry_run=\"false\",reason=\"zeebe-client\"";
        double before = metric(enrolled);

        JsonNode response = ReviewFixtures.M.readTree(post(review).statusCode(200)
                .body("apiVersion", equalTo("admission.k8s.io/v1"))
                .body("kind", equalTo("AdmissionReview"))
                .body("response.uid", equalTo(review.at("/request/uid").asText()))
                .body("response.allowed", equalTo(true))
                .body("response.patchType", equalTo("JSONPatch"))
                .extract().asString()).get("response");

        JsonNode patch = ReviewFixtures.M.readTree(Base64.getDecoder().decode(response.get("patch").asText()));
        JsonNode patched = JsonPatch.apply(patch, pod);
        ObjectNode expected = pod.deepCopy();
        ((ObjectNode) expected.at("/metadata/labels")).put("istio.io/dataplane-mode", "ambient");
        ((ObjectNode) expected.at("/metadata/annotations")).put("zeebe-ambient-enforcer.io/enrolled-because",
                "container worker: env CAMUNDA_CLIENT_ZEEBE_GRPCADDRESS -> camunda/camunda-zeebe-gateway-grpc:26500");
        ((ObjectNode) expected.at("/metadata/annotations")).put("zeebe-ambient-enforcer.io/enrolled-by", "admission");
        assertEquals(expected, patched);

        List<String> warnings = ReviewFixtures.M.convertValue(response.get("warnings"), List.class);
        assertEquals(1, warnings.size(), warnings.toString());
        assertEquals(WARN + "enrolled in ambient: env CAMUNDA_CLIENT_ZEEBE_GRPCADDRESS -> camunda-zeebe-gateway-grpc",
                warnings.get(0));
        assertTrue(warnings.get(0).length() < 120);
        assertEquals(before + 1, metric(enrolled));
        assertTrue(metric("zeebe_ambient_admission_duration_seconds_bucket{le=\"0.005\"") >= 1, "latency histogram exported");
    }

    @Test
    void dryRunGetsTheSameAnswer() throws Exception {
        ObjectNode pod = ReviewFixtures.pod("spring-worker-pod.json");
        String dry = "zeebe_ambient_admission_requests_total{decision=\"enroll\",dry_run=\"true\"";
        double before = metric(dry);
        double enrollments = metric("zeebe_ambient_enrollments_total{origin=\"admission\"");
        JsonNode real = ReviewFixtures.M.readTree(post(ReviewFixtures.review(pod, NS, "CREATE", false)).extract().asString());
        JsonNode dryRun = ReviewFixtures.M.readTree(post(ReviewFixtures.review(pod, NS, "CREATE", true)).extract().asString());
        assertEquals(real.at("/response/patch"), dryRun.at("/response/patch"));
        assertEquals(real.at("/response/warnings"), dryRun.at("/response/warnings"));
        assertEquals(before + 1, metric(dry));
        assertEquals(enrollments + 1, metric("zeebe_ambient_enrollments_total{origin=\"admission\""),
                "a dry run is not counted as an enrollment");
    }

    @Test
    void nonClientIsAllowedUnchanged() {
        post(ReviewFixtures.review(ReviewFixtures.pod("nginx-pod.json"), NS, "CREATE", false)).statusCode(200)
                .body("response.allowed", equalTo(true))
                .body("response.patch", equalTo(null))
                .body("response.warnings", equalTo(null));
    }

    @Test
    void optOutNoneOfAClientIsExplained() {
        ObjectNode pod = ReviewFixtures.pod("spring-worker-pod.json");
        ((ObjectNode) pod.at("/metadata/labels")).put("istio.io/dataplane-mode", "none");
        post(ReviewFixtures.review(pod, NS, "CREATE", false)).statusCode(200)
                .body("response.patch", equalTo(null))
                .body("response.warnings[0]", equalTo(WARN + "Zeebe client not enrolled: pod opts out with istio.io/dataplane-mode=none"));
    }

    @Test
    void otherKindsAndOperationsAreAllowedUnchanged() {
        ObjectNode update = ReviewFixtures.review(ReviewFixtures.pod("spring-worker-pod.json"), NS, "UPDATE", false);
        post(update).statusCode(200).body("response.allowed", equalTo(true)).body("response.patch", equalTo(null));
        ObjectNode cm = ReviewFixtures.review(ReviewFixtures.M.createObjectNode().put("kind", "ConfigMap"), NS, "CREATE", false);
        ((ObjectNode) cm.at("/request/kind")).put("kind", "ConfigMap");
        post(cm).statusCode(200).body("response.allowed", equalTo(true)).body("response.patch", equalTo(null));
    }

    @Test
    void undecodablePodIsAllowedWithAWarning() {
        ObjectNode pod = ReviewFixtures.pod("nginx-pod.json");
        pod.with("spec").put("containers", "not-a-list");
        post(ReviewFixtures.review(pod, NS, "CREATE", false)).statusCode(200)
                .body("response.allowed", equalTo(true))
                .body("response.patch", equalTo(null))
                .body("response.warnings[0]", equalTo(WARN + "object is not a decodable Pod; not checked"));
        ObjectNode missing = ReviewFixtures.review(pod, NS, "CREATE", false);
        ((ObjectNode) missing.get("request")).remove("object");
        post(missing).statusCode(200).body("response.allowed", equalTo(true))
                .body("response.warnings[0]", containsString("not a decodable Pod"));
    }

    @Test
    void badRequestsGet400WithTheProblemNamed() {
        double before = metric("zeebe_ambient_admission_errors_total{stage=\"decode\"");
        https().body("{not json").post("/mutate").then().statusCode(400).body("error", startsWith("malformed JSON"));
        https().body("").post("/mutate").then().statusCode(400).body("error", startsWith("empty body"));
        https().body("{\"apiVersion\":\"admission.k8s.io/v1beta1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\"}}")
                .post("/mutate").then().statusCode(400)
                .body("error", equalTo("unsupported apiVersion 'admission.k8s.io/v1beta1': expected admission.k8s.io/v1"));
        https().body("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}").post("/mutate").then()
                .statusCode(400).body("error", startsWith("missing 'request'"));
        https().body("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{}}").post("/mutate")
                .then().statusCode(400).body("error", startsWith("missing 'request.uid'"));
        assertEquals(before + 5, metric("zeebe_ambient_admission_errors_total{stage=\"decode\""));
    }

    @Test
    void oversizedBodyGets413() throws Exception {
        // announce 5 MiB (limit: 4M); the server answers from the headers, before any body byte
        try (Socket s = TestPki.get().sslContext().getSocketFactory().createSocket("localhost", Endpoints.HTTPS_PORT)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + (5 * 1024 * 1024) + "\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            String status = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream())).readLine();
            assertEquals("HTTP/1.1 413 Request Entity Too Large", status);
        }
    }

    @Test
    void wrongContentTypeGets415() {
        https().contentType("text/plain").body("hello").post("/mutate").then().statusCode(415);
    }

    @Test
    void internalErrorNeverBlocksThePod() {
        QuarkusMock.installMockForType(new NamespaceCache(null, null) {
            @Override
            public Map<String, String> labels(String namespace) {
                throw new IllegalStateException("simulated bug");
            }
        }, NamespaceCache.class);
        double before = metric("zeebe_ambient_admission_errors_total{stage=\"internal\"");
        ObjectNode review = ReviewFixtures.review(ReviewFixtures.pod("spring-worker-pod.json"), NS, "CREATE", false);
        post(review).statusCode(200)
                .body("response.uid", equalTo(review.at("/request/uid").asText()))
                .body("response.allowed", equalTo(true))
                .body("response.patch", equalTo(null))
                .body("response.warnings[0]", equalTo(WARN + "internal error, pod admitted unchanged (see enforcer logs)"));
        assertEquals(before + 1, metric("zeebe_ambient_admission_errors_total{stage=\"internal\""));
    }

    @Test
    void unknownNamespaceLabelsAreDecidedFromThePodAloneWithAWarning() {
        ObjectNode review = ReviewFixtures.review(ReviewFixtures.pod("spring-worker-pod.json"), "not-in-the-cache", "CREATE", false);
        post(review).statusCode(200)
                .body("response.patchType", equalTo("JSONPatch"))
                .body("response.warnings[1]", equalTo(WARN + "labels of namespace not-in-the-cache not loaded yet; decided from the pod alone"));
    }

    @Inject
    io.fabric8.kubernetes.client.KubernetesClient client;
    @Inject
    dev.zeebeambient.enforcer.config.EnforcerConfig config;

    @Test
    void configMapThatCannotBeReadInTimeIsNamedInAWarning() {
        QuarkusMock.installMockForType(new dev.zeebeambient.enforcer.kube.SourceResolver(client,
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry(), config) {
            @Override
            public dev.zeebeambient.enforcer.detection.ResolvedSources resolve(String ns,
                    java.util.Set<dev.zeebeambient.enforcer.detection.SourceRef> refs) {
                return new dev.zeebeambient.enforcer.detection.ResolvedSources(Map.of(), refs);
            }
        }, dev.zeebeambient.enforcer.kube.SourceResolver.class);
        ObjectNode pod = ReviewFixtures.pod("nginx-pod.json");
        ((ObjectNode) pod.at("/spec/containers/0")).putArray("envFrom").addObject().putObject("configMapRef").put("name", "slow-config");
        post(ReviewFixtures.review(pod, NS, "CREATE", false)).statusCode(200)
                .body("response.allowed", equalTo(true))
                .body("response.patch", equalTo(null))
                .body("response.warnings[0]", equalTo(WARN + "could not read configmap/slow-config in time; it was not checked"));
    }

    /** A referenced ConfigMap that does not exist yet (created after the Deployment) is named, not silently ignored. */
    @Test
    void configMapThatDoesNotExistYetIsNamedInAWarning() {
        ObjectNode pod = ReviewFixtures.pod("nginx-pod.json");
        ((ObjectNode) pod.at("/spec/containers/0")).putArray("envFrom").addObject().putObject("configMapRef").put("name", "created-later");
        post(ReviewFixtures.review(pod, NS, "CREATE", false)).statusCode(200)
                .body("response.allowed", equalTo(true))
                .body("response.patch", equalTo(null))
                .body("response.warnings[0]", equalTo(WARN + "configmap/created-later does not exist (yet); not checked, the backstop re-checks later"));
    }

    @Test
    void healthAndMetricsAreOnTheManagementPortOnly() {
        Endpoints.management().get("/q/health/ready").then().statusCode(200)
                .body("status", equalTo("UP"));
        https().get("/q/health/ready").then().statusCode(404);
        https().get("/q/metrics").then().statusCode(404);
    }

    @Test
    void noPlaintextAdmissionPort() throws Exception {
        // insecure requests are disabled: this JVM listens on the HTTPS and management ports only
        assertEquals(java.util.Set.of(Endpoints.HTTPS_PORT, Endpoints.MANAGEMENT_PORT), ListeningPorts.ofThisProcess());
        // and plaintext HTTP spoken to the TLS port does not reach the handler
        assertThrows(Exception.class, () -> given().baseUri("http://localhost").port(Endpoints.HTTPS_PORT)
                .config(io.restassured.RestAssured.config().httpClient(io.restassured.config.HttpClientConfig.httpClientConfig()
                        .setParam("http.socket.timeout", (int) Duration.ofSeconds(5).toMillis())))
                .body("{}").post("/mutate").then().statusCode(200));
    }

    /**
     * Every pod of the corpus (src/test/resources/corpus) through the HTTPS endpoint: allowed, and enrolled with exactly
     * the golden verdict's patch, or left unchanged, as the golden verdict says (warnings depend on which gateway
     * Services exist in the test API server, so they are the verdict test's).
     */
    @Test
    void everyCorpusPodGetsItsGoldenPatch() throws Exception {
        var golden = dev.zeebeambient.enforcer.testsupport.Corpus.verdicts();
        List<String> differ = new java.util.ArrayList<>();
        int enrolled = 0;
        for (Map.Entry<String, io.fabric8.kubernetes.api.model.Pod> c : dev.zeebeambient.enforcer.testsupport.Corpus.pods().entrySet()) {
            JsonNode object = ReviewFixtures.M.valueToTree(c.getValue());
            JsonNode response = ReviewFixtures.M.readTree(post(ReviewFixtures.review(object, NS, "CREATE", false)).statusCode(200)
                    .extract().asString()).get("response");
            JsonNode want = golden.get(c.getKey());
            JsonNode patch = response.hasNonNull("patch")
                    ? ReviewFixtures.M.readTree(Base64.getDecoder().decode(response.get("patch").asText())) : null;
            boolean patches = "ENROLL".equals(want.get("kind").asText()) || "RETRACT".equals(want.get("kind").asText());
            boolean same = response.get("allowed").asBoolean() && (patches ? want.get("patch").equals(patch) : patch == null);
            enrolled += patch != null ? 1 : 0;
            if (!same) {
                differ.add(c.getKey() + ": golden " + want.get("patch") + ", endpoint " + patch);
            }
        }
        assertEquals(List.of(), differ, "the endpoint's patch differs from the golden verdict");
        assertTrue(enrolled > 500, "enrolled: " + enrolled);
    }
}
