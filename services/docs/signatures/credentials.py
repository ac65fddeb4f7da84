"""Signing credentials: who may sign with which certificate, and the server-held keys.

A credential binds a certificate to a person of the agency (initials, the leader's signature)
or to the agency itself (its seal, applied by the clerks). Enrolling it is the binding: the
agency's people register their own certificate, the agency's admin registers the seal; at
signing time the certificate used must be the one enrolled for the signer. Names in
certificates are not compared with the directory's: real certificates write names without
diacritics, in capitals, with titles, and two people may share a name.

A server-held key is a PKCS#12 file whose passphrase is the signer's PIN, stored encrypted
again with the service's Fernet keys (as ADR 0016 does for connector secrets): a database dump
alone does not give a key to guess PINs against. Five wrong PINs in a row lock the credential
until it is enrolled again, as a USB token locks itself."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec
from asn1crypto import pem, x509  # type: ignore[import-untyped]
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.db import Database
from services.common.problems import InvalidInput
from services.common.secretbox import SecretBox, SecretUnreadable
from services.docs.signatures.errors import CredentialLocked, NoCredential, ServerKeysDisabled
from services.docs.signing import Pkcs12Key, RemoteKey
from services.docs.signing.errors import KeyUsageMissing, WrongPin
from services.docs.signing.images import load_png
from services.docs.signing.trust import has_signing_key_usage, load_certificates
from services.docs.signing.validation import certificate_info
from services.docs.tables import signing_credential

PERSON, AGENCY = "person", "agency"
PKCS12, REMOTE = "pkcs12", "remote"
MAX_PIN_ATTEMPTS = 5
MAX_IMAGE_BYTES = 2 << 20


class Credential(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    owner_kind: str
    owner: str
    method: str
    display_name: str
    position: str
    certificate: bytes  # DER
    chain: bytes  # PEM
    certificate_sha256: str
    subject: str
    serial: str
    issuer: str
    not_after: dt.datetime
    image_png: bytes
    initials_png: bytes | None
    failed_attempts: int
    created_by: str

    def parsed_certificate(self) -> x509.Certificate:
        return x509.Certificate.load(self.certificate)

    def chain_certificates(self) -> list[x509.Certificate]:
        return load_certificates(self.chain) if self.chain else []

    def remote_key(self) -> RemoteKey:
        return RemoteKey(self.parsed_certificate(), self.chain_certificates())


class CredentialView(msgspec.Struct, frozen=True, kw_only=True):
    """A credential as the API shows it: never the key."""

    id: uuid.UUID
    owner_kind: str
    owner: str
    method: str
    display_name: str
    position: str
    subject: str
    serial: str
    issuer: str
    not_after: dt.datetime
    certificate_sha256: str
    locked: bool


def view(credential: Credential) -> CredentialView:
    return CredentialView(
        id=credential.id,
        owner_kind=credential.owner_kind,
        owner=credential.owner,
        method=credential.method,
        display_name=credential.display_name,
        position=credential.position,
        subject=credential.subject,
        serial=credential.serial,
        issuer=credential.issuer,
        not_after=credential.not_after,
        certificate_sha256=credential.certificate_sha256,
        locked=credential.failed_attempts >= MAX_PIN_ATTEMPTS,
    )


def _credential(row: Any) -> Credential:
    return Credential(
        id=row.id,
        owner_kind=row.owner_kind,
        owner=row.owner,
        method=row.method,
        display_name=row.display_name,
        position=row.position,
        certificate=bytes(row.certificate),
        chain=bytes(row.chain),
        certificate_sha256=row.certificate_sha256,
        subject=row.subject,
        serial=row.serial,
        issuer=row.issuer,
        not_after=row.not_after,
        image_png=bytes(row.image_png),
        initials_png=bytes(row.initials_png) if row.initials_png is not None else None,
        failed_attempts=row.failed_attempts,
        created_by=row.created_by,
    )


def chain_pem(chain: list[x509.Certificate]) -> bytes:
    return b"".join(pem.armor("CERTIFICATE", c.dump()) for c in chain)


def check_image(data: bytes | None, what_vi: str) -> None:
    if data is None:
        return
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidInput(f"Ảnh {what_vi} quá lớn (tối đa 2 MB).", "The image is too large.")
    load_png(data)  # refuses what it cannot decode


def _owner_key(owner_kind: str, owner: str) -> tuple[str, str]:
    return owner_kind, (owner if owner_kind == PERSON else "")


async def enroll(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    owner_kind: str,
    owner: str,
    display_name: str,
    position: str,
    certificate: x509.Certificate,
    chain: list[x509.Certificate],
    image_png: bytes,
    initials_png: bytes | None,
    sealed_key: bytes | None,
    created_by: str,
) -> Credential:
    """Make this the owner's credential in use, in the caller's transaction; the one it
    replaces stays on record, inactive (earlier signatures name its certificate)."""
    if not has_signing_key_usage(certificate):
        raise KeyUsageMissing(
            "Chứng thư số này không có mục đích sử dụng 'ký số' (digitalSignature).",
            "The certificate's key usage does not include digitalSignature.",
        )
    check_image(image_png, "chữ ký hoặc con dấu")
    check_image(initials_png, "chữ ký nháy")
    kind, who = _owner_key(owner_kind, owner)
    info = certificate_info(certificate)
    # Two enrolments of one owner at once would each retire the old credential and insert a
    # new one; the second insert would then break the one-active-credential index.
    await conn.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(f"{tenant_id}:{kind}:{who}", 0)))
    )
    await conn.execute(
        update(signing_credential)
        .where(
            signing_credential.c.tenant_id == tenant_id,
            signing_credential.c.owner_kind == kind,
            signing_credential.c.owner == who,
            signing_credential.c.active.is_(True),
        )
        .values(active=False)
    )
    row = (
        await conn.execute(
            insert(signing_credential)
            .values(
                tenant_id=tenant_id,
                id=uuid.uuid4(),
                owner_kind=kind,
                owner=who,
                method=PKCS12 if sealed_key is not None else REMOTE,
                display_name=display_name.strip(),
                position=position.strip(),
                certificate=certificate.dump(),
                chain=chain_pem([c for c in chain if c.dump() != certificate.dump()]),
                certificate_sha256=info.sha256,
                subject=info.subject,
                serial=info.serial,
                issuer=info.issuer_subject,
                not_after=info.not_after,
                sealed_key=sealed_key,
                image_png=image_png,
                initials_png=initials_png,
                created_by=created_by,
            )
            .returning(*signing_credential.c)
        )
    ).one()
    return _credential(row)


async def active(
    conn: AsyncConnection, tenant_id: uuid.UUID, owner_kind: str, owner: str
) -> Credential | None:
    kind, who = _owner_key(owner_kind, owner)
    row = (
        await conn.execute(
            select(signing_credential).where(
                signing_credential.c.tenant_id == tenant_id,
                signing_credential.c.owner_kind == kind,
                signing_credential.c.owner == who,
                signing_credential.c.active.is_(True),
            )
        )
    ).one_or_none()
    return _credential(row) if row is not None else None


async def listed(conn: AsyncConnection, tenant_id: uuid.UUID) -> list[Credential]:
    rows = await conn.execute(
        select(signing_credential)
        .where(signing_credential.c.tenant_id == tenant_id, signing_credential.c.active.is_(True))
        .order_by(signing_credential.c.owner_kind, signing_credential.c.owner)
    )
    return [_credential(r) for r in rows]


def no_credential(owner_kind: str, name: str) -> NoCredential:
    if owner_kind == AGENCY:
        return NoCredential(
            "Cơ quan chưa đăng ký chứng thư số (con dấu điện tử) để văn thư ký số.",
            "The agency has no enrolled seal certificate.",
        )
    return NoCredential(
        f"{name} chưa đăng ký chứng thư số để ký.", f"{name} has no enrolled certificate."
    )


class CredentialStore:
    """Enrolment and use of the credentials; `box` is None where the server holds no keys."""

    def __init__(self, db: Database, box: SecretBox | None) -> None:
        self.db = db
        self.box = box

    def _require_box(self) -> SecretBox:
        if self.box is None:
            raise ServerKeysDisabled(
                "Máy chủ không được cấu hình để giữ khóa ký số; hãy ký bằng thiết bị ký số "
                "(USB token) hoặc dịch vụ ký số từ xa.",
                "This server holds no signing keys (no credential keys configured); sign "
                "with a token or a remote signing service.",
            )
        return self.box

    def seal_key(self, pkcs12: bytes, pin: str) -> tuple[Pkcs12Key, bytes]:
        """Open the PKCS#12 with the PIN (it must open) and encrypt it for storage."""
        key = Pkcs12Key.from_bytes(pkcs12, pin.encode())
        return key, self._require_box().encrypt(pkcs12)

    async def enroll_pkcs12(
        self,
        tenant_id: uuid.UUID,
        *,
        owner_kind: str,
        owner: str,
        display_name: str,
        position: str,
        pkcs12: bytes,
        pin: str,
        image_png: bytes,
        initials_png: bytes | None,
        created_by: str,
    ) -> Credential:
        key, sealed = self.seal_key(pkcs12, pin)
        async with self.db.transaction(tenant_id) as conn:
            return await enroll(
                conn,
                tenant_id,
                owner_kind=owner_kind,
                owner=owner,
                display_name=display_name,
                position=position,
                certificate=key.certificate,
                chain=list(key.chain),
                image_png=image_png,
                initials_png=initials_png,
                sealed_key=sealed,
                created_by=created_by,
            )

    async def enroll_certificate(
        self,
        tenant_id: uuid.UUID,
        *,
        owner_kind: str,
        owner: str,
        display_name: str,
        position: str,
        certificates: bytes,
        image_png: bytes,
        initials_png: bytes | None,
        created_by: str,
    ) -> Credential:
        """A key that signs elsewhere: the certificate first, then the CAs above it (PEM or
        one DER certificate)."""
        try:
            certificate, *chain = load_certificates(certificates)
        except (ValueError, TypeError) as exc:
            raise InvalidInput(
                "Không đọc được chứng thư số (PEM hoặc DER).", "Unreadable certificate."
            ) from exc
        async with self.db.transaction(tenant_id) as conn:
            return await enroll(
                conn,
                tenant_id,
                owner_kind=owner_kind,
                owner=owner,
                display_name=display_name,
                position=position,
                certificate=certificate,
                chain=chain,
                image_png=image_png,
                initials_png=initials_png,
                sealed_key=None,
                created_by=created_by,
            )

    async def unlock(self, tenant_id: uuid.UUID, credential: Credential, pin: str) -> Pkcs12Key:
        """The server-held key of `credential`, opened with the signer's PIN."""
        if credential.method != PKCS12:
            raise ServerKeysDisabled(
                "Chứng thư số này ký trên thiết bị của người ký; hãy ký hai bước "
                "(chuẩn bị, rồi gửi chữ ký).",
                "This certificate signs on the signer's device; use prepare and complete.",
            )
        if credential.failed_attempts >= MAX_PIN_ATTEMPTS:
            raise _locked()
        box = self._require_box()
        async with self.db.transaction(tenant_id, read_only=True) as conn:
            sealed = (
                await conn.execute(
                    select(signing_credential.c.sealed_key).where(
                        signing_credential.c.tenant_id == tenant_id,
                        signing_credential.c.id == credential.id,
                    )
                )
            ).scalar_one()
        try:
            pkcs12 = box.decrypt(bytes(sealed))
        except SecretUnreadable as exc:
            raise ServerKeysDisabled(
                "Khóa ký số được mã hóa bằng khóa máy chủ không còn được cấu hình; hãy đăng ký "
                "lại chứng thư số.",
                "The key was encrypted with a server key that is no longer configured.",
            ) from exc
        try:
            key = Pkcs12Key.from_bytes(pkcs12, pin.encode())
        except WrongPin:
            attempts = await self._count_failure(tenant_id, credential.id)
            if attempts >= MAX_PIN_ATTEMPTS:
                raise _locked() from None
            left = MAX_PIN_ATTEMPTS - attempts
            raise WrongPin(
                f"Mã PIN không đúng; còn {left} lần thử trước khi khóa ký số bị tạm khóa.",
                f"Wrong PIN; {left} attempts left before the key is locked.",
                attempts_left=left,
            ) from None
        if credential.failed_attempts:
            async with self.db.transaction(tenant_id) as conn:
                await conn.execute(
                    update(signing_credential)
                    .where(
                        signing_credential.c.tenant_id == tenant_id,
                        signing_credential.c.id == credential.id,
                    )
                    .values(failed_attempts=0)
                )
        return key

    async def _count_failure(self, tenant_id: uuid.UUID, credential_id: uuid.UUID) -> int:
        async with self.db.transaction(tenant_id) as conn:
            return int(
                (
                    await conn.execute(
                        update(signing_credential)
                        .where(
                            signing_credential.c.tenant_id == tenant_id,
                            signing_credential.c.id == credential_id,
                        )
                        .values(
                            failed_attempts=func.least(
                                signing_credential.c.failed_attempts + 1, MAX_PIN_ATTEMPTS
                            )
                        )
                        .returning(signing_credential.c.failed_attempts)
                    )
                ).scalar_one()
            )


def _locked() -> CredentialLocked:
    return CredentialLocked(
        f"Khóa ký số đã bị tạm khóa vì nhập sai mã PIN {MAX_PIN_ATTEMPTS} lần liên tiếp; hãy "
        "đăng ký lại chứng thư số.",
        f"The key is locked after {MAX_PIN_ATTEMPTS} wrong PINs in a row; enroll it again.",
    )
