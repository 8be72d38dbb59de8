package dev.zeebeambient.enforcer.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zeebeambient.enforcer.admission.AdmissionHandler;
import dev.zeebeambient.enforcer.admission.AdmissionMetrics;
import dev.zeebeambient.enforcer.decision.EnrollmentDecider;
import dev.zeebeambient.enforcer.decision.Outcome;
import dev.zeebeambient.enforcer.decision.PodContext;
import dev.zeebeambient.enforcer.detection.ResolvedSources;
import dev.zeebeambient.enforcer.detection.SourceRef;
import dev.zeebeambient.enforcer.enrollment.Enrollment;
import dev.zeebeambient.enforcer.enrollment.EnrollmentMetrics;
import dev.zeebeambient.enforcer.testsupport.TestConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Decode -> decide -> patch -> encode in-process (no HTTP, no API server), over realistic pods.
 * {@code parseOnly} is the baseline: the JSON parse every webhook pays, without our work.
 * Run: see README "Performance".
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class DecisionBenchmark {

    @Param({"small-worker", "spring-client-40-env", "camunda-component-configmap", "pod-64k-managed-fields", "non-client"})
    public String pod;

    static final ObjectMapper M = new ObjectMapper();
    static final SourceRef CM = SourceRef.configMap("camunda-operate-configuration");

    AdmissionHandler handler;
    EnrollmentDecider decider;
    ResolvedSources sources;
    byte[] body;

    @Setup
    public void setup() throws Exception {
        decider = new EnrollmentDecider(TestConfig.rules());
        sources = new ResolvedSources(Map.of(CM, Map.of("application.yaml", """
                camunda:
                  operate:
                    elasticsearch: {url: "http://elasticsearch:9200"}
                    zeebe:
                      gatewayAddress: "camunda-zeebe-gateway-grpc.camunda:26500"
                """)), Set.of());
        body = M.writeValueAsBytes(review(pods().get(pod)));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        handler = new AdmissionHandler(M, (p, ns) -> new Outcome(decider.decide(new PodContext(p, ns,
                Map.of("zeebe-ambient-enforcer.io/enabled", "true"), Map.of(), sources)), true, Set.of()),
                new Enrollment(TestConfig.defaults()), false, new AdmissionMetrics(registry), new EnrollmentMetrics(registry));
    }

    static Map<String, ObjectNode> pods() {
        ObjectNode small = container("worker", Map.of("ZEEBE_ADDRESS", "camunda-zeebe-gateway-grpc.camunda:26500"));
        ObjectNode spring = container("app", Map.of());
        ArrayNode env = (ArrayNode) spring.at("/spec/containers/0/env");
        for (int i = 0; i < 39; i++) {
            env.addObject().put("name", "SPRING_SETTING_" + i).put("value", "value-" + i + "-" + "x".repeat(20));
        }
        env.addObject().put("name", "CAMUNDA_CLIENT_ZEEBE_GRPCADDRESS").put("value", "http://camunda-zeebe-gateway-grpc.camunda:26500");
        ObjectNode component = container("operate", Map.of("SPRING_PROFILES_ACTIVE", "operate"));
        ((ObjectNode) component.at("/spec/containers/0")).withArray("volumeMounts").addObject().put("name", "config").put("mountPath", "/config");
        component.with("spec").withArray("volumes").addObject().put("name", "config").putObject("configMap")
                .put("name", CM.name());
        ObjectNode big = container("worker", Map.of("ZEEBE_ADDRESS", "camunda-zeebe-gateway-grpc.camunda:26500"));
        ArrayNode mf = big.with("metadata").putArray("managedFields");
        while (big.toString().length() < 64 * 1024) {
            ObjectNode f = mf.addObject().put("manager", "kube-controller-manager").put("operation", "Update");
            ObjectNode fields = f.putObject("fieldsV1").putObject("f:metadata").putObject("f:labels");
            for (int i = 0; i < 40; i++) {
                fields.putObject("f:label-" + mf.size() + "-" + i);
            }
        }
        ObjectNode nonClient = container("nginx", Map.of("PORT", "8080"));
        return Map.of("small-worker", small, "spring-client-40-env", spring, "camunda-component-configmap", component,
                "pod-64k-managed-fields", big, "non-client", nonClient);
    }

    static ObjectNode container(String name, Map<String, String> env) {
        ObjectNode pod = M.createObjectNode().put("apiVersion", "v1").put("kind", "Pod");
        pod.putObject("metadata").put("generateName", name + "-7d9f8b6c5-").putObject("labels").put("app", name);
        ObjectNode c = pod.putObject("spec").putArray("containers").addObject().put("name", name).put("image", name + ":1");
        ArrayNode e = c.putArray("env");
        env.forEach((k, v) -> e.addObject().put("name", k).put("value", v));
        return pod;
    }

    static ObjectNode review(JsonNode pod) {
        ObjectNode r = M.createObjectNode().put("apiVersion", "admission.k8s.io/v1").put("kind", "AdmissionReview");
        ObjectNode req = r.putObject("request").put("uid", "b6f8a3e0-1c2d-4e5f-8a9b-0c1d2e3f4a5b").put("operation", "CREATE")
                .put("namespace", "apps");
        req.putObject("kind").put("group", "").put("version", "v1").put("kind", "Pod");
        req.set("object", pod);
        return r;
    }

    /** The application's AdmissionHandler (decode, decide, verdict, encode, metrics), deciding without I/O. */
    @Benchmark
    public byte[] decodeDecidePatchEncode() {
        return handler.handle(body).body();
    }

    @Benchmark
    public JsonNode parseOnly() throws Exception {
        return M.readTree(body);
    }
}
