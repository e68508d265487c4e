{{/*
Helpers shared by the templates. Only what a plain Go template renderer with sprig supports
(include, tpl, toYaml, toJson, required, default, lookup): see the chart README.
*/}}

{{/* The chart name, overridable. */}}
{{- define "vigil.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The object name prefix: fullnameOverride, else the release name when it contains the chart
name, else "<release>-<chart>". Truncated to 63 characters (DNS label limit).
*/}}
{{- define "vigil.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* chart label value: name-version */}}
{{- define "vigil.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "vigil.labels" -}}
helm.sh/chart: {{ include "vigil.chart" . }}
{{ include "vigil.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: agent
{{- end }}

{{/* Labels that select the agent pods (immutable in a DaemonSet: never add to them). */}}
{{- define "vigil.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vigil.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The ServiceAccount's name. */}}
{{- define "vigil.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "vigil.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The headless Service used to join the mesh (and to scrape every agent). */}}
{{- define "vigil.meshServiceName" -}}
{{- printf "%s-mesh" (include "vigil.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The address given to --join. */}}
{{- define "vigil.join" -}}
{{- if .Values.agent.join }}
{{- .Values.agent.join }}
{{- else }}
{{- printf "%s.%s.svc.%s" (include "vigil.meshServiceName" .) .Release.Namespace .Values.agent.clusterDomain }}
{{- end }}
{{- end }}

{{/* The Secret holding the gossip keyring. */}}
{{- define "vigil.keyringSecretName" -}}
{{- if .Values.gossip.encryption.existingSecret }}
{{- .Values.gossip.encryption.existingSecret }}
{{- else }}
{{- printf "%s-keyring" (include "vigil.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* The image reference. */}}
{{- define "vigil.image" -}}
{{- printf "%s:%s" (required "image.repository is required" .Values.image.repository) (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/*
The enabled checkers as a JSON array for the agent config: one object per enabled entry of
.Values.checkers (sorted by name), with name = the key, type = .type or the key, and every
other field except `enabled` passed on.
*/}}
{{- define "vigil.checkersJson" -}}
{{- $out := list }}
{{- range $name, $spec := .Values.checkers }}
{{- if and $spec $spec.enabled }}
{{- $entry := omit $spec "enabled" }}
{{- $_ := set $entry "name" $name }}
{{- if not $entry.type }}
{{- $_ := set $entry "type" $name }}
{{- end }}
{{- $out = append $out $entry }}
{{- end }}
{{- end }}
{{- toJson $out }}
{{- end }}

{{/*
Host directories of the sockets the enabled checkers need, one per line, deduplicated:
"<volume-name> <host directory>" (docker-socket, containerd-socket, dbus-socket). A checker of type docker, containerd or systemd mounts the
directory of its `socket` (default: the chart's default path for that type); systemd has no
`socket` key: its `bus` address (unix:path=...) or the default system bus socket is used.
*/}}
{{- define "vigil.socketDirs" -}}
{{- $defaults := dict "docker" "/var/run/docker.sock" "containerd" "/run/containerd/containerd.sock" "systemd" "/run/dbus/system_bus_socket" }}
{{- $dirs := dict }}
{{- range $name, $spec := .Values.checkers }}
{{- if and $spec $spec.enabled }}
{{- $type := $spec.type | default $name }}
{{- if hasKey $defaults $type }}
{{- $socket := $spec.socket | default (get $defaults $type) }}
{{- if and (eq $type "systemd") $spec.bus (hasPrefix "unix:path=" $spec.bus) }}
{{- $socket = trimPrefix "unix:path=" $spec.bus | splitList "," | first }}
{{- end }}
{{- $_ := set $dirs (dir $socket) $type }}
{{- end }}
{{- end }}
{{- end }}
{{- range $d := keys $dirs | sortAlpha }}
{{ printf "%s-socket %s" (get $dirs $d | replace "systemd" "dbus") $d }}
{{- end }}
{{- end }}
