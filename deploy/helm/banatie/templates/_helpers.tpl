{{/* Names and labels shared by every template. */}}
{{- define "banatie.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "banatie.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "banatie.labels" -}}
{{ include "banatie.selectorLabels" . }}
{{ include "banatie.commonLabels" . }}
{{- end -}}

{{- define "banatie.commonLabels" -}}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The job workers' pods: a name of their own, so the server's selectors (Deployment, Service,
HPA, PodDisruptionBudget) never pick them up. */}}
{{- define "banatie.workerSelectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}-worker
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: worker
{{- end -}}

{{- define "banatie.workerLabels" -}}
{{ include "banatie.workerSelectorLabels" . }}
{{ include "banatie.commonLabels" . }}
{{- end -}}

{{/* How long Kubernetes waits after SIGTERM before it kills a pod: the shutdown timeout (requests
or jobs in flight may finish) and then time to give unfinished work back and close. */}}
{{- define "banatie.terminationGracePeriodSeconds" -}}
{{- $margin := 5 -}}
{{- if lt (int .Values.terminationGracePeriodSeconds) (add (int .Values.shutdownTimeoutSeconds) $margin) -}}
{{- fail (printf "terminationGracePeriodSeconds (%v) must be at least shutdownTimeoutSeconds (%v) + %d: after the shutdown timeout a pod still gives its unfinished work back and closes" .Values.terminationGracePeriodSeconds .Values.shutdownTimeoutSeconds $margin) -}}
{{- end -}}
{{- .Values.terminationGracePeriodSeconds -}}
{{- end -}}

{{- define "banatie.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "banatie.secretName" -}}
{{- .Values.existingSecret | default (include "banatie.fullname" .) -}}
{{- end -}}

{{/* The settings every Banatie container gets: the env map, then the Secret. */}}
{{- define "banatie.envFrom" -}}
envFrom:
  - secretRef:
      name: {{ include "banatie.secretName" . }}
env:
  - name: PORT
    value: {{ .Values.containerPort | quote }}
  - name: BANATIE_WORKERS
    value: {{ .Values.workers | quote }}
  - name: BANATIE_SHUTDOWN_TIMEOUT_SECONDS
    value: {{ .Values.shutdownTimeoutSeconds | quote }}
{{- range $name, $value := .Values.env }}
  - name: {{ $name }}
    value: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{- define "banatie.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "banatie.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end -}}
