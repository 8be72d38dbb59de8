package dev.zeebeambient.enforcer;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

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

    /** {@code render-enroll-policy} renders the in-API-server policy from the configuration the enforcer would read. */
    @Test
    void theEnrollPolicyIsRenderedFromTheEnforcersConfiguration() throws Exception {
        System.setProperty("enforcer.targets", "zeebe-prod/gw-grpc:26600");
        try {
            String yaml = Main.renderEnrollPolicy();
            org.junit.jupiter.api.Assertions.assertTrue(yaml.contains("'zeebe-prod/gw-grpc:26600'"), yaml);
            org.junit.jupiter.api.Assertions.assertTrue(yaml.contains("kind: MutatingAdmissionPolicyBinding"), yaml);
            org.junit.jupiter.api.Assertions.assertFalse(yaml.contains("camunda-zeebe-gateway-grpc"), "the default target is not in it");
        } finally {
            System.clearProperty("enforcer.targets");
        }
    }

    /** {@code render-install <dir>} writes the base's generated files for the configuration the enforcer would read. */
    @Test
    void renderInstallWritesTheBaseFilesForTheEnforcersConfiguration() throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("render-install");
        System.setProperty("enforcer.targets", "zeebe-prod/gw-grpc:26600");
        try {
            Main.main(new String[] {Main.RENDER_INSTALL, dir.toString()});
            String webhook = java.nio.file.Files.readString(dir.resolve("mutatingwebhook.yaml"));
            org.junit.jupiter.api.Assertions.assertTrue(webhook.contains("request.namespace == 'zeebe-prod'"), webhook);
            String rbac = java.nio.file.Files.readString(dir.resolve("rbac-bootstrap.yaml"));
            org.junit.jupiter.api.Assertions.assertTrue(rbac.contains("namespace: zeebe-prod") && !rbac.contains("namespace: camunda"), rbac);
            org.junit.jupiter.api.Assertions.assertTrue(java.nio.file.Files.exists(dir.resolve("enroll-policy.yaml")));
            org.junit.jupiter.api.Assertions.assertTrue(java.nio.file.Files.exists(dir.resolve("pod-patch-policy.yaml")));
        } finally {
            System.clearProperty("enforcer.targets");
        }
    }
}
