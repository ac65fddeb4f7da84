"""Settings of the docs service: `QLVB_DOCS_*` variables over `QLVB_*`."""

from __future__ import annotations

from services.common.settings import ServiceSettings, WebSettings, load_settings


class DocsSettings(ServiceSettings, frozen=True, kw_only=True):
    # The identity service (who works in which agency).
    identity_url: str = "http://127.0.0.1:8102"
    # The storage service (files of documents, derived OCR files).
    storage_url: str = "http://127.0.0.1:8103"
    # The interchange service: the administration pages show its connectors and dead letters.
    interchange_url: str = "http://127.0.0.1:8104"
    # Signing (ADR 0019): roots every agency trusts and CA certificates that help build chains
    # (PEM files, comma-separated; agencies may add roots of their own, see the trust anchors),
    # and the RFC 3161 time-stamping authority (empty: signatures without a timestamp).
    signing_trust_roots: str = ""
    signing_intermediates: str = ""
    signing_tsa_url: str = ""
    # A signature needs a recent login (issue 6, "a fresh authentication"): the person's last
    # authentication (`auth_time`) at most this many seconds ago, otherwise they log in again.
    signing_fresh_auth_seconds: int = 900
    # Fernet keys of the server-held PKCS#12 credentials, newest first; outside production one
    # is derived from the client secret when none is set. Empty in production: only keys that
    # sign elsewhere (USB tokens, remote signing) can be used.
    credential_keys: str = ""
    # How long the signed file of an issued document stays under object lock.
    issued_retention_days: int = 3650
    # The web pages (services/docs/web) resolve the session cookie the identity login set.
    web: WebSettings = WebSettings()

    @property
    def web_origin(self) -> str:
        return (self.web.public_url or f"http://{self.host}:{self.port}").rstrip("/")


def load() -> DocsSettings:
    return load_settings(DocsSettings, "docs")
