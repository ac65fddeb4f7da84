"""Settings of the docs service: `QLVB_DOCS_*` variables over `QLVB_*`."""

from __future__ import annotations

from services.common.settings import ServiceSettings, load_settings


class DocsSettings(ServiceSettings, frozen=True, kw_only=True):
    # The identity service (who works in which agency).
    identity_url: str = "http://127.0.0.1:8102"
    # The storage service (files of documents, derived OCR files).
    storage_url: str = "http://127.0.0.1:8103"


def load() -> DocsSettings:
    return load_settings(DocsSettings, "docs")
