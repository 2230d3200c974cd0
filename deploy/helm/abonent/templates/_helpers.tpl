{{/* Names and labels */}}
{{- define "abonent.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}{{ .Release.Name | trunc 40 | trimSuffix "-" }}{{- else -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" }}{{- end -}}
{{- end }}

{{- define "abonent.labels" -}}
app.kubernetes.io/name: abonent
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: abonent
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{- define "abonent.selector" -}}
app.kubernetes.io/name: abonent
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{- define "abonent.secretName" -}}
{{- .Values.existingSecret | default (printf "%s-secrets" (include "abonent.fullname" .)) -}}
{{- end }}

{{- define "abonent.kafkaNamespace" -}}
{{- .Values.kafka.strimzi.namespace | default .Release.Namespace -}}
{{- end }}

{{- define "abonent.pgCluster" -}}
{{- printf "%s-pg-%s" (include "abonent.fullname" .root) .database -}}
{{- end }}

{{- define "abonent.kafkaUser" -}}
{{- printf "%s-%s" (include "abonent.fullname" .root) .user -}}
{{- end }}

{{/*
The processes. role: the image's command; prefix: the settings' environment prefix; port:
where it answers (an API, or only /health/* and /metrics); database: whose DATABASE_URL it
reads; kafka: the KafkaUser it connects as (none: it does not talk to Kafka); values: its
block under .Values.components; shared: it reads the ABONENT_* settings every service shares
(the relay reads only ABONENT_KAFKA_* and ABONENT_LOG_*).
*/}}
{{- define "abonent.componentTable" -}}
contracts:       {role: [contracts],   values: contracts,   prefix: CONTRACTS_,   port: 8001, api: true,  database: contracts,   kafka: contracts,   urlVar: CONTRACTS_DATABASE_URL, shared: true}
projections:     {role: [projections], values: projections, prefix: PROJECTIONS_, port: 8002, api: true,  database: projections, kafka: projections, urlVar: PROJECTIONS_DATABASE_URL, shared: true}
tickets:         {role: [tickets],     values: tickets,     prefix: TICKETS_,     port: 8003, api: true,  database: tickets,     kafka: tickets,     urlVar: TICKETS_DATABASE_URL, shared: true}
notifier:        {role: [notifier],    values: notifier,    prefix: NOTIFY_,      port: 8004, api: true,  database: notifier,    kafka: notifier,    urlVar: NOTIFY_DATABASE_URL, shared: true}
console:         {role: [console],     values: console,     prefix: CONSOLE_,     port: 8000, api: true,  database: "",          kafka: "",          urlVar: "", shared: true}
scheduler:       {role: [scheduler],   values: scheduler,   prefix: CONTRACTS_,   port: 8005, api: false, database: contracts,   kafka: "",          urlVar: CONTRACTS_DATABASE_URL, portVar: CONTRACTS_SCHEDULER_HTTP_PORT, shared: true}
relay-contracts: {role: [relay, --client-id, abonent-contracts-relay], values: relay, prefix: OUTBOX_, port: 8006, api: false, database: contracts, kafka: contracts, urlVar: OUTBOX_DATABASE_URL, shared: false}
relay-tickets:   {role: [relay, --client-id, abonent-tickets-relay],   values: relay, prefix: OUTBOX_, port: 8006, api: false, database: tickets,   kafka: tickets,   urlVar: OUTBOX_DATABASE_URL, shared: false}
{{- end }}

{{/* Where a component's DATABASE_URL comes from: the CNPG app secret's `uri`, or our Secret. */}}
{{- define "abonent.databaseUrl" -}}
- name: {{ .var }}
  valueFrom:
    secretKeyRef:
{{- if .root.Values.postgresql.cnpg.enabled }}
      name: {{ include "abonent.pgCluster" (dict "root" .root "database" .database) }}-app
      key: uri
{{- else }}
      name: {{ include "abonent.secretName" .root }}
      key: {{ upper (index (dict "contracts" "CONTRACTS" "projections" "PROJECTIONS" "tickets" "TICKETS" "notifier" "NOTIFY") .database) }}_DATABASE_URL
{{- end }}
{{- end }}

{{/* The environment of one component (.name, .c = its table row, .root). */}}
{{- define "abonent.env" -}}
{{- $root := .root -}}
{{- $c := .c -}}
{{- $values := index $root.Values.components $c.values -}}
- name: {{ $c.portVar | default (printf "%sHTTP_PORT" $c.prefix) }}
  value: {{ $c.port | quote }}
- name: {{ if eq $c.prefix "OUTBOX_" }}OUTBOX_HTTP_HOST{{ else }}{{ $c.prefix }}HTTP_HOST{{ end }}
  value: "0.0.0.0"
{{- if $c.database }}
{{ include "abonent.databaseUrl" (dict "root" $root "var" $c.urlVar "database" $c.database) }}
{{- end }}
{{- if and $c.shared (not $root.Values.settings.auth.jwksUrl) }}
- name: ABONENT_AUTH_HS256_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "abonent.secretName" $root }}
      key: ABONENT_AUTH_HS256_SECRET
{{- end }}
{{- if $c.kafka }}
{{- if hasPrefix "SASL_" $root.Values.kafka.securityProtocol }}
- name: ABONENT_KAFKA_SASL_USERNAME
  value: {{ include "abonent.kafkaUser" (dict "root" $root "user" $c.kafka) | quote }}
- name: ABONENT_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "abonent.kafkaUser" (dict "root" $root "user" $c.kafka) }}
      key: password
{{- end }}
{{- if $root.Values.kafka.caSecret }}
- name: ABONENT_KAFKA_SSL_CAFILE
  value: /etc/abonent/kafka-ca/ca.crt
{{- end }}
{{- end }}
{{- if eq $c.values "notifier" }}
- name: NOTIFY_SMTP_HOST
  value: {{ $root.Values.smtp.host | quote }}
- name: NOTIFY_SMTP_PORT
  value: {{ $root.Values.smtp.port | quote }}
- name: NOTIFY_SMTP_TLS
  value: {{ $root.Values.smtp.tls | quote }}
- name: NOTIFY_FROM_EMAIL
  value: {{ $root.Values.smtp.fromEmail | quote }}
- name: NOTIFY_GENERAL_EMAIL
  value: {{ $root.Values.smtp.generalEmail | quote }}
- name: NOTIFY_LOCALE
  value: {{ $root.Values.smtp.locale | quote }}
{{- if $root.Values.smtp.username }}
- name: NOTIFY_SMTP_USERNAME
  value: {{ $root.Values.smtp.username | quote }}
- name: NOTIFY_SMTP_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "abonent.secretName" $root }}
      key: NOTIFY_SMTP_PASSWORD
{{- end }}
{{- end }}
{{- if eq $c.values "tickets" }}
- name: TICKETS_PROJECTIONS_URL
  value: {{ printf "http://%s-projections:8002" (include "abonent.fullname" $root) | quote }}
{{- end }}
{{- if eq $c.values "console" }}
{{- range $svc, $port := dict "contracts" 8001 "projections" 8002 "tickets" 8003 "notifier" 8004 }}
- name: {{ printf "CONSOLE_%s_URL" (upper $svc) }}
  value: {{ printf "http://%s-%s:%d" (include "abonent.fullname" $root) $svc (int $port) | quote }}
{{- end }}
{{- end }}
{{- if and $root.Values.components.relay.enabled (has $c.values (list "contracts" "tickets")) }}
- name: {{ $c.prefix }}RUN_RELAY
  value: "false"
{{- end }}
{{- range $name, $value := $values.env }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end }}
