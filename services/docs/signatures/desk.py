"""The mechanics every signing step shares: the trust and signer of an agency, its credentials,
and the files (read the PDF to sign, store what was signed as a new object, lock what was
issued). The outgoing flow (services/docs/outgoing/signing.py) decides who signs what, when."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Protocol

from services.common.db import Database
from services.common.secretbox import SecretBox, development_key, parse_keys
from services.docs.settings import DocsSettings
from services.docs.signatures.credentials import CredentialStore
from services.docs.signatures.trust import Signers, certificates_from_files
from services.docs.signing import DocumentSigner, SigningSettings

PDF = "application/pdf"
MAX_PDF_BYTES = 64 << 20


class SignedFiles(Protocol):
    """What the flow needs of the storage service (StorageClient)."""

    async def read(
        self, tenant_id: uuid.UUID, object_id: uuid.UUID, sha256: str, max_bytes: int
    ) -> bytes: ...

    async def store(
        self, tenant_id: uuid.UUID, data: bytes, file_name: str, content_type: str
    ) -> dict[str, Any]: ...

    async def lock(self, tenant_id: uuid.UUID, object_id: uuid.UUID, until: dt.date) -> None: ...


def credential_box(settings: DocsSettings) -> SecretBox | None:
    """The Fernet keys of server-held keys; outside production one is derived when none is
    configured, in production none means the server holds no keys."""
    keys = parse_keys(settings.credential_keys)
    if not keys and settings.environment != "production":
        keys = [development_key("qlvb-docs-credentials", settings.client_secret)]
    return SecretBox(keys, what="QLVB_DOCS_CREDENTIAL_KEYS") if keys else None


def signers_from_settings(settings: DocsSettings) -> Signers:
    """The agencies' signers and trust stores over the operator's roots (settings); the web
    check, the API and the worker's validation all trust exactly these."""
    return Signers(
        SigningSettings(
            tsa_url=settings.signing_tsa_url or None,
            fresh_auth_seconds=settings.signing_fresh_auth_seconds,
        ),
        roots=certificates_from_files(settings.signing_trust_roots),
        intermediates=certificates_from_files(settings.signing_intermediates),
    )


class SignatureDesk:
    def __init__(
        self,
        db: Database,
        files: SignedFiles,
        credentials: CredentialStore,
        signers: Signers,
        *,
        retention_days: int = 3650,
    ) -> None:
        self.db = db
        self.files = files
        self.credentials = credentials
        self.signers = signers
        self.retention_days = retention_days

    @classmethod
    def from_settings(
        cls, settings: DocsSettings, db: Database, files: SignedFiles
    ) -> SignatureDesk:
        return cls(
            db,
            files,
            CredentialStore(db, credential_box(settings)),
            signers_from_settings(settings),
            retention_days=settings.issued_retention_days,
        )

    @property
    def timestamps(self) -> bool:
        return self.signers.settings.tsa_url is not None

    async def signer(self, tenant_id: uuid.UUID) -> DocumentSigner:
        async with self.db.transaction(tenant_id, read_only=True) as conn:
            return await self.signers.signer(conn, tenant_id)

    async def read(self, tenant_id: uuid.UUID, object_id: uuid.UUID, sha256: str) -> bytes:
        return await self.files.read(tenant_id, object_id, sha256, MAX_PDF_BYTES)

    async def store(self, tenant_id: uuid.UUID, data: bytes, file_name: str) -> dict[str, Any]:
        return await self.files.store(tenant_id, data, file_name, PDF)

    async def lock(self, tenant_id: uuid.UUID, object_id: uuid.UUID, issued_on: dt.date) -> None:
        until = issued_on + dt.timedelta(days=self.retention_days)
        await self.files.lock(tenant_id, object_id, until)
