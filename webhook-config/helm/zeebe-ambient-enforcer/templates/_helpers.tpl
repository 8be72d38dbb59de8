{{/*
The objects keep the names webhook-config/ gives them (one release per cluster): the generated
admission policies, the webhook and the bootstrap Roles name the ServiceAccount
system:serviceaccount:<release namespace>:zeebe-ambient-enforcer, and HelmChartTest compares every
object with the kustomize rendering and with the enforcer's own InstallManifest rendering.
*/}}
{{- define "zae.name" -}}zeebe-ambient-enforcer{{- end -}}

{{- define "zae.labels" -}}
app.kubernetes.io/name: zeebe-ambient-enforcer
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
{{- if .Values.image.digest -}}{{ .Values.image.repository }}@{{ .Values.image.digest }}{{- else -}}{{ .Values.image.repository }}:{{ $tag }}{{- end -}}
{{- end -}}

{{/*
The configuration as the enforcer reads it (Rules.from, Target.parse), as JSON: targets parsed,
opt-in label split, excluded namespaces with the release namespace, sorted.
*/}}
{{/* The targets as strings: enforcer.targets, or the Camunda release's gRPC Service (enforcer.camundaRelease). */}}
{{- define "zae.targetList" -}}
{{- $r := .Values.enforcer.camundaRelease -}}
{{- if $r.name -}}
{{- printf "%s/%s-zeebe-gateway-grpc:%d" (required "enforcer.camundaRelease.namespace: the Camunda release's namespace" $r.namespace) $r.name (int $r.port) -}}
{{- else -}}
{{- join "," .Values.enforcer.targets -}}
{{- end -}}
{{- end -}}

{{- define "zae.config" -}}
{{- $e := .Values.enforcer -}}
{{- $targets := list -}}
{{- if not (include "zae.targetList" .) -}}{{- fail "enforcer.targets: at least one target (namespace/service:port), or enforcer.camundaRelease" -}}{{- end -}}
{{- range splitList "," (include "zae.targetList" .) -}}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-a-z0-9]*[a-z0-9])?:[0-9]{1,5}$" .) -}}
{{- fail (printf "enforcer.targets: %q is not namespace/service:port (e.g. camunda/camunda-zeebe-gateway-grpc:26500)" .) -}}
{{- end -}}
{{- $ns := index (splitList "/" .) 0 -}}
{{- $rest := index (splitList "/" .) 1 -}}
{{- $name := index (splitList ":" $rest) 0 -}}
{{- $port := index (splitList ":" $rest) 1 | atoi | toString -}}
{{- $chart := $e.bootstrap.chartGatewayService | default (ternary (trimSuffix "-grpc" $name) $name (hasSuffix "-grpc" $name)) -}}
{{- $targets = append $targets (dict "namespace" $ns "name" $name "port" $port "chart" $chart "id" (printf "%s/%s:%s" $ns $name $port)) -}}
{{- end -}}
{{- if not $targets -}}{{- fail "enforcer.targets: at least one target (namespace/service:port)" -}}{{- end -}}
{{- $label := $e.namespaceOptInLabel -}}
{{- $eq := regexFind "=" $label -}}
{{- if or (not (contains "=" $label)) (hasPrefix "=" $label) (hasSuffix "=" $label) -}}
{{- fail (printf "enforcer.namespaceOptInLabel: %q: expected key=value, e.g. zeebe-ambient-enforcer.io/enabled=true" $label) -}}
{{- end -}}
{{- $key := regexReplaceAll "=.*$" $label "" | trim -}}
{{- $value := regexReplaceAll "^[^=]*=" $label "" | trim -}}
{{- $excluded := concat $e.excludedNamespaces (list .Release.Namespace) | uniq | sortAlpha -}}
{{- $targetNamespaces := list -}}
{{- range $targets -}}{{- $targetNamespaces = append $targetNamespaces .namespace -}}{{- end -}}
{{- $known := list -}}
{{- range $e.knownGatewayServices -}}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-a-z0-9]*[a-z0-9])?:[0-9]{1,5}$" .) -}}
{{- fail (printf "enforcer.knownGatewayServices: %q is not namespace/service:port" .) -}}
{{- end -}}
{{- $known = append $known (index (splitList "/" .) 0) -}}
{{- end -}}
{{- $prefix := ternary (printf "%s/" (index (splitList "/" $e.reasonAnnotation) 0)) $e.reasonAnnotation (contains "/" $e.reasonAnnotation) -}}
{{- dict "targets" $targets "optInKey" $key "optInValue" $value "excluded" $excluded
      "targetNamespaces" ($targetNamespaces | uniq | sortAlpha)
      "matchNamespaces" (concat $targetNamespaces $known | uniq | sortAlpha)
      "enrollKey" $e.podEnrollKey "reason" $e.reasonAnnotation "annotationPrefix" $prefix
      "enrolledBy" (printf "%senrolled-by" $prefix)
      "domain" (trimAll "." (lower $e.clusterDomain)) "user" (include "zae.user" .) | toJson -}}
{{- end -}}

{{/* The namespace and object selectors of the webhook and the policy bindings (InstallManifest.selectors). */}}
{{- define "zae.selectors" -}}
namespaceSelector:
  matchLabels:
    {{ .optInKey }}: {{ .optInValue | quote }}
  matchExpressions:
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values: [{{ join ", " .excluded }}]
    - key: istio.io/dataplane-mode
      operator: NotIn
      values: [ambient, none]
objectSelector:
  matchExpressions:
    - key: istio.io/dataplane-mode
      operator: DoesNotExist
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

{{- define "zae.prefix" -}}
(?:(?:[hH][tT][tT][pP][sS]?|[gG][rR][pP][cC][sS]?|[zZ][eE][eE][bB][eE])://|[dD][nN][sS]://[^/]*/|[pP][aA][sS][sS][tT][hH][rR][oO][uU][gG][hH]:///|[dD][nN][sS]:)?
{{- end -}}

{{/* EnrollPolicy.addressRegex; input dict targets, domain. */}}
{{- define "zae.addressRegex" -}}
{{- $d := .domain -}}
{{- $alts := list -}}
{{- range .targets -}}
{{- $alts = append $alts (printf "%s\\.?(?::%s%s)?" (include "zae.hosts" (dict "t" . "domain" $d)) (include "zae.zeros" .port) .port) -}}
{{- end -}}
^[\x00-\x20]*{{ include "zae.prefix" . }}(?:{{ join "|" $alts }})/?[\x00-\x20]*$
{{- end -}}

{{/* EnrollPolicy.scanRegex; input dict targets, domain. */}}
{{- define "zae.scanRegex" -}}
{{- $d := .domain -}}
{{- $start := `(?:^|[ \t\n\x0B\f\r\x22\x27\x60,;(){}\[\]<>|\\])(?:-{1,2}[A-Za-z0-9_.\-]+[=:]|[A-Za-z0-9_.\-]+=|(?:[A-Za-z0-9_.\-]{1,2}|[A-Za-z0-9_.\-]{4,}|[A-CE-Za-ce-z0-9_.\-][A-Za-z0-9_.\-]{2}|[dD][A-MO-Za-mo-z0-9_.\-][A-Za-z0-9_.\-]|[dD][nN][A-RT-Za-rt-z0-9_.\-]):)?` -}}
{{- $end := `(?:[ \t\n\x0B\f\r\x22\x27\x60,;(){}\[\]<>|\\]|$)` -}}
{{- $notPort := `(?:[ \t\n\x0B\f\r\x22\x27\x60,;(){}\[\]<>|\\]*$|[ \t\n\x0B\f\r\x22\x27\x60,;(){}\[\]<>|\\]+(?:[^ \t\n\x0B\f\r\x22\x27\x60,;(){}\[\]<>|\\0-9]|[0-9]{6}|[0-9]{1,5}[^ \t\n\x0B\f\r\x22\x27\x60,;(){}\[\]<>|\\0-9]))` -}}
{{- $sep := `[ \t\n\x0B\f\r\x22\x27\x60,;(){}\[\]<>|\\]` -}}
{{- $prefix := include "zae.prefix" . -}}
{{- $forms := list -}}
{{- range .targets -}}
{{- $zeros := include "zae.zeros" .port -}}
{{- $host := printf "%s\\.?" (include "zae.hosts" (dict "t" . "domain" $d)) -}}
{{- $forms = append $forms (printf "%s%s%s:%s%s/?%s" $start $prefix $host $zeros .port $end) -}}
{{- $forms = append $forms (printf "%s%s%s/?%s" $start $prefix $host $notPort) -}}
{{- $forms = append $forms (printf "%s(?:(?:https?|grpcs?|zeebe)://)?%s%s+%s%s%s" $start $host $sep $zeros .port $end) -}}
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
