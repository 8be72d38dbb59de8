package dev.zeebeambient.enforcer.testsupport;

import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Map;

/**
 * The README's "run" command (src/test/kube/run-local.sh): a local real kube-apiserver with the
 * CRDs, a real istiod, an opted-in demo namespace and the webhook registered by URL, then the
 * packaged enforcer against it. Ctrl-C stops everything it started.
 */
public final class LocalRun {

    private LocalRun() {
    }

    public static void main(String[] args) throws Exception {
        Path jar = Paths.get("target", "quarkus-app", "quarkus-run.jar");
        if (!Files.exists(jar)) {
            throw new IllegalStateException(jar + " is missing: run `mvn package -DskipTests` first (run-local.sh does)");
        }
        System.out.println("Starting a local kube-apiserver + etcd ...");
        KubeTestCluster cluster = KubeTestCluster.get();
        cluster.installCrds();
        for (String ns : new String[] {"camunda", "istio-system", "zeebe-ambient-enforcer"}) {
            cluster.namespace(ns, Map.of());
        }
        // a real istiod (ambient): creates the istio-waypoint GatewayClass, accepts the waypoint, creates its Deployment
        System.out.println("Starting istiod (pilot-discovery, ambient) against it ...");
        Istiod istiod = Istiod.start(cluster.kubeconfig());
        Runtime.getRuntime().addShutdownHook(new Thread(istiod::close, "stop-istiod"));
        // stands in for the Camunda Helm chart's gateway Service: the bootstrapper copies its selector
        cluster.client().resource(new io.fabric8.kubernetes.api.model.ServiceBuilder().withNewMetadata()
                .withName("camunda-zeebe-gateway").withNamespace("camunda").endMetadata().withNewSpec()
                .addToSelector(Map.of("app.kubernetes.io/component", "zeebe-gateway", "app.kubernetes.io/instance", "camunda"))
                .addNewPort().withName("grpc").withPort(26500).endPort().endSpec().build()).serverSideApply();
        cluster.namespace("demo", Map.of("zeebe-ambient-enforcer.io/enabled", "true"));
        cluster.registerWebhook("zeebe-ambient-enforcer", "https://localhost:8443/mutate", "Ignore");

        Path dir = Files.createDirectories(Paths.get("target", "local-run").toAbsolutePath());
        // yours (admin), for kubectl; the enforcer gets the shipped ServiceAccount's token and RBAC
        Path kubeconfig = dir.resolve("kubeconfig");
        Files.copy(cluster.kubeconfig(), kubeconfig, StandardCopyOption.REPLACE_EXISTING);
        Path enforcerKubeconfig = dir.resolve("enforcer-kubeconfig");
        Files.copy(cluster.installEnforcerIdentity("base"), enforcerKubeconfig, StandardCopyOption.REPLACE_EXISTING);
        EnrollPolicies.installShipped("demo"); // as the base ships it: literal clients are enrolled by the API server itself
        TestPki pki = TestPki.get();

        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(
                Paths.get(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(Replica.jvmFlags()); // the image's flags
        cmd.addAll(StartupArchive.forRunningJdk().useFlags()); // and its start-up archive
        cmd.addAll(java.util.List.of("-jar", jar.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
        pb.environment().put("KUBECONFIG", enforcerKubeconfig.toString());
        pb.environment().put("ENFORCER_TLS_CERT", pki.cert().toString());
        pb.environment().put("ENFORCER_TLS_KEY", pki.key().toString());
        pb.environment().put("ENFORCER_OWN_NAMESPACE", "zeebe-ambient-enforcer");
        Process app = pb.start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            app.destroy(); // graceful: releases the Lease, stops informers
            try {
                if (!app.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                    app.destroyForcibly(); // the API server is stopping too; don't wait for retries
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "stop-enforcer"));

        Instant until = Instant.now().plusSeconds(60);
        while (!ready() && app.isAlive() && Instant.now().isBefore(until)) {
            Thread.sleep(200);
        }
        String kubectl = cluster.kubectl() + " --kubeconfig " + kubeconfig;
        System.out.println("""

                ==> zeebe-ambient-enforcer runs against a local API server (Ctrl-C stops both),
                    as its ServiceAccount with the RBAC of webhook-config/base.
                    kubeconfig (admin, yours): %2$s

                Try:
                  %1$s -n demo run worker --image=example/worker:1 \\
                      --env=ZEEBE_ADDRESS=camunda-zeebe-gateway-grpc.camunda:26500
                  %1$s -n demo get pod worker --show-labels -o jsonpath='{.metadata.labels}{"\\n"}{.metadata.annotations}{"\\n"}'
                      # enrolled-by: policy (the API server's enroll policy, no webhook call)
                  %1$s -n demo create configmap zeebe --from-literal=address=camunda-zeebe-gateway-grpc.camunda:26500
                  # a client whose address is in a ConfigMap: the webhook decides (enrolled-by: admission)
                  %1$s -n demo run cm-worker --image=example/worker:1 --overrides='{"spec":{"containers":[{"name":"cm-worker","image":"example/worker:1","env":[{"name":"ZEEBE_ADDRESS","valueFrom":{"configMapKeyRef":{"name":"zeebe","key":"address"}}}]}]}}'
                  %1$s -n demo run chart-client --image=example/worker:1 \\
                      --env=ZEEBE_ADDRESS=camunda-zeebe-gateway.camunda:26500   # the chart's Service: told it bypasses the waypoint
                  curl -s localhost:9000/status
                  %1$s -n camunda get gateway waypoint     # accepted by istiod (Programmed needs a running waypoint pod)
                  %1$s -n camunda get deploy waypoint -o jsonpath='{.spec.template.spec.containers[0].resources}{"\n"}'
                istiod's log: %3$s
                """.formatted(kubectl, kubeconfig, istiod.logFile()));
        System.exit(app.waitFor());
    }

    private static boolean ready() {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create("http://localhost:9000/q/health/ready").toURL().openConnection();
            c.setConnectTimeout(500);
            return c.getResponseCode() == 200;
        } catch (Exception e) {
            return false;
        }
    }
}
