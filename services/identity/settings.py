"""Settings of the identity service: `QLVB_IDENTITY_*` variables over `QLVB_*`."""

from __future__ import annotations

from services.common.settings import ServiceSettings, WebSettings, load_settings


class IdentitySettings(ServiceSettings, frozen=True, kw_only=True):
    # Web login (services/identity/login), `/auth/*` under `web.public_url`.
    web: WebSettings = WebSettings()
    # How long a started login may take (Keycloak form included) before its state expires.
    login_timeout_seconds: int = 900

    # The Keycloak push (services/identity/keycloak_sync), through the admin API as this
    # service's own account (client credentials). Empty: the server and realm of the issuer.
    keycloak_url: str = ""
    keycloak_realm: str = ""
    # Admin requests in flight at once, and accounts per page when listing the realm: Keycloak
    # loads a listed account's attributes with queries of their own, and a page of 1,000
    # accounts not in its cache costs about five times more per account than pages of 100.
    keycloak_sync_concurrency: int = 8
    keycloak_sync_page_size: int = 100

    @property
    def keycloak_server_url(self) -> str:
        if self.keycloak_url:
            return self.keycloak_url.rstrip("/") + "/"
        return self.oidc.issuer.split("/realms/", 1)[0].rstrip("/") + "/"

    @property
    def keycloak_realm_name(self) -> str:
        return self.keycloak_realm or self.oidc.issuer.rstrip("/").rsplit("/realms/", 1)[-1]

    @property
    def web_origin(self) -> str:
        return (self.web.public_url or f"http://{self.host}:{self.port}").rstrip("/")


def load() -> IdentitySettings:
    return load_settings(IdentitySettings, "identity")
