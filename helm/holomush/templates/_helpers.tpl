{{/*
Names and labels shared by every template. Selectors use only the stable
app.kubernetes.io/{name,instance,component} labels: never the chart version, which changes on
every upgrade and would orphan the old Pods (selectors are immutable).
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "holomush.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every resource name: the release name when it already contains the chart name
(release `holomush` gives `holomush-operator`, as in k8s-operator/config), else
`<release>-<chart>`. 54 characters leave room for the longest suffix, `-operator`.
*/}}
{{- define "holomush.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 54 | trimSuffix "-" }}
{{- else }}
{{- $name := include "holomush.name" . }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 54 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 54 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The operator's objects: Deployment, Service, ServiceMonitor, RBAC, Lease. */}}
{{- define "holomush.operator.fullname" -}}
{{- printf "%s-operator" (include "holomush.fullname" .) }}
{{- end }}

{{- define "holomush.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object the chart makes. */}}
{{- define "holomush.labels" -}}
helm.sh/chart: {{ include "holomush.chart" . }}
app.kubernetes.io/part-of: holomush
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
{{- end }}

{{/* What selects the operator Pods; fixed for the life of a release. */}}
{{- define "holomush.operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "holomush.name" . }}-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "holomush.operator.labels" -}}
{{ include "holomush.labels" . }}
{{ include "holomush.operator.selectorLabels" . }}
{{- end }}

{{- define "holomush.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "holomush.operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "holomush.operator.image" -}}
{{- $image := .Values.operator.image }}
{{- if $image.digest }}
{{- printf "%s@%s" $image.repository $image.digest }}
{{- else }}
{{- printf "%s:%s" $image.repository (default .Chart.AppVersion $image.tag) }}
{{- end }}
{{- end }}

{{/*
True when the cluster serves prometheus-operator's API, so ServiceMonitor and PrometheusRule
can be applied (helm fills .Capabilities from discovery; `helm template` needs
`--api-versions monitoring.coreos.com/v1`).
*/}}
{{- define "holomush.monitoringApi" -}}
{{- if .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" }}true{{ end }}
{{- end }}

{{/* The HoloMUSH the chart creates, and the names the operator derives from it. */}}
{{- define "holomush.instance.name" -}}
{{- default .Release.Name .Values.instance.name }}
{{- end }}

{{/* The Secret holding ca.crt and cli.crt/.key: the operator's `<name>-tls`, or the user's. */}}
{{- define "holomush.instance.tlsSecret" -}}
{{- $tls := .Values.instance.spec.tls | default dict }}
{{- default (printf "%s-tls" (include "holomush.instance.name" .)) $tls.secretName }}
{{- end }}
