variable "namespace" {
  description = "Namespace of the release; created outside (it carries the Pod Security labels)."
  type        = string
  default     = "qlvb"
}

variable "release_name" {
  type    = string
  default = "qlvb"
}

variable "chart_path" {
  description = "charts/qlvb of the QLVB repository at the version being deployed."
  type        = string
}

variable "values_files" {
  description = "Values files, applied in order (e.g. charts/qlvb/values-production.yaml, then the province's own)."
  type        = list(string)
  default     = []
}

variable "values" {
  description = "Values applied last, as an object (e.g. the issuer and the public URL from the other modules)."
  type        = any
  default     = {}
}

variable "image_tag" {
  description = "The QLVB image tag (a release version, never latest)."
  type        = string

  validation {
    condition     = var.image_tag != "" && var.image_tag != "latest"
    error_message = "image_tag must name a release: latest is refused in production."
  }
}

variable "secret_name" {
  description = "The Secret the chart reads (secrets.existingSecret)."
  type        = string
  default     = "qlvb-secrets"
}

variable "secret_values" {
  description = "The Secret's keys, named after the variables the pods read (docs/operations.md, Secrets)."
  type        = map(string)
  sensitive   = true
}

variable "timeout_seconds" {
  description = "How long Helm waits: the migration hooks run first, then the rollout."
  type        = number
  default     = 1800
}

variable "postgres_superuser_url" {
  description = "When set, the Secret qlvb-pg-superuser (key uri) that the chart's database bootstrap hook reads (databaseBootstrap.existingSecret in values-production.yaml). Empty: provide it yourself, e.g. mirrored from CloudNativePG's <cluster>-superuser."
  type        = string
  default     = ""
  sensitive   = true
}
