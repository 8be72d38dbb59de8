package dev.zeebeambient.enforcer;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The start-up placeholder step reads the TLS paths the way Quarkus will, not from the environment only. */
class MainTest {

    @Test
    void tlsPathsFollowTheConfigurationNotOnlyTheEnvironment() throws Exception {
        assertEquals(System.getenv().getOrDefault("ENFORCER_TLS_CERT", "/etc/zeebe-ambient-enforcer/tls/tls.crt"),
                Main.bootConfig().getValue(Main.CERT, String.class), "packaged default, ${ENFORCER_TLS_CERT:...} expanded");
        System.setProperty(Main.KEY, "/tmp/elsewhere/tls.key");
        System.setProperty("enforcer.self-managed-tls.enabled", "true");
        try {
            var c = Main.bootConfig();
            assertEquals("/tmp/elsewhere/tls.key", c.getValue(Main.KEY, String.class));
            assertEquals(true, c.getValue("enforcer.self-managed-tls.enabled", Boolean.class));
        } finally {
            System.clearProperty(Main.KEY);
            System.clearProperty("enforcer.self-managed-tls.enabled");
        }
    }

    /**
     * Dev Services stay off: the Kubernetes extension's manifest step runs whenever they are on and logs
     * "ERROR ... Cannot apply manifests because the Kubernetes dev service is not running" in every test
     * build, which a newcomer reads as a failure.
     */
    @Test
    void devServicesAreOffSoNoBuildLogsAnError() throws Exception {
        java.util.Properties p = new java.util.Properties();
        try (var in = MainTest.class.getResourceAsStream("/application.properties")) {
            p.load(in);
        }
        assertEquals("false", p.getProperty("quarkus.devservices.enabled"));
    }

    /**
     * A configuration the chart would refuse is refused at start too, in one line naming every bad setting (a kustomize
     * user who edits the environment gets what a Helm user gets from helm install).
     */
    @Test
    void anInvalidConfigurationIsRefusedInOneLine() throws Exception {
        assertNull(Main.invalidConfiguration(), "the defaults are valid");
        System.setProperty("enforcer.reason-annotation", "zeebe-enrolled-because");
        System.setProperty("enforcer.pod-enroll-key", "enroll");
        try {
            String line = Main.invalidConfiguration();
            assertEquals("zeebe-ambient-enforcer: invalid configuration, not starting: enforcer.reason-annotation 'zeebe-enrolled-because': "
                    + "expected a key with a prefix, e.g. example.io/name; enforcer.pod-enroll-key 'enroll': expected a key with a prefix, "
                    + "e.g. example.io/name", line);
        } finally {
            System.clearProperty("enforcer.reason-annotation");
            System.clearProperty("enforcer.pod-enroll-key");
        }
        System.setProperty("enforcer.targets", "camunda/gw-grpc:99999");
        try {
            String line = Main.invalidConfiguration();
            assertTrue(line != null && line.contains("camunda/gw-grpc:99999") && line.contains("port must be 1..65535") && !line.contains("\n"),
                    String.valueOf(line));
        } finally {
            System.clearProperty("enforcer.targets");
        }
        // what an upgrade retires is Kind namespace/name of a kind the bootstrapper writes
        System.setProperty("enforcer.bootstrap.retired", "Gateway camunda/waypoint,Deployment camunda/x");
        try {
            String line = Main.invalidConfiguration();
            assertTrue(line != null && line.contains("enforcer.bootstrap.retired 'Deployment camunda/x': expected Kind namespace/name")
                    && !line.contains("'Gateway camunda/waypoint'"), String.valueOf(line));
        } finally {
            System.clearProperty("enforcer.bootstrap.retired");
        }
    }
}
