"""Login for the web UI: OIDC authorization code with PKCE against Keycloak, server-side
sessions in Redis, back-channel logout and the agency switcher (issue 3, part 5)."""
