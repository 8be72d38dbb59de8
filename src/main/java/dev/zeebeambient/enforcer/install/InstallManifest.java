package dev.zeebeambient.enforcer.install;

import dev.zeebeambient.enforcer.config.EnforcerConfig;
import dev.zeebeambient.enforcer.decision.Rules;
import dev.zeebeambient.enforcer.detection.Target;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The files of {@code webhook-config/base} that repeat the configuration, rendered from it: the webhook
 * (namespaceSelector, matchConditions, Service), the pod-patch policy (ServiceAccount, opt-in label, excluded
 * namespaces, annotation prefix), the bootstrapper's Roles (targets' namespaces and names, waypoint, waypoint
 * defaults) and the enroll policy. The checked-in base is this output for the defaults ({@code InstallManifestTest}
 * fails when a file drifts); {@code java -jar quarkus-run.jar render-install <dir>} writes them for another
 * configuration, into a copy of the base.
 */
public final class InstallManifest {

    /** The ServiceAccount (and Deployment, Service) name: the manifests', not a setting. */
    public static final String NAME = "zeebe-ambient-enforcer";

    private InstallManifest() {
    }

    /** File name in webhook-config/base -> content. */
    public static Map<String, String> render(EnforcerConfig config) {
        Map<String, String> files = new LinkedHashMap<>();
        files.put("mutatingwebhook.yaml", webhook(config));
        files.put("pod-patch-policy.yaml", podPatchPolicy(config));
        files.put("rbac-bootstrap.yaml", bootstrapRbac(config));
        files.put("enroll-policy.yaml", EnrollPolicy.render(config));
        return files;
    }

    public static void write(EnforcerConfig config, Path dir) throws IOException {
        Files.createDirectories(dir);
        for (Map.Entry<String, String> f : render(config).entrySet()) {
            Files.writeString(dir.resolve(f.getKey()), f.getValue());
        }
    }

    static String user(EnforcerConfig config) {
        return "system:serviceaccount:" + config.ownNamespace() + ":" + NAME;
    }

    /**
     * The webhook's namespaceSelector and objectSelector (opted in, not excluded, not ambient/none; pods without
     * istio.io/dataplane-mode), at the indentation of a webhook or a policy binding's matchResources: the enroll policy's
     * bindings use the same, so the API server's and the webhook's paths see the same pods.
     */
    static String selectors(Rules rules) {
        return """
                    namespaceSelector:
                      matchLabels:
                        %s: "%s"
                      matchExpressions:
                        - key: kubernetes.io/metadata.name
                          operator: NotIn
                          values: %s
                        - key: istio.io/dataplane-mode
                          operator: NotIn
                          values: [ambient, none]
                    objectSelector:
                      matchExpressions:
                        - key: istio.io/dataplane-mode
                          operator: DoesNotExist
                """.formatted(rules.optInKey(), rules.optInValue(), excluded(rules));
    }

    static String excluded(Rules rules) {
        return new TreeSet<>(rules.excludedNamespaces()).stream().collect(Collectors.joining(", ", "[", "]"));
    }

    static String quotedExcluded(Rules rules) {
        return new TreeSet<>(rules.excludedNamespaces()).stream().map(n -> "'" + n + "'").collect(Collectors.joining(", ", "[", "]"));
    }

    static String webhook(EnforcerConfig config) {
        Rules rules = Rules.from(config);
        StringBuilder folded = new StringBuilder();
        for (String part : WebhookMatchCondition.expression(config).split(" (?=\\|\\| )")) { // a line per alternative
            folded.append("          ").append(part).append('\n');
        }
        return """
                # Generated from the enforcer's configuration (InstallManifest): do not edit; render yours with
                # java -jar quarkus-run.jar render-install <dir>.
                apiVersion: admissionregistration.k8s.io/v1
                kind: MutatingWebhookConfiguration
                metadata:
                  name: %1$s
                  labels:
                    app.kubernetes.io/name: %1$s
                webhooks:
                  - name: pods.zeebe-ambient-enforcer.io
                    admissionReviewVersions: [v1]
                    sideEffects: None # dry runs get the same answer; nothing is written
                    failurePolicy: Ignore # fail open: never block a pod (the backstop labels what was missed)
                    timeoutSeconds: 5
                    reinvocationPolicy: Never
                    matchPolicy: Equivalent
                    rules:
                      - apiGroups: [""]
                        apiVersions: [v1]
                        operations: [CREATE]
                        resources: [pods]
                        scope: Namespaced
                    clientConfig:
                      # caBundle is deliberately absent here: overlays/cert-manager has cert-manager inject it,
                      # overlays/static-certs patches it from certs/generate.sh's output.
                      service:
                        name: %1$s
                        namespace: %2$s
                        path: /mutate
                        port: 443
                    # Only namespaces where the answer can depend on the pod (saves a call per pod elsewhere):
                    # opted in, not a system namespace or our own, not already ambient or opted out of the mesh
                    # (namespace istio.io/dataplane-mode). Sidecar-injected namespaces (istio-injection=enabled,
                    # istio.io/rev) are sent: a pod there that says sidecar.istio.io/inject=false is a client the
                    # webhook must enroll at admission (the backstop could only label it after its connection is
                    # open); the enforcer skips the injected ones. A selector cannot see the pod's opt-out.
                    # Pods that already say ambient or none (the enforcer's own pods say none) are not sent.
                %3$s    # Nor are pods the enforcer can tell nothing about. Outside the targets' namespaces an address
                    # can only name a target or a known gateway Service (or one of its pods) as
                    # <service>.<namespace>: a pod is sent when a literal env value, command or args word names one
                    # of those namespaces (any ASCII case), has a $(VAR) to expand or a Kelvin sign (Java lower-cases
                    # it to k); always when it has valueFrom, envFrom, a configMap or secret volume, a projected
                    # ConfigMap other than kube-root-ca.crt or a projected Secret, an enroll label or annotation
                    # (enforcer.pod-enroll-key), or is in a target's namespace (gateway pods). Every field is
                    # guarded with has(): an evaluation error would skip the call (failurePolicy Ignore).
                    # MatchConditionTest proves it with the API server's own CEL against the tests' pods.
                    matchConditions:
                      - name: may-be-enrolled
                        expression: >-
                """.formatted(NAME, config.ownNamespace(), selectors(rules)) + folded;
    }

    static String podPatchPolicy(EnforcerConfig config) {
        Rules rules = Rules.from(config);
        String prefix = config.reasonAnnotation().contains("/")
                ? config.reasonAnnotation().substring(0, config.reasonAnnotation().indexOf('/') + 1) : config.reasonAnnotation();
        return """
                # Generated from the enforcer's configuration (InstallManifest): do not edit; render yours with
                # java -jar quarkus-run.jar render-install <dir>.
                # The ClusterRole grants `pods: patch` cluster-wide (the backstop labels client pods wherever a
                # namespace opts in). RBAC cannot narrow a patch to fields, so this policy does: an update of a
                # pod by the enforcer's ServiceAccount is denied unless the only changes are adding
                # istio.io/dataplane-mode=ambient to a pod without that label, and annotations under
                # %4$s (enforcer.reason-annotation's prefix), and only in a namespace that opted in
                # (enforcer.namespace-opt-in-label, not one of enforcer.excluded-namespaces or the enforcer's own).
                # A stolen token can then neither swap an image, nor take a pod out of the mesh, nor put pods of
                # kube-system or istio-system into it.
                # Evaluated in the API server (ValidatingAdmissionPolicy, GA since Kubernetes 1.30).
                apiVersion: admissionregistration.k8s.io/v1
                kind: ValidatingAdmissionPolicy
                metadata:
                  name: zeebe-ambient-enforcer-pod-patches
                  labels:
                    app.kubernetes.io/name: zeebe-ambient-enforcer
                spec:
                  failurePolicy: Fail
                  matchConstraints:
                    resourceRules:
                      - apiGroups: [""]
                        apiVersions: [v1]
                        operations: [UPDATE]
                        resources: [pods]
                  matchConditions:
                    - name: only-the-enforcer
                      expression: request.userInfo.username == '%1$s'
                  variables:
                    - name: oldLabels
                      expression: "has(oldObject.metadata.labels) ? oldObject.metadata.labels : {}"
                    - name: newLabels
                      expression: "has(object.metadata.labels) ? object.metadata.labels : {}"
                    - name: oldAnnotations
                      expression: "has(oldObject.metadata.annotations) ? oldObject.metadata.annotations : {}"
                    - name: newAnnotations
                      expression: "has(object.metadata.annotations) ? object.metadata.annotations : {}"
                  validations:
                    - expression: >-
                        has(namespaceObject.metadata.labels)
                          && '%2$s' in namespaceObject.metadata.labels
                          && namespaceObject.metadata.labels['%2$s'] == '%3$s'
                          && !(namespaceObject.metadata.name in %5$s)
                      messageExpression: "'the enforcer may only change pods in namespaces that opted in (%2$s=%3$s); ' + namespaceObject.metadata.name + ' did not, or is excluded'"
                      reason: Forbidden
                    - expression: object.spec == oldObject.spec
                      message: the enforcer may not change a pod's spec
                      reason: Forbidden
                    - expression: >-
                        variables.newLabels.all(k, k == 'istio.io/dataplane-mode'
                          || (k in variables.oldLabels && variables.oldLabels[k] == variables.newLabels[k]))
                        && variables.oldLabels.all(k, k == 'istio.io/dataplane-mode' || k in variables.newLabels)
                      message: the enforcer may change no pod label but istio.io/dataplane-mode
                      reason: Forbidden
                    - expression: >-
                        'istio.io/dataplane-mode' in variables.oldLabels
                          ? ('istio.io/dataplane-mode' in variables.newLabels
                              && variables.newLabels['istio.io/dataplane-mode'] == variables.oldLabels['istio.io/dataplane-mode'])
                          : (!('istio.io/dataplane-mode' in variables.newLabels)
                              || variables.newLabels['istio.io/dataplane-mode'] == 'ambient')
                      message: the enforcer may only add istio.io/dataplane-mode=ambient to a pod without that label
                      reason: Forbidden
                    - expression: >-
                        variables.newAnnotations.all(k, k.startsWith('%4$s')
                          || (k in variables.oldAnnotations && variables.oldAnnotations[k] == variables.newAnnotations[k]))
                        && variables.oldAnnotations.all(k, k.startsWith('%4$s') || k in variables.newAnnotations)
                      message: the enforcer may change no pod annotation but its own (%4$s*)
                      reason: Forbidden
                    - expression: >-
                        (has(object.metadata.ownerReferences) ? object.metadata.ownerReferences : [])
                          == (has(oldObject.metadata.ownerReferences) ? oldObject.metadata.ownerReferences : [])
                        && (has(object.metadata.finalizers) ? object.metadata.finalizers : [])
                          == (has(oldObject.metadata.finalizers) ? oldObject.metadata.finalizers : [])
                      message: the enforcer may not change a pod's owners or finalizers
                      reason: Forbidden
                ---
                apiVersion: admissionregistration.k8s.io/v1
                kind: ValidatingAdmissionPolicyBinding
                metadata:
                  name: zeebe-ambient-enforcer-pod-patches
                  labels:
                    app.kubernetes.io/name: zeebe-ambient-enforcer
                spec:
                  policyName: zeebe-ambient-enforcer-pod-patches
                  validationActions: [Deny]
                """.formatted(user(config), rules.optInKey(), rules.optInValue(), prefix, quotedExcluded(rules));
    }

    /** The RoleBinding of Role {@code name} in {@code namespace} to the enforcer's ServiceAccount. */
    static String roleBinding(String name, String namespace, String ownNamespace) {
        return """
                ---
                apiVersion: rbac.authorization.k8s.io/v1
                kind: RoleBinding
                metadata:
                  name: %1$s
                  namespace: %2$s
                  labels:
                    app.kubernetes.io/name: zeebe-ambient-enforcer
                roleRef:
                  apiGroup: rbac.authorization.k8s.io
                  kind: Role
                  name: %1$s
                subjects:
                  - kind: ServiceAccount
                    name: %4$s
                    namespace: %3$s
                """.formatted(name, namespace, ownNamespace, NAME);
    }

    static String bootstrapRbac(EnforcerConfig config) {
        StringBuilder y = new StringBuilder("""
                # Generated from the enforcer's configuration (InstallManifest): do not edit; render yours with
                # java -jar quarkus-run.jar render-install <dir>.
                # The bootstrapper's writes (server-side apply; delete only in ENFORCER_BOOTSTRAP_MODE=cleanup),
                # namespaced where the objects live: one Role + RoleBinding per target namespace
                # (enforcer.targets), named after the targets and enforcer.bootstrap.waypoint-name.
                """);
        Map<String, List<Target>> byNamespace = config.targets().stream()
                .collect(Collectors.groupingBy(Target::namespace, java.util.TreeMap::new, Collectors.toList()));
        boolean first = true;
        for (Map.Entry<String, List<Target>> ns : byNamespace.entrySet()) {
            String names = ns.getValue().stream().map(Target::name).distinct().collect(Collectors.joining(", ", "[", "]"));
            y.append(first ? "" : "---\n").append("""
                    apiVersion: rbac.authorization.k8s.io/v1
                    kind: Role
                    metadata:
                      name: zeebe-ambient-enforcer-bootstrap
                      namespace: %1$s
                      labels:
                        app.kubernetes.io/name: zeebe-ambient-enforcer
                    rules:
                      # Every verb is limited to our objects' names, create too: the bootstrapper creates only by
                      # server-side apply, a PATCH that names the object, which RBAC checks by name. list/watch by
                      # name too: drift repair watches each object with a metadata.name field selector, which
                      # name-scoped rules allow.
                      # The gRPC Service bound to the waypoint: read, apply, cleanup (delete).
                      - apiGroups: [""]
                        resources: [services]
                        resourceNames: %2$s
                        verbs: [get, list, watch, create, patch, delete]
                      # The waypoint Gateway: read (also its Programmed status), apply, cleanup.
                      - apiGroups: [gateway.networking.k8s.io]
                        resources: [gateways]
                        resourceNames: [%3$s]
                        verbs: [get, list, watch, create, patch, delete]
                      # The DestinationRule with LEAST_REQUEST: read, apply, cleanup.
                      - apiGroups: [networking.istio.io]
                        resources: [destinationrules]
                        resourceNames: %2$s
                        verbs: [get, list, watch, create, patch, delete]
                      # Status: ready endpoints of the gRPC Service (list by label kubernetes.io/service-name).
                      - apiGroups: [discovery.k8s.io]
                        resources: [endpointslices]
                        verbs: [list]
                    """.formatted(ns.getKey(), names, config.bootstrap().waypointName()))
                    .append(roleBinding("zeebe-ambient-enforcer-bootstrap", ns.getKey(), config.ownNamespace()));
            first = false;
        }
        var defaults = config.bootstrap().waypointDefaults();
        if (defaults.enabled()) {
            y.append("""
                    ---
                    # Waypoint defaults: the ConfigMap %1$s/%2$s
                    # (label gateway.istio.io/defaults-for-class). Only that ConfigMap: %1$s also holds
                    # Istio's own mesh config.
                    apiVersion: rbac.authorization.k8s.io/v1
                    kind: Role
                    metadata:
                      name: zeebe-ambient-enforcer-waypoint-defaults
                      namespace: %1$s
                      labels:
                        app.kubernetes.io/name: zeebe-ambient-enforcer
                    rules:
                      # By name, create too (server-side apply, as above).
                      - apiGroups: [""]
                        resources: [configmaps]
                        resourceNames: [%2$s]
                        verbs: [get, list, watch, create, patch, delete]
                    """.formatted(config.bootstrap().istioNamespace(), defaults.name()))
                    .append(roleBinding("zeebe-ambient-enforcer-waypoint-defaults", config.bootstrap().istioNamespace(), config.ownNamespace()));
        }
        return y.toString();
    }
}
