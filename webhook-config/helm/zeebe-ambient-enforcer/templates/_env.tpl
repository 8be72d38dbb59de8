{{/*
The enforcer's configuration, as the environment its container reads (SmallRye maps ENFORCER_X_Y to enforcer.x-y):
the data of the ConfigMap zeebe-ambient-enforcer-config, which the Deployment takes whole (envFrom). Every admission
object, Role and binding is rendered from the same values (zae.config), so what the enforcer runs with is what the
objects were rendered from. Each entry names the value it comes from (zae.configSources): extraEnv may not set one.
*/}}
{{- define "zae.configData" -}}
{{- $e := .Values.enforcer -}}
{{- $c := include "zae.config" . | fromJson -}}
ENFORCER_TARGETS: {{ include "zae.targetList" . | quote }}
ENFORCER_AUDIT: {{ eq $e.mode "audit" | quote }}
ENFORCER_CLUSTER_DOMAIN: {{ $e.clusterDomain | quote }}
ENFORCER_NAMESPACE_OPT_IN_LABEL: {{ $e.namespaceOptInLabel | quote }}
ENFORCER_EXCLUDED_NAMESPACES: {{ without $c.excluded .Release.Namespace | join "," | quote }}
ENFORCER_POD_ENROLL_KEY: {{ $e.podEnrollKey | quote }}
ENFORCER_REASON_ANNOTATION: {{ $e.reasonAnnotation | quote }}
{{- if $e.knownGatewayServices }}
ENFORCER_DETECTION_KNOWN_GATEWAY_SERVICES: {{ join "," $e.knownGatewayServices | quote }}
{{- end }}
ENFORCER_DETECTION_READ_SECRETS: {{ $e.readSecrets | quote }}
ENFORCER_BACKSTOP_RESTART_WORKLOADS: {{ $e.backstop.restartWorkloads | quote }}
ENFORCER_BOOTSTRAP_ENABLED: {{ $e.bootstrap.enabled | quote }}
ENFORCER_BOOTSTRAP_WAYPOINT_NAME: {{ $e.bootstrap.waypointName | quote }}
ENFORCER_BOOTSTRAP_ISTIO_NAMESPACE: {{ $e.bootstrap.istioNamespace | quote }}
ENFORCER_BOOTSTRAP_BIND_CHART_SERVICE: {{ $e.bootstrap.bindChartService | quote }}
{{- if $e.bootstrap.chartGatewayService }}
ENFORCER_BOOTSTRAP_CHART_GATEWAY_SERVICE: {{ $e.bootstrap.chartGatewayService | quote }}
{{- end }}
ENFORCER_BOOTSTRAP_WAYPOINT_DEFAULTS_ENABLED: {{ $e.bootstrap.waypointDefaults.enabled | quote }}
ENFORCER_BOOTSTRAP_WAYPOINT_DEFAULTS_NAME: {{ $e.bootstrap.waypointDefaults.name | quote }}
ENFORCER_SELF_MANAGED_TLS_ENABLED: {{ eq .Values.tls.mode "selfManaged" | quote }}
ENFORCER_BOOTSTRAP_RETIRED: {{ include "zae.retiredObjects" . | quote }}
{{- end -}}

{{/* The value each configuration entry comes from: what the extraEnv check names instead. */}}
{{- define "zae.configSources" -}}
{{- dict
  "ENFORCER_TARGETS" "enforcer.targets (or enforcer.camundaRelease)"
  "ENFORCER_AUDIT" "enforcer.mode"
  "ENFORCER_CLUSTER_DOMAIN" "enforcer.clusterDomain"
  "ENFORCER_NAMESPACE_OPT_IN_LABEL" "enforcer.namespaceOptInLabel"
  "ENFORCER_EXCLUDED_NAMESPACES" "enforcer.excludedNamespaces"
  "ENFORCER_POD_ENROLL_KEY" "enforcer.podEnrollKey"
  "ENFORCER_REASON_ANNOTATION" "enforcer.reasonAnnotation"
  "ENFORCER_DETECTION_KNOWN_GATEWAY_SERVICES" "enforcer.knownGatewayServices"
  "ENFORCER_DETECTION_READ_SECRETS" "enforcer.readSecrets"
  "ENFORCER_BACKSTOP_RESTART_WORKLOADS" "enforcer.backstop.restartWorkloads"
  "ENFORCER_BOOTSTRAP_ENABLED" "enforcer.bootstrap.enabled"
  "ENFORCER_BOOTSTRAP_RETIRED" "nothing (the chart computes it on upgrade)"
  "ENFORCER_BOOTSTRAP_WAYPOINT_NAME" "enforcer.bootstrap.waypointName"
  "ENFORCER_BOOTSTRAP_ISTIO_NAMESPACE" "enforcer.bootstrap.istioNamespace"
  "ENFORCER_BOOTSTRAP_BIND_CHART_SERVICE" "enforcer.bootstrap.bindChartService"
  "ENFORCER_BOOTSTRAP_CHART_GATEWAY_SERVICE" "enforcer.bootstrap.chartGatewayService"
  "ENFORCER_BOOTSTRAP_WAYPOINT_DEFAULTS_ENABLED" "enforcer.bootstrap.waypointDefaults.enabled"
  "ENFORCER_BOOTSTRAP_WAYPOINT_DEFAULTS_NAME" "enforcer.bootstrap.waypointDefaults.name"
  "ENFORCER_SELF_MANAGED_TLS_ENABLED" "tls.mode"
  "ENFORCER_OWN_NAMESPACE" "the release namespace (helm -n)"
  "ENFORCER_TLS_CERT" "tls.mode"
  "ENFORCER_TLS_KEY" "tls.mode"
  | toJson -}}
{{- end -}}

{{/*
extraEnv may not set what the chart renders: the enforcer would run with one value while the webhook, the policies
and the Roles were rendered from another. The check normalises names as SmallRye does (ENFORCER_X_Y, enforcer.x-y).
*/}}
{{- define "zae.checkExtraEnv" -}}
{{- $sources := include "zae.configSources" . | fromJson -}}
{{- range .Values.extraEnv -}}
{{- $n := .name | upper | replace "." "_" | replace "-" "_" -}}
{{- if hasKey $sources $n -}}
{{- fail (printf "extraEnv: %s is rendered by the chart (the admission objects are rendered from the same value); set %s instead" .name (get $sources $n)) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The settings an object was rendered from, as the annotation zeebe-ambient-enforcer.io/rendered-from (JSON): the enforcer
compares them with what it runs with (InstalledConfiguration). Only the settings the object depends on, so that a
kustomize component changes the annotations of the objects it changes and no other. Input: dict root, keys.
*/}}
{{- define "zae.renderedFrom" -}}
{{- $data := include "zae.configData" .root | fromYaml -}}
{{- $out := dict -}}
{{- range .keys -}}{{- if hasKey $data . -}}{{- $_ := set $out . (get $data .) -}}{{- end -}}{{- end -}}
zeebe-ambient-enforcer.io/rendered-from: {{ $out | toJson | quote }}
{{- end -}}
