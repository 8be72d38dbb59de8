package dev.zeebeambient.enforcer.testsupport;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.util.HashMap;
import java.util.Map;

/**
 * Points the application under test at the shared real API server <em>as its ServiceAccount</em>,
 * with exactly the RBAC and admission policies rendered from {@code webhook-config/} (init arg
 * {@code identity}: the kustomization, default {@code base}; e.g. {@code overlays/self-managed-tls}),
 * and gives it the test PKI's serving certificate for its HTTPS admission port. Test fixtures
 * use {@link KubeTestCluster#client()} (admin); the application never does.
 */
public class KubeApiServerResource implements QuarkusTestResourceLifecycleManager {

    public static final String IDENTITY = "identity";
    private String identity = "base";

    @Override
    public void init(Map<String, String> initArgs) {
        identity = initArgs.getOrDefault(IDENTITY, "base");
    }

    @Override
    public Map<String, String> start() {
        KubeTestCluster cluster = KubeTestCluster.get();
        TestPki pki = TestPki.get();
        // fabric8's auto-configuration reads this like $KUBECONFIG (same JVM as the app under test)
        System.setProperty("kubeconfig", cluster.installEnforcerIdentity(identity).toString());
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
