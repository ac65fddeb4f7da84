output "realm" {
  value = keycloak_realm.this.realm
}

output "issuer" {
  description = "config.oidc.issuer of the chart: the issuer exactly as tokens carry it."
  value       = "${trimsuffix(var.keycloak_url, "/")}/realms/${keycloak_realm.this.realm}"
}

output "service_client_ids" {
  value = { for s, c in keycloak_openid_client.service : s => c.client_id }
}

output "web_client_id" {
  value = keycloak_openid_client.web.client_id
}
