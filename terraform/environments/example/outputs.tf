output "issuer" {
  value = module.realm.issuer
}

output "release" {
  value = module.release.release
}

output "secret_keys" {
  description = "The keys of qlvb-secrets (the values stay in the state)."
  value       = sort(keys(local.secret_values))
}
