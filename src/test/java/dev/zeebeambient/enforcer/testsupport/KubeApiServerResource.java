package dev.zeebeambient.enforcer.testsupport;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.util.HashMap;
import java.util.Map;

/**
 * Points the application under test at the shared real API server and gives it the test
 * PKI's serving certificate for its HTTPS admission port.
 */
public class KubeApiServerResource implements QuarkusTestResourceLifecycleManager {

    @Override
    public Map<String, String> start() {
        KubeTestCluster cluster = KubeTestCluster.get();
        TestPki pki = TestPki.get();
        cluster.namespace("zeebe-ambient-enforcer", Map.of()); // the enforcer's own: its leader Lease lives there
        // fabric8's auto-configuration reads this like $KUBECONFIG (same JVM as the app under test)
        System.setProperty("kubeconfig", cluster.kubeconfig().toString());
        Map<String, String> props = new HashMap<>();
        props.put("quarkus.tls.admission.key-store.pem.0.cert", pki.cert().toString());
        props.put("quarkus.tls.admission.key-store.pem.0.key", pki.key().toString());
        return props;
    }

    @Override
    public void stop() {
        // the API server is shared by the whole test JVM; a shutdown hook stops it
    }
}
