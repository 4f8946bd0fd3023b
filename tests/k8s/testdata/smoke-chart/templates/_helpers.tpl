{{- define "smoke.fullname" -}}
{{- printf "%s-smoke" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "smoke.selectorLabels" -}}
app.kubernetes.io/name: smoke
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "smoke.labels" -}}
{{ include "smoke.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}
