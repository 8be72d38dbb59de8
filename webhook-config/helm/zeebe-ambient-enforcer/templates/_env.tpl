{{/*
The enforcer's configuration as environment variables (SmallRye maps ENFORCER_X_Y to enforcer.x-y):
every value the chart offers is stated, so the pods do not depend on the image's defaults, and
HelmChartTest builds the enforcer's configuration from exactly these entries.
*/}}
{{- define "zae.configEnv" -}}
{{- $e := .Values.enforcer -}}
- name: ENFORCER_TARGETS
  value: {{ include "zae.targetList" . | quote }}
- name: ENFORCER_CLUSTER_DOMAIN
  value: {{ $e.clusterDomain | quote }}
- name: ENFORCER_NAMESPACE_OPT_IN_LABEL
  value: {{ $e.namespaceOptInLabel | quote }}
- name: ENFORCER_EXCLUDED_NAMESPACES
  value: {{ join "," $e.excludedNamespaces | quote }}
- name: ENFORCER_POD_ENROLL_KEY
  value: {{ $e.podEnrollKey | quote }}
- name: ENFORCER_REASON_ANNOTATION
  value: {{ $e.reasonAnnotation | quote }}
{{- if $e.knownGatewayServices }}
- name: ENFORCER_DETECTION_KNOWN_GATEWAY_SERVICES
  value: {{ join "," $e.knownGatewayServices | quote }}
{{- end }}
- name: ENFORCER_BOOTSTRAP_ENABLED
  value: {{ $e.bootstrap.enabled | quote }}
- name: ENFORCER_BOOTSTRAP_WAYPOINT_NAME
  value: {{ $e.bootstrap.waypointName | quote }}
- name: ENFORCER_BOOTSTRAP_ISTIO_NAMESPACE
  value: {{ $e.bootstrap.istioNamespace | quote }}
{{- if $e.bootstrap.chartGatewayService }}
- name: ENFORCER_BOOTSTRAP_CHART_GATEWAY_SERVICE
  value: {{ $e.bootstrap.chartGatewayService | quote }}
{{- end }}
- name: ENFORCER_BOOTSTRAP_WAYPOINT_DEFAULTS_ENABLED
  value: {{ $e.bootstrap.waypointDefaults.enabled | quote }}
- name: ENFORCER_BOOTSTRAP_WAYPOINT_DEFAULTS_NAME
  value: {{ $e.bootstrap.waypointDefaults.name | quote }}
{{- end -}}
