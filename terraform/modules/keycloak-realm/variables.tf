variable "realm" {
  description = "The realm name; one realm per deployment (a province). The issuer is <keycloak_url>/realms/<realm>."
  type        = string
  default     = "qlvb"
}

variable "keycloak_url" {
  description = "Keycloak's public base URL, as browsers and tokens see it (https://sso.example.gov.vn)."
  type        = string
}

variable "public_url" {
  description = "QLVB's public origin (https://qlvb.example.gov.vn): redirect, logout and back-channel URLs of the web client."
  type        = string

  validation {
    condition     = can(regex("^https://[^/]+$", var.public_url))
    error_message = "public_url must be https://<host>, without a path or trailing slash."
  }
}

variable "backchannel_logout_url" {
  description = "Where Keycloak sends back-channel logouts. Empty: <public_url>/auth/backchannel-logout (through the ingress, which the chart's NetworkPolicy admits)."
  type        = string
  default     = ""
}

variable "service_client_secrets" {
  description = "Client secret of each service's confidential client, by service: docs, identity, storage, interchange."
  type        = map(string)
  sensitive   = true

  validation {
    condition     = length(setsubtract(["docs", "identity", "storage", "interchange"], keys(var.service_client_secrets))) == 0
    error_message = "service_client_secrets needs a secret for each of docs, identity, storage and interchange."
  }
}

variable "web_client_secret" {
  description = "Client secret of qlvb-web, the confidential client the identity service logs browsers in through."
  type        = string
  sensitive   = true
}

# Realm settings, as in devstack/keycloak/qlvb-realm.json.
variable "display_name" {
  type    = string
  default = "QLVB"
}

variable "display_name_html" {
  type    = string
  default = "Hệ thống Quản lý văn bản và Điều hành"
}

variable "access_token_lifespan" {
  description = "Access tokens are verified locally by the services; short lifetimes bound a stolen token."
  type        = string
  default     = "5m"
}

variable "sso_session_idle_timeout" {
  type    = string
  default = "30m"
}

variable "sso_session_max_lifespan" {
  type    = string
  default = "10h"
}

variable "password_policy" {
  description = "Keycloak password policy. The local realm uses length(8); a province should ask for more."
  type        = string
  default     = "length(8)"
}
