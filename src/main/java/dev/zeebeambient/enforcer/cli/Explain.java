package dev.zeebeambient.enforcer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.decision.Decision;
import dev.zeebeambient.enforcer.decision.EnrollmentDecider;
import dev.zeebeambient.enforcer.decision.Outcome;
import dev.zeebeambient.enforcer.decision.Rules;
import dev.zeebeambient.enforcer.enrollment.Enrollment;
import dev.zeebeambient.enforcer.install.InstallNames;
import dev.zeebeambient.enforcer.kube.DecisionService;
import dev.zeebeambient.enforcer.kube.GatewayServices;
import dev.zeebeambient.enforcer.kube.NamespaceCache;
import dev.zeebeambient.enforcer.kube.SourceResolver;
import dev.zeebeambient.enforcer.kube.TargetServices;
import dev.zeebeambient.enforcer.kube.Watches;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code explain}: why is this pod (not) enrolled? Decides a pod, a workload's pod template or a manifest with the
 * webhook's own {@link DecisionService} (no second implementation), fed by the live cluster (namespace labels, target
 * Services, referenced ConfigMaps) and the configuration the enforcer reads, and says which path decides it.
 */
public final class Explain {

    public static final String USAGE = """
            usage: explain [-n NAMESPACE] (pod/NAME | deployment/NAME | statefulset/NAME | daemonset/NAME | replicaset/NAME
                           | job/NAME | cronjob/NAME | -f FILE | -f -) [-o text|json] [--dry-run]

            Why a pod is (not) enrolled in ambient: the decision (enroll, skip, warn), its reason, the address found and
            the path that decides it (policy: the API server's enroll policy at creation; webhook: the enforcer at
            creation; backstop: a running pod the webhook missed; none), with the cluster's namespace labels, target
            Services and ConfigMaps and the enforcer's configuration (its environment, as in its Deployment).

              -n NAMESPACE   the namespace of NAME, or of a manifest without one (default: default)
              -f FILE        a manifest (Pod or workload; several documents allowed); - reads stdin
              -o json        machine-readable output, one object per pod template
              --dry-run      ask the API server: create the pod as a server-side dry run and read who enrolled it
                             (needs permission to create pods; without it the path is estimated)

            From the running Deployment (no local JDK):
              kubectl -n zeebe-ambient-enforcer exec deploy/zeebe-ambient-enforcer -- \\
                java -jar /deployments/quarkus-run.jar explain -n team-a pod/worker-7d9f
              kubectl -n team-a get deployment worker -o yaml | kubectl -n zeebe-ambient-enforcer exec -i \\
                deploy/zeebe-ambient-enforcer -- java -jar /deployments/quarkus-run.jar explain -f -
            """;

    /** One pod template to decide, and where it came from. */
    record Subject(String what, String namespace, Pod pod, boolean live) {
    }

    private Explain() {
    }

    /** Exit code: 0 explained, 1 the cluster could not be read, 2 usage or bad input. */
    public static int run(List<String> args, EnforcerConfig config, KubernetesClient client, InputStream stdin, PrintStream out, PrintStream err) {
        String namespace = null;
        String file = null;
        String ref = null;
        boolean json = false;
        boolean dryRun = false;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("-h") || a.equals("--help")) {
                out.print(USAGE);
                return 0;
            }
            if (a.equals("--dry-run")) {
                dryRun = true;
                continue;
            }
            if (a.equals("-n") || a.equals("-f") || a.equals("-o")) {
                if (i + 1 >= args.size()) {
                    err.println("explain: " + a + " needs a value\n" + USAGE);
                    return 2;
                }
                String v = args.get(++i);
                switch (a) {
                    case "-n" -> namespace = v;
                    case "-f" -> file = v;
                    default -> {
                        if (!v.equals("json") && !v.equals("text")) {
                            err.println("explain: -o takes text or json, not " + v);
                            return 2;
                        }
                        json = v.equals("json");
                    }
                }
                continue;
            }
            if (a.startsWith("-") || ref != null) {
                err.println("explain: unexpected argument " + a + "\n" + USAGE);
                return 2;
            }
            ref = a;
        }
        if ((file == null) == (ref == null)) {
            err.println("explain: give exactly one of KIND/NAME or -f FILE\n" + USAGE);
            return 2;
        }
        String ns = namespace == null ? "default" : namespace;
        List<Subject> subjects;
        try {
            subjects = file != null ? fromManifest(file, ns, client, stdin) : fromCluster(ref, ns, client);
        } catch (BadInput e) {
            err.println("explain: " + e.getMessage());
            return 2;
        } catch (KubernetesClientException e) {
            err.println("explain: cannot read " + ref + " in " + ns + " (HTTP " + e.getCode() + ": " + firstLine(e.getMessage()) + ")"
                    + (e.getCode() == 403 ? "; pipe the manifest instead: kubectl get " + ref + " -o yaml | ... explain -f -" : ""));
            return 1;
        }
        Parts parts = Parts.start(client, config);
        try {
            ObjectMapper m = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            List<ObjectNode> results = new ArrayList<>();
            for (Subject s : subjects) {
                results.add(explain(s, parts, config, client, dryRun, m));
            }
            if (json) {
                out.println(m.writeValueAsString(results.size() == 1 ? results.get(0) : m.valueToTree(results)));
            } else {
                results.forEach(r -> out.print(text(r)));
            }
            return 0;
        } catch (IOException e) {
            err.println("explain: " + e.getMessage());
            return 1;
        } finally {
            parts.stop();
        }
    }

    static final class BadInput extends Exception {
        BadInput(String message) {
            super(message);
        }
    }

    static List<Subject> fromCluster(String ref, String ns, KubernetesClient client) throws BadInput {
        int slash = ref.indexOf('/');
        if (slash <= 0 || slash == ref.length() - 1) {
            throw new BadInput("expected KIND/NAME (e.g. pod/worker-7d9f, deployment/worker), not " + ref);
        }
        String kind = ref.substring(0, slash).toLowerCase(Locale.ROOT);
        String name = ref.substring(slash + 1);
        HasMetadata o = switch (kind) {
            // list by name, not get: the enforcer's ServiceAccount may list and watch pods, not get them
            case "pod", "pods", "po" -> client.pods().inNamespace(ns).withField("metadata.name", name).list().getItems().stream().findFirst()
                    .orElse(null);
            case "deployment", "deployments", "deploy" -> client.apps().deployments().inNamespace(ns).withName(name).get();
            case "statefulset", "statefulsets", "sts" -> client.apps().statefulSets().inNamespace(ns).withName(name).get();
            case "daemonset", "daemonsets", "ds" -> client.apps().daemonSets().inNamespace(ns).withName(name).get();
            case "replicaset", "replicasets", "rs" -> client.apps().replicaSets().inNamespace(ns).withName(name).get();
            case "job", "jobs" -> client.batch().v1().jobs().inNamespace(ns).withName(name).get();
            case "cronjob", "cronjobs", "cj" -> client.batch().v1().cronjobs().inNamespace(ns).withName(name).get();
            default -> throw new BadInput("cannot explain a " + kind + ": give a pod, deployment, statefulset, daemonset, replicaset, job or "
                    + "cronjob");
        };
        if (o == null) {
            throw new BadInput(ref + " not found in namespace " + ns);
        }
        return List.of(subject(o, ns));
    }

    static List<Subject> fromManifest(String file, String ns, KubernetesClient client, InputStream stdin) throws BadInput {
        byte[] bytes;
        try {
            bytes = file.equals("-") ? stdin.readAllBytes() : Files.readAllBytes(Path.of(file));
        } catch (IOException e) {
            throw new BadInput("cannot read " + file + ": " + e.getMessage());
        }
        List<HasMetadata> objects;
        try {
            objects = client.load(new ByteArrayInputStream(bytes)).items();
        } catch (RuntimeException e) {
            throw new BadInput((file.equals("-") ? "stdin" : file) + " is not a Kubernetes manifest: " + firstLine(e.getMessage()));
        }
        List<Subject> out = new ArrayList<>();
        for (HasMetadata o : objects) {
            if (o == null) {
                continue;
            }
            out.add(subject(o, o.getMetadata() != null && o.getMetadata().getNamespace() != null ? o.getMetadata().getNamespace() : ns));
        }
        if (out.isEmpty()) {
            throw new BadInput((file.equals("-") ? "stdin" : file) + " holds no object");
        }
        return out;
    }

    /** The pod a workload creates (its template, in its namespace), or the pod itself. */
    static Subject subject(HasMetadata o, String ns) throws BadInput {
        String what = o.getKind() + " " + ns + "/" + (o.getMetadata() == null ? "?" : o.getMetadata().getName());
        PodTemplateSpec t;
        if (o instanceof Pod p) {
            boolean live = p.getMetadata() != null && p.getMetadata().getUid() != null;
            return new Subject(what, ns, p, live);
        } else if (o instanceof Deployment d && d.getSpec() != null) {
            t = d.getSpec().getTemplate();
        } else if (o instanceof StatefulSet s && s.getSpec() != null) {
            t = s.getSpec().getTemplate();
        } else if (o instanceof DaemonSet d && d.getSpec() != null) {
            t = d.getSpec().getTemplate();
        } else if (o instanceof ReplicaSet r && r.getSpec() != null) {
            t = r.getSpec().getTemplate();
        } else if (o instanceof Job j && j.getSpec() != null) {
            t = j.getSpec().getTemplate();
        } else if (o instanceof CronJob c && c.getSpec() != null && c.getSpec().getJobTemplate() != null
                && c.getSpec().getJobTemplate().getSpec() != null) {
            t = c.getSpec().getJobTemplate().getSpec().getTemplate();
        } else {
            throw new BadInput("cannot explain " + what + ": give a Pod or a workload with a pod template");
        }
        if (t == null || t.getSpec() == null) {
            throw new BadInput(what + " has no pod template");
        }
        Pod pod = new Pod();
        pod.setApiVersion("v1");
        pod.setKind("Pod");
        ObjectMeta meta = t.getMetadata() == null ? new ObjectMeta() : t.getMetadata();
        meta.setNamespace(ns);
        if (meta.getName() == null) {
            meta.setName((o.getMetadata() == null ? "pod" : o.getMetadata().getName()) + "-explain");
        }
        pod.setMetadata(meta);
        pod.setSpec(t.getSpec());
        return new Subject(what + " (its pod template)", ns, pod, false);
    }

    /** The caches the webhook decides with, started for one command and stopped again. */
    record Parts(NamespaceCache namespaces, TargetServices targets, GatewayServices gateways, SourceResolver sources, DecisionService decisions) {

        static Parts start(KubernetesClient client, EnforcerConfig config) {
            Watches watches = new Watches();
            NamespaceCache namespaces = new NamespaceCache(client, watches);
            TargetServices targets = new TargetServices(client, config, watches);
            GatewayServices gateways = new GatewayServices(client, watches, targets, config);
            SourceResolver sources = new SourceResolver(client, new io.micrometer.core.instrument.simple.SimpleMeterRegistry(), config);
            namespaces.start();
            targets.start();
            gateways.start();
            Instant deadline = Instant.now().plus(Duration.ofSeconds(20));
            while (!namespaces.synced() && Instant.now().isBefore(deadline)) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            try {
                Thread.sleep(300); // the target and gateway Services: a handful of objects, listed by now
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new Parts(namespaces, targets, gateways, sources, new DecisionService(config, namespaces, targets, sources, gateways));
        }

        void stop() {
            gateways.stop();
            targets.stop();
            namespaces.stop();
            sources.stop();
        }
    }

    static ObjectNode explain(Subject s, Parts parts, EnforcerConfig config, KubernetesClient client, boolean dryRun, ObjectMapper m) {
        Outcome o = parts.decisions().decide(s.pod(), s.namespace());
        Decision d = o.decision();
        ObjectNode r = m.createObjectNode();
        r.put("object", s.what());
        r.put("pod", s.namespace() + "/" + s.pod().getMetadata().getName());
        r.put("decision", d.enroll() ? "enroll" : d.reason().notable() || d.fix().isPresent() ? "warn" : "skip");
        r.put("reason", d.reason().tag());
        r.put("detail", d.detail());
        d.evidence().ifPresent(e -> r.putObject("address").put("container", e.container()).put("found", e.source())
                .put("target", e.target().toString()));
        d.fix().ifPresent(f -> r.put("fix", f));
        Map<String, String> ns = parts.namespaces().labels(s.namespace());
        Rules rules = Rules.from(config);
        r.put("namespace", s.namespace() + (ns == null ? ": not found" : rules.optInValue().equals(ns.get(rules.optInKey()))
                ? ": opted in (" + rules.optInKey() + "=" + rules.optInValue() + ")" : ": not opted in (" + rules.optInKey() + "=" + rules.optInValue()
                        + " is missing)"));
        if (!o.unavailable().isEmpty() || !o.missing().isEmpty()) {
            r.put("sources", "unreadable: " + o.unavailable() + ", missing: " + o.missing());
        }
        path(r, s, d, config, client, dryRun);
        return r;
    }

    /** Which path decides the pod, asked of the API server with --dry-run, else estimated. */
    static void path(ObjectNode r, Subject s, Decision d, EnforcerConfig config, KubernetesClient client, boolean dryRun) {
        Map<String, String> labels = s.pod().getMetadata().getLabels() == null ? Map.of() : s.pod().getMetadata().getLabels();
        Map<String, String> annotations = s.pod().getMetadata().getAnnotations() == null ? Map.of() : s.pod().getMetadata().getAnnotations();
        String byKey = new Enrollment(config).annotations(d, dev.zeebeambient.enforcer.enrollment.Origin.ADMISSION).keySet().stream()
                .filter(k -> !k.equals(config.reasonAnnotation())).findFirst().orElse("");
        if (s.live()) {
            if (EnrollmentDecider.AMBIENT.equals(labels.get(EnrollmentDecider.DATAPLANE_MODE))) {
                r.put("path", "already enrolled" + (annotations.containsKey(byKey) ? " (enrolled-by: " + annotations.get(byKey) + ")" : ""));
            } else {
                r.put("path", d.enroll() ? "backstop" : "none");
                if (d.enroll()) {
                    r.put("note", "a running pod: the backstop labels it; its open connections bypass the waypoint until it restarts");
                }
            }
            return;
        }
        if (!d.enroll()) {
            r.put("path", "none");
            return;
        }
        if (dryRun) {
            try {
                Pod created = client.pods().inNamespace(s.namespace()).resource(s.pod()).dryRun().create();
                Map<String, String> a = created.getMetadata().getAnnotations() == null ? Map.of() : created.getMetadata().getAnnotations();
                String by = a.get(byKey);
                r.put("path", by == null ? "none (the API server admitted it unlabelled: is the webhook reachable?)"
                        : by.equals(dev.zeebeambient.enforcer.enrollment.Origin.POLICY.tag()) ? "policy" : "webhook");
                r.put("pathFrom", "the API server (server-side dry run)");
                return;
            } catch (KubernetesClientException e) {
                r.put("pathFrom", "estimated (dry run refused: HTTP " + e.getCode() + ")");
            }
        } else {
            r.put("pathFrom", "estimated (--dry-run asks the API server)");
        }
        boolean policy;
        try {
            policy = client.genericKubernetesResources("admissionregistration.k8s.io/v1", "MutatingAdmissionPolicy")
                    .withName(InstallNames.ENROLL_POLICY).get() != null;
        } catch (KubernetesClientException e) {
            policy = false; // not served (before 1.36), or not readable
        }
        // the policy sees only the pod's own literal values (no ConfigMap, no mounted file, no $(VAR))
        String found = d.evidence().map(e -> e.source()).orElse("");
        boolean literal = !found.contains(" from ") && !found.startsWith("mounted") && !found.contains("$(");
        r.put("path", policy && literal && d.reason() == dev.zeebeambient.enforcer.decision.Reason.ZEEBE_CLIENT ? "policy" : "webhook");
    }

    static String text(ObjectNode r) {
        StringBuilder b = new StringBuilder();
        b.append(r.path("object").asText()).append('\n');
        line(b, "decision", r.path("decision").asText());
        line(b, "reason", r.path("reason").asText() + ": " + r.path("detail").asText());
        if (r.has("address")) {
            line(b, "address", "container " + r.path("address").path("container").asText() + ": " + r.path("address").path("found").asText()
                    + " -> " + r.path("address").path("target").asText());
        }
        if (r.has("fix")) {
            line(b, "fix", r.path("fix").asText());
        }
        line(b, "namespace", r.path("namespace").asText());
        line(b, "path", r.path("path").asText() + (r.has("pathFrom") ? " [" + r.path("pathFrom").asText() + "]" : ""));
        if (r.has("note")) {
            line(b, "note", r.path("note").asText());
        }
        if (r.has("sources")) {
            line(b, "sources", r.path("sources").asText());
        }
        return b.append('\n').toString();
    }

    private static void line(StringBuilder b, String key, String value) {
        b.append(String.format(Locale.ROOT, "  %-10s %s%n", key + ":", value));
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse("");
    }
}
