# The Secret the chart reads, then the release. Helm runs the database bootstrap and migration
# hooks before any new pod starts, and rolls back when they or the rollout fail (atomic).

resource "kubernetes_secret_v1" "qlvb" {
  metadata {
    name      = var.secret_name
    namespace = var.namespace
    labels = {
      "app.kubernetes.io/part-of"    = "qlvb"
      "app.kubernetes.io/managed-by" = "terraform"
    }
  }

  type = "Opaque"
  data = var.secret_values
}

resource "kubernetes_secret_v1" "postgres_superuser" {
  count = var.postgres_superuser_url == "" ? 0 : 1

  metadata {
    name      = "qlvb-pg-superuser"
    namespace = var.namespace
    labels = {
      "app.kubernetes.io/part-of"    = "qlvb"
      "app.kubernetes.io/managed-by" = "terraform"
    }
  }

  type = "Opaque"
  data = { uri = var.postgres_superuser_url }
}

resource "helm_release" "qlvb" {
  name      = var.release_name
  namespace = var.namespace
  chart     = var.chart_path

  values = concat(
    [for f in var.values_files : file(f)],
    [yamlencode(var.values)],
    [yamlencode({
      environment = "production"
      image       = { tag = var.image_tag }
      secrets     = { existingSecret = kubernetes_secret_v1.qlvb.metadata[0].name }
    })],
  )

  depends_on = [kubernetes_secret_v1.postgres_superuser]

  atomic          = true
  wait            = true
  timeout         = var.timeout_seconds
  cleanup_on_fail = true
  max_history     = 10

  # Pods read the Secret at start: a changed secret is rolled out by `kubectl rollout restart`
  # (docs/operations.md, Rotate secrets); the checksum below makes Helm do it.
  set = [
    {
      name  = "podAnnotations.qlvb\\.gov\\.vn/secret-checksum"
      value = nonsensitive(sha256(jsonencode(var.secret_values)))
    },
  ]
}
