output "release" {
  value = {
    name      = helm_release.qlvb.name
    namespace = helm_release.qlvb.namespace
    revision  = helm_release.qlvb.metadata.revision
    version   = helm_release.qlvb.metadata.app_version
  }
}
