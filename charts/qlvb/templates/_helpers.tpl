{{/*
Names, labels and the pieces every workload shares. A workload is one service (identity,
storage, docs, interchange) and one kind: api (`qlvb serve`), relay (`qlvb relay`), worker
(`qlvb worker`), consumer (`qlvb consume`); the hook Jobs are kinds migration and db-bootstrap.
*/}}

{{- define "qlvb.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "qlvb.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "qlvb.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The services in the order their migrations run: identity first (the agency registry). */}}
{{- define "qlvb.serviceOrder" -}}identity storage docs interchange{{- end -}}
{{- define "qlvb.kinds" -}}api relay worker consumer{{- end -}}

{{- define "qlvb.selectorLabels" -}}
app.kubernetes.io/name: {{ include "qlvb.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "qlvb.labels" -}}
helm.sh/chart: {{ include "qlvb.chart" . }}
{{ include "qlvb.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: qlvb
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* (dict "root" $ "service" "docs" "kind" "api") */}}
{{- define "qlvb.workloadSelectorLabels" -}}
{{ include "qlvb.selectorLabels" .root }}
app.kubernetes.io/component: {{ .kind }}
qlvb.gov.vn/service: {{ .service }}
{{- end -}}

{{- define "qlvb.workloadLabels" -}}
{{ include "qlvb.labels" .root }}
app.kubernetes.io/component: {{ .kind }}
qlvb.gov.vn/service: {{ .service }}
{{- end -}}

{{/* docs-api -> <fullname>-docs; other kinds -> <fullname>-docs-<kind> */}}
{{- define "qlvb.workloadName" -}}
{{- if eq .kind "api" -}}
{{- printf "%s-%s" (include "qlvb.fullname" .root) .service -}}
{{- else -}}
{{- printf "%s-%s-%s" (include "qlvb.fullname" .root) .service .kind -}}
{{- end -}}
{{- end -}}

{{- define "qlvb.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "qlvb.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "qlvb.image" -}}
{{- $repo := .Values.image.repository -}}
{{- if .Values.image.registry -}}{{- $repo = printf "%s/%s" .Values.image.registry $repo -}}{{- end -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $repo .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The Secret the pods read: the operator's, or the one the chart makes (development). */}}
{{- define "qlvb.secretName" -}}
{{- default (printf "%s-secrets" (include "qlvb.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{/* The Secret the hook Jobs read: before the first install the release's own Secret does not
exist yet, so a chart-managed secret gets a hook copy. */}}
{{- define "qlvb.hookSecretName" -}}
{{- if .Values.secrets.existingSecret -}}
{{- .Values.secrets.existingSecret -}}
{{- else -}}
{{- printf "%s-hook-secrets" (include "qlvb.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "qlvb.apiUrl" -}}
{{- printf "http://%s-%s.%s.svc:%v" (include "qlvb.fullname" .root) .service .root.Release.Namespace .root.Values.service.port -}}
{{- end -}}

{{- define "qlvb.publicUrl" -}}
{{- if .Values.config.publicUrl -}}
{{- .Values.config.publicUrl | trimSuffix "/" -}}
{{- else -}}
{{- printf "https://%s" .Values.ingress.host -}}
{{- end -}}
{{- end -}}

{{/* Secret keys (= variable names) a workload reads; each pod gets only its own service's. */}}
{{- define "qlvb.secretKeys" -}}
{{- $svc := .service -}}
{{- $s := index .root.Values.services $svc -}}
{{- $up := upper $svc -}}
{{- $keys := list "QLVB_REDIS_URL" (printf "QLVB_%s_DATABASE_URL" $up) (printf "QLVB_%s_CLIENT_SECRET" $up) -}}
{{- if has .kind (list "relay" "worker") -}}
{{- $keys = append $keys (printf "QLVB_%s_RELAY_DATABASE_URL" $up) -}}
{{- end -}}
{{- if eq .kind "migration" -}}
{{- $keys = append $keys (printf "QLVB_%s_MIGRATION_DATABASE_URL" $up) -}}
{{- end -}}
{{- if $s.objectStorage -}}
{{- $keys = concat $keys (list "QLVB_S3_ACCESS_KEY" "QLVB_S3_SECRET_KEY") -}}
{{- end -}}
{{- /* The web UI's client: identity runs the login, docs serves the pages (and refreshes). */ -}}
{{- if and (has $svc (list "identity" "docs")) (eq .kind "api") -}}
{{- $keys = append $keys "QLVB_WEB_CLIENT_SECRET" -}}
{{- end -}}
{{- /* Fernet keys of the connector secrets (services/interchange/connectors/secrets.py). */ -}}
{{- if and (eq $svc "interchange") (has .kind (list "api" "worker" "consumer")) -}}
{{- $keys = append $keys "QLVB_INTERCHANGE_CONNECTOR_KEYS" -}}
{{- end -}}
{{- /* Fernet keys of the server-held signing credentials (services/docs/signatures, ADR 0019). */ -}}
{{- if and (eq $svc "docs") (has .kind (list "api" "worker" "consumer")) -}}
{{- $keys = append $keys "QLVB_DOCS_CREDENTIAL_KEYS" -}}
{{- end -}}
{{- toJson $keys -}}
{{- end -}}

{{/* Every key the Secret must hold for the enabled services, kinds and hooks. */}}
{{- define "qlvb.requiredSecretKeys" -}}
{{- $root := . -}}
{{- $keys := list -}}
{{- range $svc := splitList " " (include "qlvb.serviceOrder" .) -}}
{{- $s := index $root.Values.services $svc -}}
{{- if $s.enabled -}}
{{- range $kind := splitList " " (include "qlvb.kinds" $root) -}}
{{- if (index $s $kind).enabled -}}
{{- $keys = concat $keys (include "qlvb.secretKeys" (dict "root" $root "service" $svc "kind" $kind) | fromJsonArray) -}}
{{- end -}}
{{- end -}}
{{- if or $root.Values.migrations.enabled $root.Values.databaseBootstrap.enabled -}}
{{- $keys = concat $keys (include "qlvb.secretKeys" (dict "root" $root "service" $svc "kind" "migration") | fromJsonArray) -}}
{{- end -}}
{{- if $root.Values.databaseBootstrap.enabled -}}
{{- $keys = append $keys (printf "QLVB_%s_RELAY_DATABASE_URL" (upper $svc)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and .Values.databaseBootstrap.enabled (not .Values.databaseBootstrap.existingSecret) -}}
{{- $keys = append $keys .Values.databaseBootstrap.superuserUrlKey -}}
{{- end -}}
{{- toJson ($keys | uniq | sortAlpha) -}}
{{- end -}}

{{/* The env list of a workload container: pod identity for telemetry, then its secret keys. */}}
{{- define "qlvb.env" -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
# Read by the OpenTelemetry SDK's resource detector: one metric stream per pod.
- name: OTEL_RESOURCE_ATTRIBUTES
  value: "service.instance.id=$(POD_NAME),k8s.pod.name=$(POD_NAME),k8s.namespace.name=$(POD_NAMESPACE),deployment.environment={{ .root.Values.environment }}"
{{- $secret := ternary (include "qlvb.hookSecretName" .root) (include "qlvb.secretName" .root) (has .kind (list "migration" "db-bootstrap")) }}
{{- range $key := include "qlvb.secretKeys" . | fromJsonArray }}
- name: {{ $key }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $key }}
{{- end }}
{{- end -}}

{{- define "qlvb.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ . }}
{{- end -}}

{{- define "qlvb.tmpMount" -}}
- name: tmp
  mountPath: /tmp
{{- end -}}

{{/* Cross-field rules the schema cannot state, each with the fix in its message. */}}
{{- define "qlvb.validate" -}}
{{- $root := . -}}
{{- $v := .Values -}}
{{- if and (eq $v.environment "production") (not $v.secrets.existingSecret) -}}
{{- fail "qlvb: secrets.existingSecret is required when environment is production: create the Secret outside the chart (see docs/operations.md, \"Secrets\") instead of writing passwords into values." -}}
{{- end -}}
{{- if and (eq $v.environment "production") (or (eq (toString $v.image.tag) "latest") (and (not $v.image.tag) (not $v.image.digest) (eq $.Chart.AppVersion "latest"))) -}}
{{- fail "qlvb: image.tag \"latest\" is refused in production: pin a version (image.tag) or a digest (image.digest)." -}}
{{- end -}}
{{- if not $v.secrets.existingSecret -}}
{{- $missing := list -}}
{{- range $key := include "qlvb.requiredSecretKeys" . | fromJsonArray -}}
{{- if not (hasKey $v.secrets.values $key) -}}{{- $missing = append $missing $key -}}{{- end -}}
{{- end -}}
{{- if $missing -}}
{{- fail (printf "qlvb: secrets.values lacks %s; add them, or set secrets.existingSecret to a Secret that holds them." (join ", " $missing)) -}}
{{- end -}}
{{- end -}}
{{- if not $v.config.oidc.issuer -}}
{{- fail "qlvb: config.oidc.issuer is required: the realm's issuer exactly as it appears in tokens, e.g. https://sso.example.gov.vn/realms/qlvb." -}}
{{- end -}}
{{- if and $v.services.storage.enabled (not $v.config.s3.endpoint) -}}
{{- fail "qlvb: config.s3.endpoint is required while services.storage is enabled: host:port of the S3 API (MinIO), without a scheme." -}}
{{- end -}}
{{- if not (regexMatch "^([A-Za-z0-9.-]+(:[0-9]{1,5})?)?$" $v.config.s3.endpoint) -}}
{{- fail (printf "qlvb: config.s3.endpoint must be host:port without a scheme or path (got %q); TLS is config.s3.secure." $v.config.s3.endpoint) -}}
{{- end -}}
{{- if and $v.ingress.enabled (not $v.ingress.host) -}}
{{- fail "qlvb: ingress.host is required while ingress.enabled is true: the one public host name, e.g. qlvb.example.gov.vn." -}}
{{- end -}}
{{- if and $v.ingress.enabled $v.ingress.tls.enabled (not $v.ingress.tls.secretName) -}}
{{- fail "qlvb: ingress.tls.secretName is required while ingress.tls.enabled is true (a kubernetes.io/tls Secret)." -}}
{{- end -}}
{{- range $svc := splitList " " (include "qlvb.serviceOrder" .) -}}
{{- $s := index $v.services $svc -}}
{{- if $s.enabled -}}
{{- range $target := $s.calls -}}
{{- if eq $target $svc -}}
{{- fail (printf "qlvb: services.%s.calls names the service itself." $svc) -}}
{{- end -}}
{{- $t := index $v.services $target -}}
{{- if not (and $t.enabled $t.api.enabled) -}}
{{- fail (printf "qlvb: services.%s.calls names %s, whose API is disabled: enable services.%s (and its api) or remove it from calls." $svc $target $target) -}}
{{- end -}}
{{- end -}}
{{- $a := $s.api.autoscaling -}}
{{- if and $a.enabled (gt (int $a.minReplicas) (int $a.maxReplicas)) -}}
{{- fail (printf "qlvb: services.%s.api.autoscaling.minReplicas (%v) is above maxReplicas (%v)." $svc $a.minReplicas $a.maxReplicas) -}}
{{- end -}}
{{- range $path := $s.ingressPaths -}}
{{- range $other := splitList " " (include "qlvb.serviceOrder" $root) -}}
{{- if and (ne $other $svc) (has $path (index $v.services $other).ingressPaths) (index $v.services $other).enabled -}}
{{- fail (printf "qlvb: the ingress path %s is claimed by both services.%s and services.%s." $path $svc $other) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
