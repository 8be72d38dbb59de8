package dev.zeebeambient.enforcer.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Properties;

/** Where {@code src/test/istio/build-istio.sh} put istiod, istioctl, xdsdump, the CRDs and the injection config. */
public final class IstioBuild {

    private IstioBuild() {
    }

    public static Properties properties() {
        String dir = System.getenv().getOrDefault("KUBE_API_TEST_DIR", Paths.get(System.getProperty("user.home"), ".kube_api_test").toString());
        Path props = Paths.get(dir, "istio.properties");
        if (!Files.exists(props)) {
            throw new IllegalStateException(props + " is missing: run src/test/istio/build-istio.sh "
                    + "(mvn runs it in generate-test-resources)");
        }
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(props)) {
            p.load(in);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + props, e);
        }
        return p;
    }

    public static Path path(String key) {
        String v = properties().getProperty(key);
        if (v == null) {
            throw new IllegalStateException("istio.properties has no " + key + ": run src/test/istio/build-istio.sh again");
        }
        return Paths.get(v);
    }
}
