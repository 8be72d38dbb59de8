package dev.zeebeambient.enforcer.admission;

import dev.zeebeambient.enforcer.decision.Decision;
import dev.zeebeambient.enforcer.decision.Outcome;
import dev.zeebeambient.enforcer.decision.Reason;
import dev.zeebeambient.enforcer.detection.Evidence;
import dev.zeebeambient.enforcer.detection.Target;
import dev.zeebeambient.enforcer.enrollment.Enrollment;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import org.junit.jupiter.api.Test;

import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The verdict reads the decider's values, never its sentences. */
class VerdictTest {

    static final Pod POD = new PodBuilder().withNewMetadata().withName("w").endMetadata().build();
    static final AdmissionRequest REQ = new AdmissionRequest("u-1", "", "Pod", null, "CREATE", "apps", "w", false, null);
    static final Evidence VIA_CHART = new Evidence("app", "env ZEEBE_ADDRESS", Target.parse("camunda/camunda-zeebe-gateway:26500"));

    @Test
    void theFixForABypassingClientIsItsOwnFieldNotCutOutOfTheSentence() {
        // a detail reworded so that no "point it at" is left in it
        Decision d = new Decision(Reason.BYPASSES_WAYPOINT, "reaches the chart's Service directly", Optional.of(VIA_CHART),
                Optional.of("camunda-zeebe-gateway-grpc.camunda:26500"));
        Verdict v = Verdict.of(REQ, POD, new Outcome(d, true, Set.of()), false, new Enrollment("zeebe-ambient-enforcer.io/enrolled-because"));
        assertEquals(Verdict.Kind.SKIP, v.kind());
        assertEquals("bypasses-waypoint", v.reason());
        assertTrue(v.warnings().contains("zeebe-ambient-enforcer: fix: point it at camunda-zeebe-gateway-grpc.camunda:26500"),
                v.warnings().toString());
    }

    @Test
    void aBypassWithoutAFixStillAnswers() {
        Decision d = new Decision(Reason.BYPASSES_WAYPOINT, "reaches the chart's Service directly", Optional.of(VIA_CHART));
        Verdict v = Verdict.of(REQ, POD, new Outcome(d, true, Set.of()), false, new Enrollment("zeebe-ambient-enforcer.io/enrolled-because"));
        assertEquals(Verdict.Kind.SKIP, v.kind());
        assertTrue(v.warnings().stream().noneMatch(w -> w.contains("fix:")), v.warnings().toString());
    }
}
