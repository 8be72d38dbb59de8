package dev.zeebeambient.enforcer.testsupport;

import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;

import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Properties;

/**
 * Owns the one kube-apiserver + etcd of the test JVM. Always used through the system class loader
 * (see {@link KubeTestCluster#get()}): each Quarkus test profile runs in a class loader of its own,
 * and processes started from one of those lose their output readers when that application stops —
 * etcd then dies of SIGPIPE in the middle of a later test class.
 */
public final class ApiServerProcess {

    public static final String PROPERTY = "zeebe-ambient-enforcer.test.apiserver";
    private static KubeAPIServer server;

    private ApiServerProcess() {
    }

    /**
     * Starts the server once; returns (and publishes as a system property) kubeconfig|kubectl|CRD dirs.
     * The CRDs are those of the Istio build (its Gateway API version and Istio's own), so the schemas
     * the tests write against are the ones the istiod of {@link Istiod} reads.
     */
    public static synchronized String start() throws Exception {
        String running = System.getProperty(PROPERTY);
        if (running != null) {
            return running;
        }
        ClassLoader previous = Thread.currentThread().getContextClassLoader();
        Thread.currentThread().setContextClassLoader(ApiServerProcess.class.getClassLoader());
        try {
            String dir = System.getenv().getOrDefault("KUBE_API_TEST_DIR",
                    Paths.get(System.getProperty("user.home"), ".kube_api_test").toString());
            Path props = Paths.get(dir, "zeebe-ambient-enforcer.properties");
            if (!Files.exists(props)) {
                throw new IllegalStateException(props + " is missing: run src/test/kube/build-binaries.sh "
                        + "(mvn runs it in generate-test-resources)");
            }
            Properties p = new Properties();
            try (InputStream in = new FileInputStream(props.toFile())) {
                p.load(in);
            }
            server = new KubeAPIServer(KubeAPIServerConfigBuilder.anAPIServerConfig()
                    .withTestDir(dir)
                    .withApiServerVersion(p.getProperty("kube.version"))
                    .withOfflineMode(true)
                    .withUpdateKubeConfig(false)
                    .withStartupTimeout(120_000)
                    .build());
            server.start();
            Runtime.getRuntime().addShutdownHook(new Thread(server::stop, "kube-api-test-stop"));
            Path kubeconfig = Files.createTempFile("enforcer-test-kubeconfig", ".yaml");
            kubeconfig.toFile().deleteOnExit();
            Files.writeString(kubeconfig, server.getKubeConfigYaml());
            Properties istio = IstioBuild.properties();
            String info = kubeconfig + "|" + Paths.get(p.getProperty("kube.bin"), "kubectl") + "|"
                    + istio.getProperty("istio.gateway-api-crds") + java.io.File.pathSeparator + istio.getProperty("istio.crds");
            System.setProperty(PROPERTY, info);
            return info;
        } finally {
            Thread.currentThread().setContextClassLoader(previous);
        }
    }
}
