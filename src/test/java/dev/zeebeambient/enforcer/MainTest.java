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
}
