package dev.zeebeambient.enforcer.decision;

import dev.zeebeambient.enforcer.detection.AddressMatcher;
import dev.zeebeambient.enforcer.detection.Evidence;
import dev.zeebeambient.enforcer.detection.Target;
import dev.zeebeambient.enforcer.detection.ZeebeClientDetector;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;

import java.util.Map;
import java.util.Optional;

/**
 * Whether a pod gets {@code istio.io/dataplane-mode=ambient}: a pure function of the pod, its
 * namespace's labels and the rules, like Istio's {@code injectRequired}. The order of checks
 * is the precedence of reasons; README's decision table lists it.
 */
public final class EnrollmentDecider {

    public static final String DATAPLANE_MODE = "istio.io/dataplane-mode";
    public static final String AMBIENT = "ambient";
    static final String MIRROR = "kubernetes.io/config.mirror";
    static final String SIDECAR_INJECT = "sidecar.istio.io/inject";
    static final String SIDECAR_STATUS = "sidecar.istio.io/status";
    static final String ISTIO_REV = "istio.io/rev";
    static final String ISTIO_INJECTION = "istio-injection";
    static final String COMPONENT = "app.kubernetes.io/component";

    private final Rules rules;
    private final ZeebeClientDetector detector;

    public EnrollmentDecider(Rules rules) {
        this.rules = rules;
        this.detector = new ZeebeClientDetector(new AddressMatcher(rules.targets(), rules.clusterDomain()),
                rules.readSecrets());
    }

    public ZeebeClientDetector detector() {
        return detector;
    }

    public Decision decide(PodContext ctx) {
        Pod pod = ctx.pod();
        ObjectMeta meta = pod.getMetadata() == null ? new ObjectMeta() : pod.getMetadata();
        Map<String, String> labels = orEmpty(meta.getLabels());
        Map<String, String> annotations = orEmpty(meta.getAnnotations());
        Map<String, String> nsLabels = ctx.namespaceLabels();
        PodSpec spec = pod.getSpec();
        String ns = ctx.namespace();

        if (ns != null && rules.excludedNamespaces().contains(ns)) {
            return Decision.of(Reason.EXCLUDED_NAMESPACE, "namespace " + ns + " is excluded");
        }
        if (annotations.containsKey(MIRROR)) {
            return Decision.of(Reason.MIRROR_POD, "mirror (static) pod");
        }
        String mode = labels.get(DATAPLANE_MODE);
        if (AMBIENT.equals(mode)) {
            return Decision.of(Reason.ALREADY_AMBIENT, "already labelled " + DATAPLANE_MODE + "=ambient");
        }
        if ("none".equals(mode)) {
            return skip(ctx, Reason.DATAPLANE_NONE, "pod opts out with " + DATAPLANE_MODE + "=none");
        }
        if (mode != null) {
            return skip(ctx, Reason.DATAPLANE_OTHER, "pod has " + DATAPLANE_MODE + "=" + mode + ", left as is");
        }
        if (spec != null && Boolean.TRUE.equals(spec.getHostNetwork())) {
            return skip(ctx, Reason.HOST_NETWORK, "hostNetwork pods are never captured by ambient");
        }
        String enroll = labels.getOrDefault(rules.enrollKey(), annotations.get(rules.enrollKey()));
        if ("false".equalsIgnoreCase(trim(enroll))) {
            return skip(ctx, Reason.OPTED_OUT, "pod opts out with " + rules.enrollKey() + "=false");
        }
        if (nsLabels != null) {
            if (!rules.optInValue().equals(nsLabels.get(rules.optInKey()))) {
                return Decision.of(Reason.NAMESPACE_NOT_OPTED_IN,
                        "namespace " + ns + " lacks " + rules.optInKey() + "=" + rules.optInValue());
            }
            String nsMode = nsLabels.get(DATAPLANE_MODE);
            if (AMBIENT.equals(nsMode)) {
                return Decision.of(Reason.NAMESPACE_AMBIENT, "namespace " + ns + " is already ambient");
            }
            if ("none".equals(nsMode)) {
                return skip(ctx, Reason.NAMESPACE_DATAPLANE_NONE, "namespace " + ns + " has " + DATAPLANE_MODE + "=none");
            }
        }
        String sidecar = sidecar(labels, annotations, nsLabels);
        if (sidecar != null) {
            return skip(ctx, Reason.SIDECAR, sidecar);
        }
        Optional<Target> backend = backendOf(labels, ns, ctx.targetSelectors());
        if (backend.isPresent()) {
            if (rules.enrollGatewayPods()) {
                return Decision.of(Reason.GATEWAY_POD, "pod is a backend of " + backend.get()
                        + "; gateway pods are enrolled (enforcer.bootstrap.enroll-gateway-pods)");
            }
            return Decision.of(Reason.GATEWAY_BACKEND, "pod is a backend of " + backend.get() + " (the gateway itself)");
        }
        if ("true".equalsIgnoreCase(trim(enroll))) {
            return Decision.of(Reason.EXPLICIT_OPT_IN, "pod asks for it with " + rules.enrollKey() + "=true");
        }
        Optional<Evidence> evidence = detector.detect(spec, meta, ns, ctx.sources());
        if (evidence.isPresent()) {
            return new Decision(Reason.ZEEBE_CLIENT, evidence.get().describe(), evidence);
        }
        if (!ctx.bypassServices().isEmpty() || !ctx.bypassPodsOf().isEmpty()) {
            // a client of the chart's own Service (or another known gateway Service, or one gateway pod) is not balanced per request
            Optional<Evidence> bypass = new ZeebeClientDetector(new AddressMatcher(ctx.bypassServices(), ctx.bypassPodsOf(),
                    rules.clusterDomain()), rules.readSecrets()).detect(spec, meta, ns, ctx.sources());
            if (bypass.isPresent()) {
                Target via = bypass.get().target();
                String fix = suggestion(via);
                return new Decision(Reason.BYPASSES_WAYPOINT, "talks to " + via + " (" + bypass.get().source() + "), which is not"
                        + " behind the waypoint: one connection, one gateway pod; point it at " + fix, bypass, Optional.of(fix));
            }
        }
        return Decision.of(Reason.NOT_A_CLIENT, "no address of a target gateway in the pod spec");
    }

    /** The target to use instead of {@code bypassed}: one in the same namespace if there is one. */
    String suggestion(Target bypassed) {
        Target t = rules.targets().stream().filter(x -> x.namespace().equals(bypassed.namespace())).findFirst()
                .orElse(rules.targets().get(0));
        return t.name() + "." + t.namespace() + ":" + t.port();
    }

    /** A skip that is worth telling the user about if the pod is in fact a Zeebe client. */
    private Decision skip(PodContext ctx, Reason reason, String detail) {
        return new Decision(reason, detail, detector.detect(ctx.pod().getSpec(), ctx.pod().getMetadata(), ctx.namespace(), ctx.sources()));
    }

    /** Why Istio would give this pod a sidecar (sidecar wins over ambient), or null. */
    private static String sidecar(Map<String, String> labels, Map<String, String> annotations, Map<String, String> nsLabels) {
        if (annotations.containsKey(SIDECAR_STATUS)) {
            return "pod already has an Istio sidecar";
        }
        String inject = trim(labels.getOrDefault(SIDECAR_INJECT, annotations.get(SIDECAR_INJECT)));
        if ("true".equalsIgnoreCase(inject)) {
            return "pod requests a sidecar (" + SIDECAR_INJECT + "=true)";
        }
        if ("false".equalsIgnoreCase(inject)) {
            return null; // the pod's own choice beats the namespace's injection labels
        }
        if (labels.containsKey(ISTIO_REV)) {
            return "pod requests a sidecar (" + ISTIO_REV + "=" + labels.get(ISTIO_REV) + ")";
        }
        if (nsLabels != null) {
            if ("enabled".equals(nsLabels.get(ISTIO_INJECTION))) {
                return "namespace has istio-injection=enabled (sidecar wins over ambient)";
            }
            if (nsLabels.containsKey(ISTIO_REV) && !"disabled".equals(nsLabels.get(ISTIO_INJECTION))) {
                return "namespace has " + ISTIO_REV + "=" + nsLabels.get(ISTIO_REV) + " (sidecar injection)";
            }
        }
        return null;
    }

    private Optional<Target> backendOf(Map<String, String> labels, String ns, Map<Target, Map<String, String>> selectors) {
        for (Target t : rules.targets()) {
            if (!t.namespace().equals(ns)) {
                continue;
            }
            Map<String, String> selector = selectors.get(t);
            if (selector != null && !selector.isEmpty()
                    && selector.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())))) {
                return Optional.of(t);
            }
            String component = labels.get(COMPONENT);
            if (component != null && rules.serverComponents().contains(component)) { // Set.of rejects null
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    private static Map<String, String> orEmpty(Map<String, String> m) {
        return m == null ? Map.of() : m;
    }

    private static String trim(String s) {
        return s == null ? null : s.trim();
    }
}
