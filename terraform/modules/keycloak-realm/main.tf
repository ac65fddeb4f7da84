# The QLVB realm: what devstack/keycloak/qlvb-realm.json holds for the local stack, minus the
# clients marked "never in production" (qlvb-dev-cli, qlvb-dev-shortlived, qlvb-web-test).
# tests/deploy/test_terraform.py checks that the two agree.

locals {
  services = ["docs", "identity", "storage", "interchange"]

  # Every client whose tokens the services accept: each carries all four service audiences,
  # the memberships claim and the full name.
  token_clients = merge(
    { for s in local.services : s => keycloak_openid_client.service[s].id },
    { web = keycloak_openid_client.web.id },
  )

  audience_mappers = {
    for pair in setproduct(keys(local.token_clients), local.services) :
    "${pair[0]}-${pair[1]}" => { client = pair[0], audience = pair[1] }
  }

  # The identity service pushes people and memberships into the realm (keycloak_sync).
  identity_admin_roles = ["manage-users", "view-users", "query-users", "query-groups", "view-realm"]
}

resource "keycloak_realm" "this" {
  realm             = var.realm
  enabled           = true
  display_name      = var.display_name
  display_name_html = var.display_name_html

  ssl_required             = "external"
  registration_allowed     = false
  login_with_email_allowed = true
  duplicate_emails_allowed = false
  reset_password_allowed   = false
  edit_username_allowed    = false

  access_token_lifespan    = var.access_token_lifespan
  sso_session_idle_timeout = var.sso_session_idle_timeout
  sso_session_max_lifespan = var.sso_session_max_lifespan
  password_policy          = var.password_policy

  internationalization {
    supported_locales = ["vi", "en"]
    default_locale    = "vi"
  }

  # bruteForceProtected in the realm file, with Keycloak's default thresholds.
  security_defenses {
    brute_force_detection {
      max_login_failures         = 30
      wait_increment_seconds     = 60
      max_failure_wait_seconds   = 900
      failure_reset_time_seconds = 43200
    }
  }
}

resource "keycloak_role" "platform_operator" {
  realm_id    = keycloak_realm.this.id
  name        = "platform-operator"
  description = "Vận hành nền tảng (ICT center operator)"
}

# One confidential client per service, with a service account only (calls between services).
resource "keycloak_openid_client" "service" {
  for_each = toset(local.services)

  realm_id                     = keycloak_realm.this.id
  client_id                    = "qlvb-${each.key}"
  name                         = "QLVB ${each.key}"
  enabled                      = true
  access_type                  = "CONFIDENTIAL"
  client_authenticator_type    = "client-secret"
  client_secret                = var.service_client_secrets[each.key]
  standard_flow_enabled        = false
  implicit_flow_enabled        = false
  direct_access_grants_enabled = false
  service_accounts_enabled     = true
  full_scope_allowed           = true
}

# The web login (services/identity/login): authorization code with PKCE S256, back-channel logout.
resource "keycloak_openid_client" "web" {
  realm_id                     = keycloak_realm.this.id
  client_id                    = "qlvb-web"
  name                         = "QLVB web"
  enabled                      = true
  access_type                  = "CONFIDENTIAL"
  client_authenticator_type    = "client-secret"
  client_secret                = var.web_client_secret
  standard_flow_enabled        = true
  implicit_flow_enabled        = false
  direct_access_grants_enabled = false
  service_accounts_enabled     = false
  full_scope_allowed           = true
  pkce_code_challenge_method   = "S256"

  valid_redirect_uris             = ["${var.public_url}/auth/callback"]
  valid_post_logout_redirect_uris = ["${var.public_url}/*"]
  web_origins                     = ["+"]

  frontchannel_logout_enabled                = false
  backchannel_logout_url                     = coalesce(var.backchannel_logout_url, "${var.public_url}/auth/backchannel-logout")
  backchannel_logout_session_required        = true
  backchannel_logout_revoke_offline_sessions = false
}

resource "keycloak_openid_audience_protocol_mapper" "audience" {
  for_each = local.audience_mappers

  realm_id                   = keycloak_realm.this.id
  client_id                  = local.token_clients[each.value.client]
  name                       = "audience-qlvb-${each.value.audience}"
  included_client_audience   = keycloak_openid_client.service[each.value.audience].client_id
  add_to_id_token            = false
  add_to_access_token        = true
  add_to_token_introspection = true
}

# memberships: [{agency_id, agency_code, roles}], from the user attribute `membership` that the
# identity service writes (one JSON document per membership).
resource "keycloak_openid_user_attribute_protocol_mapper" "memberships" {
  for_each = local.token_clients

  realm_id                   = keycloak_realm.this.id
  client_id                  = each.value
  name                       = "memberships"
  user_attribute             = "membership"
  claim_name                 = "memberships"
  claim_value_type           = "JSON"
  multivalued                = true
  aggregate_attributes       = false
  add_to_id_token            = true
  add_to_access_token        = true
  add_to_userinfo            = true
  add_to_token_introspection = true
}

resource "keycloak_openid_full_name_protocol_mapper" "full_name" {
  for_each = local.token_clients

  realm_id            = keycloak_realm.this.id
  client_id           = each.value
  name                = "full name"
  add_to_id_token     = true
  add_to_access_token = true
  add_to_userinfo     = true
}

data "keycloak_openid_client" "realm_management" {
  realm_id  = keycloak_realm.this.id
  client_id = "realm-management"
}

resource "keycloak_openid_client_service_account_role" "identity_admin" {
  for_each = toset(local.identity_admin_roles)

  realm_id                = keycloak_realm.this.id
  service_account_user_id = keycloak_openid_client.service["identity"].service_account_user_id
  client_id               = data.keycloak_openid_client.realm_management.id
  role                    = each.key
}

# The declarative user profile: the `membership` attribute is managed, visible and editable by
# administrators only (people never edit their own memberships).
resource "keycloak_realm_user_profile" "this" {
  realm_id                   = keycloak_realm.this.id
  unmanaged_attribute_policy = "ADMIN_VIEW"

  attribute {
    name         = "username"
    display_name = "$${username}"

    permissions {
      view = ["admin", "user"]
      edit = ["admin"]
    }

    validator {
      name   = "length"
      config = { min = "3", max = "255" }
    }
    validator {
      name = "username-prohibited-characters"
    }
    validator {
      name = "up-username-not-idn-homograph"
    }
  }

  attribute {
    name         = "email"
    display_name = "$${email}"

    permissions {
      view = ["admin", "user"]
      edit = ["admin"]
    }

    validator {
      name = "email"
    }
    validator {
      name   = "length"
      config = { max = "255" }
    }
  }

  attribute {
    name         = "firstName"
    display_name = "$${firstName}"

    permissions {
      view = ["admin", "user"]
      edit = ["admin"]
    }

    validator {
      name   = "length"
      config = { max = "255" }
    }
    validator {
      name = "person-name-prohibited-characters"
    }
  }

  attribute {
    name         = "lastName"
    display_name = "$${lastName}"

    permissions {
      view = ["admin", "user"]
      edit = ["admin"]
    }

    validator {
      name   = "length"
      config = { max = "255" }
    }
    validator {
      name = "person-name-prohibited-characters"
    }
  }

  attribute {
    name         = "membership"
    display_name = "QLVB memberships"
    multi_valued = true

    permissions {
      view = ["admin"]
      edit = ["admin"]
    }

    validator {
      name   = "length"
      config = { max = "2000" }
    }
  }

  group {
    name                = "user-metadata"
    display_header      = "User metadata"
    display_description = "Attributes, which refer to user metadata"
  }
}
