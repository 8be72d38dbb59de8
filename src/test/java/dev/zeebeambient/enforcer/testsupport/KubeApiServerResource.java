package dev.zeebeambient.enforcer.testsupport;

import io.fabric8.kubernetes.client.Config;
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
        Config c = cluster.config();
        Map<String, String> props = new HashMap<>();
        props.put("quarkus.kubernetes-client.api-server-url", c.getMasterUrl());
        // kube-api-test's kubeconfig names files or embeds data, depending on the version
        putIfSet(props, "quarkus.kubernetes-client.ca-cert-data", c.getCaCertData());
        putIfSet(props, "quarkus.kubernetes-client.ca-cert-file", c.getCaCertFile());
        putIfSet(props, "quarkus.kubernetes-client.client-cert-data", c.getClientCertData());
        putIfSet(props, "quarkus.kubernetes-client.client-cert-file", c.getClientCertFile());
        putIfSet(props, "quarkus.kubernetes-client.client-key-data", c.getClientKeyData());
        putIfSet(props, "quarkus.kubernetes-client.client-key-file", c.getClientKeyFile());
        props.put("quarkus.tls.admission.key-store.pem.0.cert", pki.cert().toString());
        props.put("quarkus.tls.admission.key-store.pem.0.key", pki.key().toString());
        return props;
    }

    private static void putIfSet(Map<String, String> props, String key, String value) {
        if (value != null && !value.isEmpty()) {
            props.put(key, value);
        }
    }

    @Override
    public void stop() {
        // the API server is shared by the whole test JVM; a shutdown hook stops it
    }
}
