package dev.zeebeambient.enforcer.install;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.testsupport.KubeTestCluster;
import dev.zeebeambient.enforcer.testsupport.TestConfig;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The enforcer tells when it runs with other settings than its admission objects were rendered from: the pure comparison,
 * table-driven, and the real one, as the ServiceAccount with the shipped RBAC, against the objects the base installed
 * (the base is the chart's rendering, annotation included).
 */
class InstalledConfigurationTest {

    static final Map<String, String> RENDERED = Map.of("ENFORCER_TARGETS", "camunda/camunda-zeebe-gateway-grpc:26500",
            "ENFORCER_NAMESPACE_OPT_IN_LABEL", "zeebe-ambient-enforcer.io/enabled=true",
            "ENFORCER_EXCLUDED_NAMESPACES", "istio-system,kube-node-lease,kube-public,kube-system",
            "ENFORCER_REASON_ANNOTATION", "zeebe-ambient-enforcer.io/enrolled-because", "ENFORCER_AUDIT", "false");

    @Test
    void theSameSettingsWrittenDifferentlyAreNoDifference() {
        assertEquals(List.of(), InstalledConfiguration.compare("x", RENDERED, TestConfig.defaults()));
        // spelling the chart does not use but a hand edit might: spaces, case of booleans, order, the always-excluded left out
        assertEquals(List.of(), InstalledConfiguration.compare("x", Map.of("ENFORCER_TARGETS", " camunda/camunda-zeebe-gateway-grpc:26500 ",
                "ENFORCER_NAMESPACE_OPT_IN_LABEL", "zeebe-ambient-enforcer.io/enabled = true", "ENFORCER_EXCLUDED_NAMESPACES", "",
                "ENFORCER_AUDIT", "FALSE", "ENFORCER_CLUSTER_DOMAIN", "Cluster.Local."), TestConfig.defaults()));
    }

    @Test
    void eachDifferingSettingIsNamedWithBothValues() {
        EnforcerConfig running = TestConfig.with(Map.of("enforcer.audit", "true", "enforcer.excluded-namespaces", "legacy",
                "enforcer.targets", "camunda/camunda-zeebe-gateway-grpc:26500,c8/c8-zeebe-gateway-grpc:26500"));
        var d = InstalledConfiguration.compare("MutatingAdmissionPolicy zeebe-ambient-enforcer-enroll", RENDERED, running);
        assertEquals(List.of("ENFORCER_AUDIT", "ENFORCER_EXCLUDED_NAMESPACES", "ENFORCER_TARGETS"),
                d.stream().map(InstalledConfiguration.Difference::setting).toList());
        assertEquals("MutatingAdmissionPolicy zeebe-ambient-enforcer-enroll: ENFORCER_AUDIT is false there, true here", d.get(0).toString());
        assertTrue(d.get(1).running().contains("legacy") && !d.get(1).installed().contains("legacy"), d.get(1).toString());
        // an unreadable rendered value is reported as such, not thrown
        var bad = InstalledConfiguration.compare("x", Map.of("ENFORCER_TARGETS", "not a target"), TestConfig.defaults());
        assertEquals("unreadable 'not a target'", bad.get(0).installed());
    }

    /** As the ServiceAccount: the shipped RBAC lets it read the objects by name; another configuration is reported. */
    @Test
    void theServiceAccountReadsTheInstalledObjectsAndReportsAnotherConfiguration() {
        KubeTestCluster cluster = KubeTestCluster.get();
        cluster.installEnforcerIdentity("base");
        var sa = cluster.serviceAccountClient();
        InstalledConfiguration same = new InstalledConfiguration(sa, TestConfig.defaults(), new ObjectMapper());
        same.check();
        assertTrue(same.report().consistent(), same.report().toString());
        assertFalse(same.report().unreadable().stream().anyMatch(u -> u.contains("forbidden")), same.report().toString());

        EnforcerConfig other = TestConfig.with(Map.of("enforcer.reason-annotation", "team.example.com/why",
                "enforcer.namespace-opt-in-label", "team.example.com/zeebe=on"));
        InstalledConfiguration drifted = new InstalledConfiguration(sa, other, new ObjectMapper());
        drifted.check();
        List<String> differences = drifted.report().differences().stream().map(Object::toString).toList();
        assertTrue(differences.contains("ValidatingAdmissionPolicy zeebe-ambient-enforcer-pod-patches: ENFORCER_REASON_ANNOTATION is "
                + "zeebe-ambient-enforcer.io/enrolled-because there, team.example.com/why here"), differences.toString());
        assertTrue(differences.stream().anyMatch(x -> x.contains("ENFORCER_NAMESPACE_OPT_IN_LABEL")), differences.toString());
    }
}
