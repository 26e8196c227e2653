{{/* Names and labels. */}}
{{- define "trident.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "trident.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "processor"). */}}
{{- define "trident.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "trident.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/*
A component's configuration: the shared `config` with the component's `config` merged over it, as
YAML (callers use fromYaml). (dict "root" $ "component" "processor")
*/}}
{{- define "trident.componentConfig" -}}
{{- $component := index .root.Values .component -}}
{{- toYaml (mustMergeOverwrite (deepCopy .root.Values.config) (deepCopy ($component.config | default dict))) -}}
{{- end -}}

{{/*
The TRIDENT_* environment variables of a config map, as ConfigMap data lines. The name rule is the
config loader's (common/config.ts): TRIDENT_ + the key path, camelCase split into SCREAMING_SNAKE_CASE.
Lists are joined with commas; null leaves the key at its default. Whole numbers print without an
exponent (YAML numbers arrive as floats: 1000000 would print as 1e+06).
(dict "prefix" "TRIDENT" "values" $config)
*/}}
{{- define "trident.configEnv" -}}
{{- $prefix := .prefix -}}
{{- range $key, $value := .values }}
{{- $name := printf "%s_%s" $prefix (regexReplaceAll "([a-z0-9])([A-Z])" $key "${1}_${2}" | upper) }}
{{- if kindIs "map" $value }}
{{- include "trident.configEnv" (dict "prefix" $name "values" $value) }}
{{- else if kindIs "invalid" $value }}
{{- else if kindIs "slice" $value }}
{{ $name }}: {{ join "," $value | quote }}
{{- else if and (kindIs "float64" $value) (eq $value (floor $value)) }}
{{ $name }}: {{ $value | int64 | toString | quote }}
{{- else }}
{{ $name }}: {{ $value | toString | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Prometheus' pod annotations for a port: (dict "root" $ "port" 9464). */}}
{{- define "trident.scrapeAnnotations" -}}
{{- if .root.Values.metrics.scrapeAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | int64 | toString | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- end -}}

{{/* The processor may never have more consumers than the input topic has partitions. */}}
{{- define "trident.checkReplicas" -}}
{{- $partitions := int .Values.config.topics.partitions -}}
{{- if gt (int .Values.processor.replicas) $partitions -}}
{{- fail (printf "processor.replicas (%d) exceeds config.topics.partitions (%d): a consumer beyond the input topic's partition count gets no partition and sits idle; lower processor.replicas or, if the topic has more partitions, raise config.topics.partitions" (int .Values.processor.replicas) $partitions) -}}
{{- end -}}
{{- if and .Values.keda.enabled (gt (int .Values.keda.maxReplicas) $partitions) -}}
{{- fail (printf "keda.maxReplicas (%d) exceeds config.topics.partitions (%d): a consumer beyond the input topic's partition count gets no partition and sits idle" (int .Values.keda.maxReplicas) $partitions) -}}
{{- end -}}
{{- end -}}

{{/* Pod-level settings both components share: (dict "root" $ "component" $values). */}}
{{- define "trident.podCommon" -}}
automountServiceAccountToken: false
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .root.Values.podSecurityContext | nindent 2 }}
terminationGracePeriodSeconds: {{ .component.terminationGracePeriodSeconds }}
{{- with .component.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .component.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .component.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* envFrom of both components: their config, and the Kafka credentials when given. */}}
{{- define "trident.envFrom" -}}
envFrom:
  - configMapRef:
      name: {{ include "trident.fullname" .root }}-{{ .component }}
  {{- with .root.Values.kafkaCredentials.existingSecret }}
  - secretRef:
      name: {{ . }}
  {{- end }}
{{- end -}}
