"""Which roots an agency's signatures must chain to: the operator's (settings) and the agency's
own trust anchors (the demo CA of `qlvb seed-demo`; standards.md §7 asks for per-tenant
anchors). One `DocumentSigner` per distinct set of roots, kept for the process: it caches
certificate checks and signature sizes."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

from asn1crypto import x509  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.docs.signing import DocumentSigner, SigningSettings, TrustStore
from services.docs.signing.trust import load_certificates
from services.docs.tables import signing_trust_anchor


def certificates_from_files(paths: str) -> tuple[x509.Certificate, ...]:
    """Certificates from comma-separated PEM or DER files (a setting)."""
    return tuple(
        certificate
        for path in (p.strip() for p in paths.split(","))
        if path
        for certificate in load_certificates(Path(path).read_bytes())
    )


async def add_anchor(
    conn: AsyncConnection, tenant_id: uuid.UUID, certificate: x509.Certificate, name: str, by: str
) -> None:
    await conn.execute(
        insert(signing_trust_anchor)
        .values(
            tenant_id=tenant_id,
            sha256=hashlib.sha256(certificate.dump()).hexdigest(),
            name=name[:300],
            certificate=certificate.dump(),
            added_by=by,
        )
        .on_conflict_do_nothing()
    )


class Signers:
    def __init__(
        self,
        settings: SigningSettings,
        roots: tuple[x509.Certificate, ...] = (),
        intermediates: tuple[x509.Certificate, ...] = (),
    ) -> None:
        self.settings = settings
        self.roots = roots
        self.intermediates = intermediates
        self._signers: dict[frozenset[bytes], DocumentSigner] = {}

    async def trust(self, conn: AsyncConnection, tenant_id: uuid.UUID) -> TrustStore:
        anchors = (
            await conn.execute(
                select(signing_trust_anchor.c.certificate)
                .where(signing_trust_anchor.c.tenant_id == tenant_id)
                .order_by(signing_trust_anchor.c.sha256)
            )
        ).scalars()
        roots = self.roots + tuple(x509.Certificate.load(bytes(a)) for a in anchors)
        return TrustStore(roots=roots, intermediates=self.intermediates)

    async def signer(self, conn: AsyncConnection, tenant_id: uuid.UUID) -> DocumentSigner:
        trust = await self.trust(conn, tenant_id)
        key = frozenset(c.sha256 for c in trust.roots)
        signer = self._signers.get(key)
        if signer is None:
            signer = DocumentSigner(trust, self.settings)
            self._signers[key] = signer
        return signer
