{{/*
The objects keep the names webhook-config/ gives them (one release per cluster): the generated
admission policies, the webhook and the bootstrap Roles name the ServiceAccount
system:serviceaccount:<release namespace>:zeebe-ambient-enforcer, and HelmChartTest compares every
object with the kustomize rendering and with the enforcer's own InstallManifest rendering.
*/}}
{{- define "zae.name" -}}zeebe-ambient-enforcer{{- end -}}

{{- define "zae.labels" -}}
app.kubernetes.io/name: zeebe-ambient-enforcer
app.kubernetes.io/component: admission-webhook
app.kubernetes.io/part-of: zeebe-ambient-enforcer
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Labels of objects that are not the enforcer itself (hooks): no app.kubernetes.io/name=zeebe-ambient-enforcer. */}}
{{- define "zae.commonLabels" -}}
app.kubernetes.io/part-of: zeebe-ambient-enforcer
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "zae.user" -}}system:serviceaccount:{{ .Release.Namespace }}:zeebe-ambient-enforcer{{- end -}}

{{- define "zae.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion -}}
{{- $registry := .Values.image.registry | default (dig "imageRegistry" "" (.Values.global | default dict)) -}}
{{- $repository := ternary (printf "%s/%s" (trimSuffix "/" $registry) .Values.image.repository) .Values.image.repository (ne $registry "") -}}
{{- if .Values.image.digest -}}{{ $repository }}@{{ .Values.image.digest }}{{- else -}}{{ $repository }}:{{ $tag }}{{- end -}}
{{- end -}}

{{/*
What the templates need from the enforcer's code (client env names, the address grammar, the configuration's rules,
the names it writes): files/constants.json, written from the Java classes by the one refresh switch
(mvn test -Dtest=InstallFilesTest -Dinstall.refresh=true). Never edited by hand.
*/}}
{{- define "zae.constants" -}}{{ .Files.Get "files/constants.json" }}{{- end -}}

{{/*
The targets as strings: enforcer.targets, or the Camunda release's gRPC Service (enforcer.camundaRelease): the
chart's gateway Service is named as Camunda's helpers name it (camunda-platform 8.8-8.10,
camundaPlatform.componentFullname for "zeebe" + orchestration.serviceName: orchestration.fullnameOverride, else the
release name if it contains orchestration.nameOverride (default "zeebe"), else <release>-<name>; then "-gateway");
the target is that name + "-grpc", the Service the enforcer creates beside it. HelmChartTest renders Camunda's helper.
*/}}
{{- define "zae.camundaGateway" -}}
{{- $r := .Values.enforcer.camundaRelease -}}
{{- $full := "" -}}
{{- if $r.fullnameOverride -}}
{{- $full = $r.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $n := $r.nameOverride | default "zeebe" -}}
{{- if contains $n $r.name -}}{{- $full = $r.name | trunc 63 | trimSuffix "-" -}}{{- else -}}{{- $full = printf "%s-%s" $r.name $n | trunc 63 | trimSuffix "-" -}}{{- end -}}
{{- end -}}
{{- printf "%s-gateway" $full -}}
{{- end -}}

{{- define "zae.targetList" -}}
{{- $r := .Values.enforcer.camundaRelease -}}
{{- if $r.name -}}
{{- printf "%s/%s-grpc:%d" (required "enforcer.camundaRelease.namespace: the Camunda release's namespace" $r.namespace) (include "zae.camundaGateway" .) (int $r.port) -}}
{{- else -}}
{{- join "," .Values.enforcer.targets -}}
{{- end -}}
{{- end -}}

{{/* A namespace/service:port as the enforcer reads it (Target.parse): the form from the constants, port 1..65535. */}}
{{- define "zae.checkTarget" -}}
{{- $k := include "zae.constants" .root | fromJson -}}
{{- if or (not (regexMatch $k.targetPattern .value)) (lt (atoi (regexReplaceAll "^.*:" .value "")) 1) (gt (atoi (regexReplaceAll "^.*:" .value "")) 65535) -}}
{{- fail (printf "%s: %q is not <namespace>/<service>:<port> with port 1..65535 (e.g. camunda/camunda-zeebe-gateway-grpc:26500)" .setting .value) -}}
{{- end -}}
{{- end -}}

{{/* A key with a prefix (ConfigRules.QUALIFIED_KEY): annotations the enforcer writes live under its prefix. */}}
{{- define "zae.checkKey" -}}
{{- $k := include "zae.constants" .root | fromJson -}}
{{- if or (not (regexMatch $k.qualifiedKeyPattern .value)) (gt (len (regexReplaceAll "^[^/]*/" .value "")) 63) -}}
{{- fail (printf "%s: %q is not a key with a prefix (e.g. example.io/name): the pod-patch policy allows the enforcer only annotations under that prefix" .setting .value) -}}
{{- end -}}
{{- end -}}

{{/*
The configuration as the enforcer reads it (Rules.from, Target.parse, ConfigRules), as JSON: targets parsed, opt-in
label split, excluded namespaces with the system ones, the Istio namespace and the release namespace, sorted. Every
rule fails the render with the value's name, as the enforcer refuses to start on it.
*/}}
{{- define "zae.config" -}}
{{- $e := .Values.enforcer -}}
{{- $k := include "zae.constants" . | fromJson -}}
{{- $targets := list -}}
{{- if not (include "zae.targetList" .) -}}{{- fail "enforcer.targets: at least one target (namespace/service:port), or enforcer.camundaRelease" -}}{{- end -}}
{{- range splitList "," (include "zae.targetList" $) -}}
{{- $t := . | trim | lower -}}{{/* as Target.parse reads it */}}
{{- include "zae.checkTarget" (dict "root" $ "setting" "enforcer.targets" "value" $t) -}}
{{- $ns := index (splitList "/" $t) 0 -}}
{{- $rest := index (splitList "/" $t) 1 -}}
{{- $name := index (splitList ":" $rest) 0 -}}
{{- $port := index (splitList ":" $rest) 1 | atoi | toString -}}
{{- $chart := $e.bootstrap.chartGatewayService | default (ternary (trimSuffix "-grpc" $name) $name (hasSuffix "-grpc" $name)) -}}
{{- $targets = append $targets (dict "namespace" $ns "name" $name "port" $port "chart" $chart "id" (printf "%s/%s:%s" $ns $name $port)) -}}
{{- end -}}
{{- $label := $e.namespaceOptInLabel -}}
{{- if or (not (contains "=" $label)) (hasPrefix "=" $label) (hasSuffix "=" $label) -}}
{{- fail (printf "enforcer.namespaceOptInLabel: %q: expected key=value, e.g. zeebe-ambient-enforcer.io/enabled=true" $label) -}}
{{- end -}}
{{- include "zae.checkKey" (dict "root" . "setting" "enforcer.reasonAnnotation" "value" $e.reasonAnnotation) -}}
{{- include "zae.checkKey" (dict "root" . "setting" "enforcer.podEnrollKey" "value" $e.podEnrollKey) -}}
{{- $key := regexReplaceAll "=.*$" $label "" | trim -}}
{{- $value := regexReplaceAll "^[^=]*=" $label "" | trim -}}
{{- $excluded := concat $k.systemNamespaces $e.excludedNamespaces (list $e.bootstrap.istioNamespace .Release.Namespace) | uniq | sortAlpha -}}
{{- $targetNamespaces := list -}}
{{- range $targets -}}{{- $targetNamespaces = append $targetNamespaces .namespace -}}{{- end -}}
{{- $known := list -}}
{{- range $e.knownGatewayServices -}}
{{- $t := . | trim | lower -}}
{{- include "zae.checkTarget" (dict "root" $ "setting" "enforcer.knownGatewayServices" "value" $t) -}}
{{- $known = append $known (index (splitList "/" $t) 0) -}}
{{- end -}}
{{- $prefix := printf "%s/" (index (splitList "/" $e.reasonAnnotation) 0) -}}
{{- dict "targets" $targets "optInKey" $key "optInValue" $value "excluded" $excluded
      "targetNamespaces" ($targetNamespaces | uniq | sortAlpha)
      "matchNamespaces" (concat $targetNamespaces $known | uniq | sortAlpha)
      "enrollKey" $e.podEnrollKey "reason" $e.reasonAnnotation "annotationPrefix" $prefix
      "enrolledBy" (printf "%s%s" $prefix $k.originAnnotationName) "origin" $k.policyOrigin "mode" $k.dataplaneModeLabel
      "domain" (trimAll "." (lower $e.clusterDomain)) "user" (include "zae.user" .) "k" $k | toJson -}}
{{- end -}}

{{/*
What the bootstrapper writes (DesiredState.build), as "Kind namespace/name", sorted: the ConfigMap records it, so that
an upgrade that renames a target, the waypoint or the defaults knows what the revision before wrote.
*/}}
{{- define "zae.bootstrapObjects" -}}
{{- $c := include "zae.config" . | fromJson -}}
{{- $b := .Values.enforcer.bootstrap -}}
{{- $o := list -}}
{{- if $b.enabled -}}
{{- range $c.targetNamespaces }}{{ $o = append $o (printf "Gateway %s/%s" . $b.waypointName) }}{{ end -}}
{{- range $c.targets -}}
{{- $o = append $o (printf "Service %s/%s" .namespace .name) -}}
{{- $o = append $o (printf "DestinationRule %s/%s" .namespace .name) -}}
{{- if and $b.bindChartService (ne .chart .name) }}{{ $o = append $o (printf "DestinationRule %s/%s" .namespace .chart) }}{{ end -}}
{{- end -}}
{{- if $b.waypointDefaults.enabled }}{{ $o = append $o (printf "ConfigMap %s/%s" $b.istioNamespace $b.waypointDefaults.name) }}{{ end -}}
{{- end -}}
{{- $o | uniq | sortAlpha | join "," -}}
{{- end -}}

{{/*
Objects a revision before this one had the bootstrapper write and this one does not (a renamed target, waypoint or
defaults ConfigMap; the bootstrapper turned off), plus those still retired before: the enforcer deletes them (only its
own: our label and field manager) and the chart grants it that on exactly these names (rbac-retired.yaml). Read from the
live ConfigMap with lookup: empty for helm template and on a first install.
*/}}
{{- define "zae.retiredObjects" -}}
{{- $k := include "zae.constants" . | fromJson -}}
{{- $now := splitList "," (include "zae.bootstrapObjects" .) -}}
{{- $old := list -}}
{{- $cm := lookup "v1" "ConfigMap" .Release.Namespace "zeebe-ambient-enforcer-config" -}}
{{- if $cm -}}
{{- $a := ($cm.metadata).annotations | default dict -}}
{{- $d := $cm.data | default dict -}}
{{- $old = concat (splitList "," (index $a "zeebe-ambient-enforcer.io/bootstrap-objects" | default "")) (splitList "," (index $d "ENFORCER_BOOTSTRAP_RETIRED" | default "")) -}}
{{- end -}}
{{- $r := list -}}
{{- range $old }}{{ if and . (regexMatch $k.retiredObjectPattern .) (not (has . $now)) }}{{ $r = append $r . }}{{ end }}{{ end -}}
{{- $r | uniq | sortAlpha | join "," -}}
{{- end -}}

{{/* The namespace and object selectors of the policy bindings; the webhook takes the namespace selector only. */}}
{{- define "zae.selectors" -}}
{{ include "zae.namespaceSelector" . }}
objectSelector:
  matchExpressions:
    - key: {{ .mode }}
      operator: DoesNotExist
{{- end -}}

{{- define "zae.namespaceSelector" -}}
namespaceSelector:
  matchLabels:
    {{ .optInKey }}: {{ .optInValue | quote }}
  matchExpressions:
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values: [{{ join ", " .excluded }}]
    - key: {{ .mode }}
      operator: NotIn
      values: [ambient, none]
{{- end -}}

{{/* A literal as Java's toLowerCase(Locale.ROOT) sees it, in RE2 (EnrollPolicy.ci). */}}
{{- define "zae.ci" -}}
{{- range $c := splitList "" (lower .) -}}
{{- if regexMatch "^[a-z]$" $c -}}[{{ $c }}{{ upper $c }}{{ if eq $c "k" }}\x{212A}{{ end }}]
{{- else if regexMatch "^[0-9-]$" $c -}}{{ $c }}
{{- else -}}\{{ $c }}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* EnrollPolicy.hosts: name.namespace[.svc[.domain]]; input dict t, domain. */}}
{{- define "zae.hosts" -}}
(?:{{ include "zae.ci" (printf "%s.%s" .t.name .t.namespace) }}(?:{{ include "zae.ci" ".svc" }}(?:{{ include "zae.ci" (printf ".%s" .domain) }})?)?)
{{- end -}}

{{- define "zae.zeros" -}}
{{- if lt (len .) 5 -}}0{0,{{ sub 5 (len .) }}}{{- end -}}
{{- end -}}



{{/* EnrollPolicy.addressRegex; input dict targets, domain. */}}
{{- define "zae.addressRegex" -}}
{{- $d := .domain -}}
{{- $alts := list -}}
{{- range .targets -}}
{{- $alts = append $alts (printf "%s\\.?(?::%s%s)?" (include "zae.hosts" (dict "t" . "domain" $d)) (include "zae.zeros" .port) .port) -}}
{{- end -}}
^[\x00-\x20]*{{ .k.schemePrefix }}(?:{{ join "|" $alts }})/?[\x00-\x20]*$
{{- end -}}

{{/* EnrollPolicy.scanRegex; input dict targets, domain. */}}
{{- define "zae.scanRegex" -}}
{{- $d := .domain -}}
{{- $sep := printf "[%s]" .k.separatorChars -}}
{{- $start := printf "(?:^|%s)%s" $sep .k.keyPrefix -}}
{{- $end := printf "(?:%s|$)" $sep -}}
{{- $notPort := printf "(?:%s*$|%s+(?:[^%s0-9]|[0-9]{6}|[0-9]{1,5}[^%s0-9]))" $sep $sep .k.separatorChars .k.separatorChars -}}
{{- $prefix := .k.schemePrefix -}}
{{- $bare := .k.bareScheme -}}
{{- $forms := list -}}
{{- range .targets -}}
{{- $zeros := include "zae.zeros" .port -}}
{{- $host := printf "%s\\.?" (include "zae.hosts" (dict "t" . "domain" $d)) -}}
{{- $forms = append $forms (printf "%s%s%s:%s%s/?%s" $start $prefix $host $zeros .port $end) -}}
{{- $forms = append $forms (printf "%s%s%s/?%s" $start $prefix $host $notPort) -}}
{{- $forms = append $forms (printf "%s%s%s%s+%s%s%s" $start $bare $host $sep $zeros .port $end) -}}
{{- end -}}
{{- join "|" $forms -}}
{{- end -}}

{{/* EnrollPolicy.hostRegex / portRegex; input dict t, domain. */}}
{{- define "zae.hostRegex" -}}
^[\x00-\x20]*{{ include "zae.hosts" . }}\.?[\x00-\x20]*$
{{- end -}}
{{- define "zae.portRegex" -}}
^[\x00-\x20]*\+?0*{{ .port }}[\x00-\x20]*$
{{- end -}}

{{/* A pod CREATE policy's head, up to its matchConditions (EnrollPolicy.podCreatePolicy); dict root, kind, name, spec. */}}
{{- define "zae.podCreatePolicy" -}}
apiVersion: admissionregistration.k8s.io/v1
kind: {{ .kind }}
metadata:
  name: {{ .name }}
  labels:
    {{- include "zae.labels" .root | nindent 4 }}
  {{- with .annotations }}
  annotations:
    {{- . | nindent 4 }}
  {{- end }}
spec:
{{ .spec }}
  matchConstraints:
    resourceRules:
      - apiGroups: [""]
        apiVersions: [v1]
        operations: [CREATE]
        resources: [pods]
  matchConditions:
{{- end -}}

{{/* EnrollPolicy.skipConditions; input: the config. */}}
{{- define "zae.skipConditions" }}
    - name: not-in-a-target-namespace
      expression: |-
        !(request.namespace in [{{ range $i, $n := .targetNamespaces }}{{ if $i }}, {{ end }}'{{ $n }}'{{ end }}])
    - name: not-a-mirror-pod
      expression: |-
        !has(object.metadata.annotations) || !('kubernetes.io/config.mirror' in object.metadata.annotations)
    - name: not-host-network
      expression: |-
        !has(object.spec.hostNetwork) || !object.spec.hostNetwork
    - name: no-enroll-key
      expression: |-
        (!has(object.metadata.labels) || !('{{ .enrollKey }}' in object.metadata.labels)) && (!has(object.metadata.annotations) || !('{{ .enrollKey }}' in object.metadata.annotations))
    - name: no-sidecar-hint
      expression: |-
        (!has(object.metadata.annotations) || !('sidecar.istio.io/status' in object.metadata.annotations || 'sidecar.istio.io/inject' in object.metadata.annotations)) && (!has(object.metadata.labels) || !('sidecar.istio.io/inject' in object.metadata.labels || 'istio.io/rev' in object.metadata.labels))
{{- end -}}

{{- define "zae.sidecarVariables" }}
    - name: nsLabels
      expression: |-
        has(namespaceObject.metadata.labels) ? namespaceObject.metadata.labels : {}
    - name: sidecarNamespace
      expression: |-
        ('istio-injection' in variables.nsLabels && variables.nsLabels['istio-injection'] == 'enabled') || ('istio.io/rev' in variables.nsLabels && !('istio-injection' in variables.nsLabels && variables.nsLabels['istio-injection'] == 'disabled'))
    - name: containers
      expression: |-
        (has(object.spec.initContainers) ? object.spec.initContainers : []) + (has(object.spec.containers) ? object.spec.containers : [])
{{- end -}}

{{/*
"true" when the enroll policy is rendered: enrollPolicy true, or auto and the API server serves
admissionregistration.k8s.io/v1 MutatingAdmissionPolicy and is 1.36+ (helm template assumes every kind its
client knows: the version tells an offline render with --kube-version). Empty otherwise.
*/}}
{{- define "zae.enrollPolicy" -}}
{{- $v := .Values.enforcer.enrollPolicy -}}
{{- if eq (toString $v) "auto" -}}
{{- if and (.Capabilities.APIVersions.Has "admissionregistration.k8s.io/v1/MutatingAdmissionPolicy") (semverCompare ">=1.36-0" .Capabilities.KubeVersion.Version) -}}true{{- end -}}
{{- else if $v -}}true{{- end -}}
{{- end -}}

{{/* imagePullSecrets and global.imagePullSecrets (an umbrella chart's), as a list of {name}; names or objects accepted. */}}
{{- define "zae.imagePullSecrets" -}}
{{- $all := list -}}
{{- range concat (.Values.imagePullSecrets | default list) (dig "imagePullSecrets" list (.Values.global | default dict)) -}}
{{- $all = append $all (ternary (dict "name" .) . (kindIs "string" .)) -}}
{{- end -}}
{{- if $all }}{{ toYaml (uniq $all) }}{{ end -}}
{{- end -}}
