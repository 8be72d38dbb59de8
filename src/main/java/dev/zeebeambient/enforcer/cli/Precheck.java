package dev.zeebeambient.enforcer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.decision.Rules;
import dev.zeebeambient.enforcer.detection.Target;
import dev.zeebeambient.enforcer.install.InstallNames;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * {@code precheck}: is the cluster ready for the enforcer? Each requirement as PASS, WARN or FAIL with the fix: the
 * Kubernetes version and which admission path it allows, Gateway API, the waypoint GatewayClass, ztunnel, cert-manager,
 * each target's gateway Service and its endpoints, opted-in namespaces, and mutating webhooks that run after the enroll
 * policy. Read-only; what the identity running it may not read is a WARN saying so.
 */
public final class Precheck {

    public static final String USAGE = """
            usage: precheck [-o text|json]

            What the cluster needs before (and after) installing zeebe-ambient-enforcer, each as PASS, WARN or FAIL with
            the fix, for the configuration the enforcer reads (its environment, as in its Deployment). Exit code 1 when a
            check FAILs. Read-only.

            From the running Deployment (no local JDK):
              kubectl -n zeebe-ambient-enforcer exec deploy/zeebe-ambient-enforcer -- java -jar /deployments/quarkus-run.jar precheck
            Before installing: java -jar quarkus-run.jar precheck (with your kubeconfig; ENFORCER_* settings as you will install them)
            """;

    /** One requirement. */
    public record Check(String status, String name, String detail, String fix) {
    }

    private Precheck() {
    }

    public static int run(List<String> args, EnforcerConfig config, KubernetesClient client, PrintStream out, PrintStream err) {
        boolean json = false;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("-h") || a.equals("--help")) {
                out.print(USAGE);
                return 0;
            } else if (a.equals("-o") && i + 1 < args.size() && (args.get(i + 1).equals("json") || args.get(i + 1).equals("text"))) {
                json = args.get(++i).equals("json");
            } else {
                err.println("precheck: unexpected argument " + a + "\n" + USAGE);
                return 2;
            }
        }
        List<Check> checks = checks(config, client);
        if (json) {
            ObjectMapper m = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            ArrayNode a = m.createArrayNode();
            checks.forEach(c -> a.add(m.valueToTree(c)));
            out.println(a.toPrettyString());
        } else {
            for (Check c : checks) {
                out.printf(Locale.ROOT, "%-4s %s: %s%n", c.status(), c.name(), c.detail());
                if (c.fix() != null) {
                    out.printf(Locale.ROOT, "     fix: %s%n", c.fix());
                }
            }
        }
        return checks.stream().anyMatch(c -> c.status().equals("FAIL")) ? 1 : 0;
    }

    public static List<Check> checks(EnforcerConfig config, KubernetesClient client) {
        List<Check> out = new ArrayList<>();
        // the version and the admission paths it allows
        boolean policyServed = false;
        try {
            var v = client.getKubernetesVersion();
            int minor = Integer.parseInt(v.getMinor().replaceAll("[^0-9].*$", ""));
            policyServed = served(client);
            if (minor < 30) {
                out.add(new Check("FAIL", "Kubernetes version", v.getGitVersion() + ": ValidatingAdmissionPolicy v1 and webhook matchConditions "
                        + "need 1.30", "upgrade the cluster to 1.30 or later"));
            } else {
                out.add(new Check("PASS", "Kubernetes version", v.getGitVersion() + (policyServed
                        ? ": serves MutatingAdmissionPolicy v1, the enroll policy enrolls literal clients inside the API server"
                        : ": no MutatingAdmissionPolicy v1 (1.36+), the webhook decides every pod (enrollPolicy auto leaves the policy out)"), null));
            }
        } catch (RuntimeException e) {
            out.add(new Check("FAIL", "Kubernetes API", "unreachable: " + first(e.getMessage()), "check the kubeconfig or the ServiceAccount token"));
            return out;
        }
        out.add(read("Gateway API", () -> client.apiextensions().v1().customResourceDefinitions().withName("gateways.gateway.networking.k8s.io")
                .get() != null ? pass("Gateway API", "CRD gateways.gateway.networking.k8s.io is installed")
                        : fail("Gateway API", "CRD gateways.gateway.networking.k8s.io is missing: no waypoint can be created",
                                "install the Gateway API CRDs (standard channel) before Istio's waypoints")));
        boolean gatewayApi = out.get(out.size() - 1).status().equals("PASS");
        // without the Gateway API the kind does not exist: say so, not fabric8's "could not find the metadata"
        out.add(!gatewayApi ? fail("waypoint GatewayClass", "istio-waypoint cannot exist without the Gateway API CRDs",
                "install the Gateway API CRDs, then Istio with the ambient profile (istiod creates istio-waypoint)")
                : read("waypoint GatewayClass", () -> client.genericKubernetesResources("gateway.networking.k8s.io/v1", "GatewayClass")
                .withName("istio-waypoint").get() != null ? pass("waypoint GatewayClass", "istio-waypoint exists")
                        : fail("waypoint GatewayClass", "istio-waypoint is missing: istiod creates it in ambient mode",
                                "install Istio with the ambient profile (istiod, istio-cni, ztunnel)")));
        String istio = config.bootstrap().istioNamespace();
        out.add(read("ztunnel", () -> client.pods().inNamespace(istio).withLabel("app", "ztunnel").list().getItems().isEmpty()
                ? fail("ztunnel", "no ztunnel pod in " + istio + ": pods labelled istio.io/dataplane-mode=ambient are not captured",
                        "install Istio's ambient data plane (ztunnel DaemonSet)")
                : pass("ztunnel", "ztunnel runs in " + istio)));
        out.add(read("cert-manager", () -> client.apiextensions().v1().customResourceDefinitions().withName("certificates.cert-manager.io").get() != null
                ? pass("cert-manager", "installed (tls.mode certManager works)")
                : warn("cert-manager", "not installed: tls.mode certManager (the chart's default) cannot issue the webhook's certificate",
                        "install cert-manager, or use tls.mode selfManaged (nothing else needed) or secret")));
        for (Target t : config.targets()) {
            String chart = config.chartServiceName(t);
            out.add(read("target " + t, () -> targetCheck(client, t, chart)));
        }
        Rules rules = Rules.from(config);
        out.add(read("opted-in namespaces", () -> {
            var names = client.namespaces().withLabel(rules.optInKey(), rules.optInValue()).list().getItems().stream()
                    .map(n -> n.getMetadata().getName()).filter(n -> !rules.excludedNamespaces().contains(n)).sorted().toList();
            return names.isEmpty() ? warn("opted-in namespaces", "none: nothing will be enrolled",
                    "kubectl label namespace <namespace> " + rules.optInKey() + "=" + rules.optInValue())
                    : pass("opted-in namespaces", String.join(", ", names));
        }));
        boolean served = policyServed;
        out.add(read("other mutating webhooks", () -> {
            List<String> others = new ArrayList<>();
            for (MutatingWebhookConfiguration w : client.admissionRegistration().v1().mutatingWebhookConfigurations().list().getItems()) {
                if (!w.getMetadata().getName().equals(InstallNames.NAME) && w.getWebhooks() != null && w.getWebhooks().stream()
                        .anyMatch(h -> h.getRules() != null && h.getRules().stream().anyMatch(r -> r.getResources() != null
                                && (r.getResources().contains("pods") || r.getResources().contains("*"))))) {
                    others.add(w.getMetadata().getName());
                }
            }
            return others.isEmpty() ? pass("other mutating webhooks", "none mutates pods")
                    : warn("other mutating webhooks", String.join(", ", others) + " mutate pods" + (served ? " after the enroll policy"
                            : "") + ": a later opt-out or sidecar injection is not seen by the enroll policy",
                            "check those pods with: explain -n <namespace> pod/<name>");
        }));
        return out;
    }

    private static Check targetCheck(KubernetesClient client, Target t, String chart) {
        Service s = client.services().inNamespace(t.namespace()).withName(chart).get();
        String name = "target " + t;
        if (s == null) {
            return fail(name, "the gateway Service " + t.namespace() + "/" + chart + " (whose pods the gRPC Service selects) does not exist",
                    "install the Camunda chart there, or set enforcer.targets / enforcer.bootstrap.chartGatewayService");
        }
        int ready = 0;
        for (EndpointSlice e : client.discovery().v1().endpointSlices().inNamespace(t.namespace())
                .withLabel("kubernetes.io/service-name", chart).list().getItems()) {
            if (e.getEndpoints() != null) {
                ready += (int) e.getEndpoints().stream().filter(p -> p.getConditions() == null || !Boolean.FALSE.equals(p.getConditions().getReady()))
                        .count();
            }
        }
        return ready == 0 ? warn(name, "the gateway Service " + t.namespace() + "/" + chart + " has no ready endpoint",
                "check the Zeebe gateway pods (kubectl -n " + t.namespace() + " get pods)")
                : pass(name, "gateway Service " + t.namespace() + "/" + chart + " with " + ready + " ready endpoint(s)");
    }

    /** A check, or a WARN saying what the identity running it may not read. */
    private static Check read(String name, Supplier<Check> check) {
        try {
            return check.get();
        } catch (KubernetesClientException e) {
            String why = e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage() : first(e.getMessage());
            return new Check("WARN", name, "cannot check (HTTP " + e.getCode() + ": " + why + ")",
                    e.getCode() == 403 ? "run precheck with a kubeconfig that may read it" : null);
        }
    }

    private static boolean served(KubernetesClient client) {
        try {
            client.genericKubernetesResources("admissionregistration.k8s.io/v1", "MutatingAdmissionPolicy").withName(InstallNames.ENROLL_POLICY).get();
            return true;
        } catch (KubernetesClientException e) {
            // 404 on the resource type: not served. A 403 means served (the type exists) but not readable.
            return e.getCode() == 403;
        }
    }

    private static Check pass(String name, String detail) {
        return new Check("PASS", name, detail, null);
    }

    private static Check warn(String name, String detail, String fix) {
        return new Check("WARN", name, detail, fix);
    }

    private static Check fail(String name, String detail, String fix) {
        return new Check("FAIL", name, detail, fix);
    }

    private static String first(String s) {
        return s == null ? "" : s.lines().findFirst().orElse("");
    }
}
