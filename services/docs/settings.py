"""Settings of the docs service: `QLVB_DOCS_*` variables over `QLVB_*`."""

from __future__ import annotations

from services.common.settings import ServiceSettings, WebSettings, load_settings


class DocsSettings(ServiceSettings, frozen=True, kw_only=True):
    # The identity service (who works in which agency).
    identity_url: str = "http://127.0.0.1:8102"
    # The storage service (files of documents, derived OCR files).
    storage_url: str = "http://127.0.0.1:8103"
    # The web pages (services/docs/web) resolve the session cookie the identity login set.
    web: WebSettings = WebSettings()

    @property
    def web_origin(self) -> str:
        return (self.web.public_url or f"http://{self.host}:{self.port}").rstrip("/")


def load() -> DocsSettings:
    return load_settings(DocsSettings, "docs")
