variable "province" {
  description = "Short name of the province, used in descriptions only."
  type        = string
  default     = "example"
}

variable "public_url" {
  description = "QLVB's public origin: https://qlvb.<province>.gov.vn"
  type        = string
}

variable "keycloak_url" {
  description = "Keycloak's public base URL: https://sso.<province>.gov.vn"
  type        = string
}

variable "keycloak_admin_user" {
  type = string
}

variable "keycloak_admin_password" {
  type      = string
  sensitive = true
}

variable "minio_server" {
  description = "host:port of the MinIO tenant's S3 API, as terraform reaches it."
  type        = string
}

variable "minio_admin_user" {
  type = string
}

variable "minio_admin_password" {
  type      = string
  sensitive = true
}

variable "kubeconfig" {
  description = "Path of the kubeconfig for the province's cluster."
  type        = string
  default     = "~/.kube/config"
}

variable "namespace" {
  type    = string
  default = "qlvb"
}

variable "image_tag" {
  description = "The QLVB release to deploy."
  type        = string
}

variable "postgresql" {
  description = "The CloudNativePG cluster's read-write service, and the database the services share."
  type = object({
    host     = string
    port     = number
    database = string
    sslmode  = string
  })
  default = {
    host     = "qlvb-pg-rw.qlvb-data.svc"
    port     = 5432
    database = "qlvb"
    sslmode  = "require"
  }
}

variable "postgres_superuser_url" {
  description = "postgresql://postgres:<password>@<host>:5432/postgres, for the chart's database bootstrap hook (CloudNativePG: enableSuperuserAccess, secret <cluster>-superuser)."
  type        = string
  sensitive   = true
}

variable "redis_url" {
  description = "rediss://:<password>@<host>:6379/0 (sessions, caches, queues and streams)."
  type        = string
  sensitive   = true
}

variable "s3_endpoint" {
  description = "host:port of the MinIO tenant as the storage pods reach it."
  type        = string
  default     = "minio.qlvb-minio.svc:443"
}
