# One province: the Keycloak realm, the MinIO buckets and the QLVB release, wired together.
# Every secret is generated here and lands in one Kubernetes Secret (qlvb-secrets) that the chart
# reads; the database roles are created with these passwords by the chart's bootstrap hook.

locals {
  services   = ["identity", "storage", "docs", "interchange"]
  role_kinds = { app = "", migration = "MIGRATION_", relay = "RELAY_" }
  role_names = { app = "app", migration = "owner", relay = "relay" }

  database_urls = {
    for pair in setproduct(local.services, keys(local.role_kinds)) :
    "QLVB_${upper(pair[0])}_${local.role_kinds[pair[1]]}DATABASE_URL" => format(
      "postgresql+asyncpg://qlvb_%s_%s:%s@%s:%d/%s?ssl=%s",
      pair[0], local.role_names[pair[1]],
      random_password.database["${pair[0]}-${pair[1]}"].result,
      var.postgresql.host, var.postgresql.port, var.postgresql.database, var.postgresql.sslmode,
    )
  }

  client_secrets = {
    for s in local.services : "QLVB_${upper(s)}_CLIENT_SECRET" => random_password.client[s].result
  }

  secret_values = merge(local.database_urls, local.client_secrets, {
    QLVB_REDIS_URL         = var.redis_url
    QLVB_S3_ACCESS_KEY     = module.buckets.access_key
    QLVB_S3_SECRET_KEY     = random_password.storage_s3.result
    QLVB_WEB_CLIENT_SECRET = random_password.web_client.result
    # A Fernet key (32 bytes, URL-safe base64) for the connector secrets. Rotation puts a new
    # key in front of this one (comma-separated) and runs `qlvb connector-keys rotate`.
    QLVB_INTERCHANGE_CONNECTOR_KEYS = replace(replace(random_bytes.connector_key.base64, "+", "-"), "/", "_")
    # The same for the server-held signing credentials of the docs service (ADR 0019).
    QLVB_DOCS_CREDENTIAL_KEYS = replace(replace(random_bytes.credential_key.base64, "+", "-"), "/", "_")
  })
}

provider "keycloak" {
  url       = var.keycloak_url
  client_id = "admin-cli"
  username  = var.keycloak_admin_user
  password  = var.keycloak_admin_password
}

provider "minio" {
  minio_server   = var.minio_server
  minio_user     = var.minio_admin_user
  minio_password = var.minio_admin_password
  minio_ssl      = true
}

provider "kubernetes" {
  config_path = var.kubeconfig
}

provider "helm" {
  kubernetes = {
    config_path = var.kubeconfig
  }
}

# URL-safe (they go into database URLs) and long instead of special.
resource "random_password" "database" {
  for_each = toset([for pair in setproduct(local.services, keys(local.role_kinds)) : "${pair[0]}-${pair[1]}"])

  length  = 40
  special = false
}

resource "random_password" "client" {
  for_each = toset(local.services)

  length  = 48
  special = false
}

resource "random_password" "web_client" {
  length  = 48
  special = false
}

resource "random_bytes" "connector_key" {
  length = 32
}

resource "random_bytes" "credential_key" {
  length = 32
}

resource "random_password" "storage_s3" {
  length  = 40
  special = false
}

module "realm" {
  source = "../../modules/keycloak-realm"

  keycloak_url           = var.keycloak_url
  public_url             = var.public_url
  service_client_secrets = { for s in local.services : s => random_password.client[s].result }
  web_client_secret      = random_password.web_client.result
  password_policy        = "length(12) and notUsername and passwordHistory(5)"
}

module "buckets" {
  source = "../../modules/minio-buckets"

  storage_secret_key = random_password.storage_s3.result
}

module "release" {
  source = "../../modules/qlvb-release"

  namespace     = var.namespace
  chart_path    = "${path.root}/../../../charts/qlvb"
  values_files  = ["${path.root}/../../../charts/qlvb/values-production.yaml"]
  image_tag     = var.image_tag
  secret_values = local.secret_values

  postgres_superuser_url = var.postgres_superuser_url

  values = {
    config = {
      publicUrl = var.public_url
      oidc      = { issuer = module.realm.issuer }
      s3 = {
        endpoint     = var.s3_endpoint
        bucket       = module.buckets.files_bucket
        lockedBucket = module.buckets.locked_bucket
      }
    }
    ingress = { host = trimprefix(var.public_url, "https://") }
  }
}
