package dev.zeebeambient.enforcer.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The kustomize files in {@code webhook-config/} that the chart is the author of, rendered from it: the base is
 * {@code helm template} of the default values (without the enroll policy and without cert-manager's objects), one file
 * per chart template; each component is what one values profile adds to or changes in the base, as resources,
 * JSON patches and deletions. {@code InstallFilesTest} compares them with the checked-in files and rewrites them with
 * {@code -Dinstall.refresh=true}.
 */
public final class InstallFiles {

    public static final Path ROOT = Path.of("webhook-config");
    public static final String REFRESH = "mvn test -Dtest=InstallFilesTest -Dinstall.refresh=true";
    static final String RELEASE = "zeebe-ambient-enforcer";
    static final String NS = "zeebe-ambient-enforcer";

    /** A component: what {@code args} change against the base. {@code tls}: the profile's TLS objects are the point. */
    public record Component(String name, String why, boolean tls, List<String> args) {
    }

    /** The base: everything but the TLS mode's objects, the enroll policy (1.36+) and the hooks. */
    static final List<String> BASE = List.of("--set", "enforcer.enrollPolicy=false");

    public static final List<Component> COMPONENTS = List.of(
            new Component("enroll-policy", """
                    Kubernetes 1.36+ (admissionregistration.k8s.io/v1 MutatingAdmissionPolicy): enrolls pods whose own spec names a
                    target literally inside the API server, with no webhook call, and tells the kubectl user why and who bypasses
                    the waypoint. Enforce mode only: not with components/audit or components/bind-chart-service (the chart renders
                    those combinations: enforcer.enrollPolicy).""", false, List.of("--set", "enforcer.enrollPolicy=true")),
            new Component("audit", """
                    Report-only: the webhook answers "allowed" with a warning saying what it would have done, the backstop only
                    counts and lists in /status. Nothing is labelled.""", false, List.of("--set", "enforcer.mode=audit")),
            new Component("read-secrets", """
                    Also read the Secrets client pods reference (env valueFrom/envFrom, volumes) to find addresses: the
                    ServiceAccount may then get Secrets cluster-wide.""", false, List.of("--set", "enforcer.readSecrets=true")),
            new Component("restart-workloads", """
                    Restart the workloads of pods enrolled while running (their open connections bypass the waypoint until then):
                    get/patch of Deployments and StatefulSets, limited by a ValidatingAdmissionPolicy to the restart annotation.""",
                    false, List.of("--set", "enforcer.backstop.restartWorkloads=true")),
            new Component("bind-chart-service", """
                    Also put the Camunda chart's own gateway Service (the target without -grpc) behind the waypoint, and enroll
                    its clients.""", false, List.of("--set", "enforcer.bootstrap.bindChartService=true")),
            new Component("cert-manager", """
                    cert-manager issues and renews the serving certificate; cainjector puts the CA into the webhook. Needs
                    cert-manager (with its cainjector) installed first.""", true, List.of("--set", "tls.mode=certManager")),
            new Component("self-managed-tls", """
                    The enforcer keeps its own CA and serving certificate in the Secret zeebe-ambient-enforcer-tls, renews them
                    and injects the CA into the webhook: nothing else needed.""", true, List.of("--set", "tls.mode=selfManaged")),
            new Component("alerts", """
                    The alerts as a PrometheusRule (Prometheus Operator).""", false,
                    List.of("--set", "metrics.prometheusRule.enabled=true")),
            new Component("dashboard", """
                    The Grafana dashboard as a ConfigMap for Grafana's sidecar (label grafana_dashboard=1).""", false,
                    List.of("--set", "metrics.dashboard.enabled=true")));

    private static final YAMLMapper YAML = YAMLMapper.builder().disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES).enable(YAMLGenerator.Feature.LITERAL_BLOCK_STYLE).build();
    private static final Pattern HELM_LABEL = Pattern.compile(
            "(?m)^\\s+(app\\.kubernetes\\.io/(instance|managed-by|version)|helm\\.sh/chart|checksum/config):.*\\n");

    private InstallFiles() {
    }

    /** Path under webhook-config/ -> content, for the base and every component. */
    public static Map<String, String> render() throws IOException, InterruptedException {
        Map<String, String> files = new TreeMap<>();
        Map<String, List<String>> base = documents(BASE, false);
        Map<String, ObjectNode> baseObjects = new LinkedHashMap<>();
        for (Map.Entry<String, List<String>> f : base.entrySet()) {
            files.put("base/" + f.getKey(), header("the chart's " + f.getKey() + ", default values", BASE) + String.join("---\n", f.getValue()));
            for (String doc : f.getValue()) {
                for (ObjectNode o : Helm.documents(doc)) {
                    baseObjects.put(Helm.key(o), o);
                }
            }
        }
        files.put("base/kustomization.yaml", baseKustomization(base.keySet()));
        for (Component c : COMPONENTS) {
            component(c, baseObjects, files);
        }
        return files;
    }

    private static void component(Component c, Map<String, ObjectNode> base, Map<String, String> files)
            throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(BASE);
        args.addAll(c.args());
        List<String> added = new ArrayList<>();
        Map<String, ObjectNode> profile = new LinkedHashMap<>();
        for (List<String> docs : documents(args, c.tls()).values()) {
            for (String doc : docs) {
                for (ObjectNode o : Helm.documents(doc)) {
                    profile.put(Helm.key(o), o);
                    if (!base.containsKey(Helm.key(o))) {
                        added.add(doc);
                    }
                }
            }
        }
        ArrayNode patches = JsonNodeFactory.instance.arrayNode();
        for (Map.Entry<String, ObjectNode> b : base.entrySet()) {
            ObjectNode p = profile.get(b.getKey());
            if (p == null) {
                ObjectNode delete = patches.addObject();
                ObjectNode obj = JsonNodeFactory.instance.objectNode();
                obj.put("$patch", "delete").put("apiVersion", b.getValue().path("apiVersion").asText())
                        .put("kind", b.getValue().path("kind").asText());
                obj.putObject("metadata").put("name", b.getValue().path("metadata").path("name").asText());
                delete.put("patch", YAML.writeValueAsString(obj).stripTrailing());
                continue;
            }
            ArrayNode ops = JsonNodeFactory.instance.arrayNode();
            diff(b.getValue(), p, "", ops);
            if (!ops.isEmpty()) {
                ObjectNode patch = patches.addObject();
                ObjectNode target = patch.putObject("target");
                String[] gv = b.getValue().path("apiVersion").asText().split("/");
                if (gv.length == 2) {
                    target.put("group", gv[0]);
                }
                target.put("kind", b.getValue().path("kind").asText()).put("name", b.getValue().path("metadata").path("name").asText());
                if (b.getValue().path("metadata").has("namespace")) {
                    target.put("namespace", b.getValue().path("metadata").path("namespace").asText());
                }
                patch.put("patch", YAML.writeValueAsString(ops).stripTrailing());
            }
        }
        StringBuilder k = new StringBuilder(header("what " + String.join(" ", c.args()) + " changes in the base", args));
        for (String line : c.why().strip().split("\n")) {
            k.append("# ").append(line).append('\n');
        }
        k.append("apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n");
        if (!added.isEmpty()) {
            k.append("\nresources:\n  - resources.yaml\n");
            files.put("components/" + c.name() + "/resources.yaml", header("objects " + String.join(" ", c.args()) + " adds", args)
                    + String.join("---\n", added));
        }
        if (!patches.isEmpty()) {
            ObjectNode wrapper = JsonNodeFactory.instance.objectNode();
            wrapper.set("patches", patches);
            k.append('\n').append(YAML.writeValueAsString(wrapper));
        }
        files.put("components/" + c.name() + "/kustomization.yaml", k.toString());
    }

    /** Hand-written in the base: the chart does not render the Namespace (helm install --create-namespace). */
    public static final String NAMESPACE_FILE = "base/namespace.yaml";

    private static String baseKustomization(java.util.Collection<String> generated) {
        StringBuilder k = new StringBuilder(header("the base's file list", BASE)).append("""
                # Everything the enforcer needs but its TLS (add components/cert-manager or components/self-managed-tls, or use
                # overlays/static-certs) and, on Kubernetes 1.36+, components/enroll-policy. For the namespace
                # zeebe-ambient-enforcer: the admission objects name its ServiceAccount (render the chart for another one).
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization

                resources:
                  - namespace.yaml
                """);
        generated.forEach(f -> k.append("  - ").append(f).append('\n'));
        return k.toString();
    }

    private static String header(String what, List<String> args) {
        return "# Generated from the Helm chart (helm template " + String.join(" ", args).trim() + "): " + what + ".\n"
                + "# Do not edit: change the chart (or its values' defaults) and run " + REFRESH + "\n";
    }

    /**
     * The chart's documents by template file name, as text (comments kept), without Helm's own labels, the config checksum
     * and hooks; with {@code tls} false also without the TLS mode's objects (cert-manager's Certificates, its annotation).
     */
    static Map<String, List<String>> documents(List<String> args, boolean tls) throws IOException, InterruptedException {
        String out = Helm.template(RELEASE, NS, args);
        Map<String, List<String>> bySource = new TreeMap<>();
        for (String doc : out.split("(?m)^---\\s*$")) {
            var m = Pattern.compile("(?m)^# Source: [^/]+/templates/(.+)$").matcher(doc);
            if (!m.find() || doc.contains("helm.sh/hook")) {
                continue;
            }
            String source = m.group(1);
            if (source.equals("cleanup-hook.yaml")) {
                continue; // Helm's uninstall hook; kustomize installs use cleanup/job.yaml
            }
            if (!tls && source.equals("tls.yaml")) {
                continue;
            }
            String text = doc.substring(m.end()).replaceFirst("^\\n", "");
            text = HELM_LABEL.matcher(text).replaceAll("");
            if (!tls) {
                text = text.replaceAll("(?m)^    # cainjector[^\\n]*\\n    cert-manager\\.io/inject-ca-from:[^\\n]*\\n", "");
            }
            if (text.isBlank() || Helm.documents(text).isEmpty()) {
                continue;
            }
            bySource.computeIfAbsent(source.replace("/", "-"), s -> new ArrayList<>()).add(text.endsWith("\n") ? text : text + "\n");
        }
        return bySource;
    }

    /** RFC 6902 operations that turn {@code a} into {@code b}; a list that only grew gets {@code /-} adds (components compose). */
    static void diff(JsonNode a, JsonNode b, String path, ArrayNode ops) {
        if (a.equals(b)) {
            return;
        }
        if (a instanceof ObjectNode ao && b instanceof ObjectNode bo) {
            for (Iterator<String> it = bo.fieldNames(); it.hasNext();) {
                String f = it.next();
                String p = path + "/" + f.replace("~", "~0").replace("/", "~1");
                if (!ao.has(f)) {
                    ops.addObject().put("op", "add").put("path", p).set("value", bo.get(f));
                } else {
                    diff(ao.get(f), bo.get(f), p, ops);
                }
            }
            for (Iterator<String> it = ao.fieldNames(); it.hasNext();) {
                String f = it.next();
                if (!bo.has(f)) {
                    ops.addObject().put("op", "remove").put("path", path + "/" + f.replace("~", "~0").replace("/", "~1"));
                }
            }
            return;
        }
        if (a instanceof ArrayNode aa && b instanceof ArrayNode ba) {
            boolean grew = ba.size() > aa.size();
            for (int i = 0; grew && i < aa.size(); i++) {
                grew = aa.get(i).equals(ba.get(i));
            }
            if (grew) {
                for (int i = aa.size(); i < ba.size(); i++) {
                    ops.addObject().put("op", "add").put("path", path + "/-").set("value", ba.get(i));
                }
                return;
            }
            if (aa.size() == ba.size()) {
                for (int i = 0; i < aa.size(); i++) {
                    diff(aa.get(i), ba.get(i), path + "/" + i, ops);
                }
                return;
            }
        }
        ops.addObject().put("op", "replace").put("path", path).set("value", b);
    }
}
