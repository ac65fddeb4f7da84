"""Signatures in the outgoing flow (NĐ 30/2020, Điều 5, 13-17, 32; ADR 0019).

On each version of a draft, in this order: the reviewers' initials (ký nháy) while their review
step is pending; the competent person's signature, which also approves the draft when the
approval step is pending; at issue, the number and date written into the PDF and the agency's
signature applied by a clerk. Every signature extends the file as an incremental update and is
stored as a new object; `outgoing_signature` records it.

A key the server holds (PKCS#12 opened with the signer's PIN) signs in one request. A key it
does not hold (a USB token behind the desktop plugin, a remote signing service) signs in two:
`prepare` returns what to sign and keeps the prepared PDF in `signing_session`; `complete`
checks the returned signature against it and embeds it.

No lock is held while signing: network calls (storage, TSA, OCSP) take time. Each step plans
from the database, signs, and records in a new transaction that checks nothing moved in
between (same version, same file); a field is signed once (a unique key). The number stamped
before the agency's signature is set aside for the document first (a number reservation), so
numbering stays gapless however the signing ends."""

# mypy: disable-error-code="no-untyped-call"
# (pyHanko leaves many constructors unannotated.)

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import logging
import uuid
from dataclasses import dataclass, replace
from io import BytesIO
from typing import Any, Protocol

import msgspec
from asn1crypto import cms, x509  # type: ignore[import-untyped]
from opentelemetry import metrics
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.auth.principal import Principal, Role
from services.common.problems import Conflict, Forbidden, InvalidInput
from services.docs.audit import chain
from services.docs.catalog.types import Confidentiality
from services.docs.incoming.service import today
from services.docs.outgoing.agencies import Agencies
from services.docs.outgoing.records import fetch, held_number, outgoing_register, use_reservation
from services.docs.outgoing.schemas import (
    BoxRequest,
    PreparedSignatureView,
    SigningOptions,
)
from services.docs.outgoing.symbols import build_symbol
from services.docs.registers.numbering import next_number
from services.docs.signatures import credentials as creds
from services.docs.signatures.credentials import Credential
from services.docs.signatures.delegations import ActingFor
from services.docs.signatures.desk import SignatureDesk
from services.docs.signatures.errors import (
    AlreadySigned,
    DocumentMoved,
    NotTheSigner,
    NotTheSignersCertificate,
    SignatureRequired,
    SigningSessionClosed,
)
from services.docs.signatures.forms import (
    date_text,
    field_placements,
    fill_number_fields,
    finalise,
)
from services.docs.signatures.freshness import is_fresh, require_fresh_authentication
from services.docs.signatures.layout import (
    INITIALS_FIELDS,
    LEADER_FIELD,
    SEAL_FIELD,
    fields_of,
    leader_appearance,
    page_count,
    stand_in_seal,
    stand_in_signature,
)
from services.docs.signing import (
    DocumentSigner,
    InitialsAppearance,
    LeaderAppearance,
    Placement,
    PreparedSignature,
    RemoteKey,
    SealAppearance,
    SignatureLevel,
    SignatureRequest,
    SignedDocument,
    SigningKey,
)
from services.docs.signing.appearance import Appearance
from services.docs.signing.errors import DocumentChanged, ExternalSignatureMismatch
from services.docs.signing.pdf import open_reader, sha256_hex
from services.docs.signing.trust import load_certificates
from services.docs.signing.validation import certificate_info
from services.docs.tables import (
    number_reservation,
    outgoing,
    outgoing_signature,
    outgoing_step,
    outgoing_version,
    signing_session,
)

logger = logging.getLogger("qlvb.docs.signing")

INITIALS, LEADER, SEAL = "initials", "leader", "seal"
_signatures = metrics.get_meter("qlvb.docs").create_counter(
    "qlvb.docs.signatures",
    unit="{signature}",
    description="Signatures made in the outgoing flow and recorded, by kind: initials, leader "
    "or seal, and method: pkcs12 (a key the server holds) or remote.",
)
# Copies (sao y, sao lục, trích sao) carry only the agency's signature (Phụ lục I, ô 14).
COPY_TYPES = frozenset({"SY", "SL", "TrS"})
SIGNERS = (Role.LEADER, Role.DEPUTY_LEADER)
SESSION_LIFETIME = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class CurrentFile:
    """The file to read and sign now: the latest signature on the latest version, or the
    version's own file when nobody signed it yet."""

    version: int
    object_id: uuid.UUID
    file_name: str
    sha256: str
    size: int
    signed: bool  # the version carries signatures of ours, so its PDF has all its fields


@dataclass(frozen=True)
class Number:
    register_id: uuid.UUID
    year: int
    number: int
    symbol: str
    dated: dt.date


@dataclass(frozen=True)
class Step:
    """One signature to make, decided from the database."""

    kind: str
    outgoing_id: uuid.UUID
    field_name: str
    base: CurrentFile
    signer: str
    signer_name: str
    acting_for: str | None
    credential: Credential
    appearance: Appearance
    closes_document: bool
    # For the first signature of a version, which creates every field.
    leader_layout: LeaderAppearance | None
    leader_box: Placement | None
    leader_field: bool  # False: nobody signs as leader (copies, paper originals)
    seal_png: bytes
    number: Number | None  # the agency's signature: what goes into the PDF before it
    file_name: str


def needs_leader(doc_type: str, reserved_number: int | None) -> bool:
    """The competent person signs every document but copies and paper originals signed by
    hand (those come with a reserved number)."""
    return doc_type not in COPY_TYPES and reserved_number is None


async def current_file(
    conn: AsyncConnection, tenant_id: uuid.UUID, outgoing_id: uuid.UUID
) -> CurrentFile:
    version = (
        await conn.execute(
            select(outgoing_version)
            .where(
                outgoing_version.c.tenant_id == tenant_id,
                outgoing_version.c.outgoing_id == outgoing_id,
            )
            .order_by(outgoing_version.c.version.desc())
            .limit(1)
        )
    ).one()
    signed = (
        await conn.execute(
            select(outgoing_signature)
            .where(
                outgoing_signature.c.tenant_id == tenant_id,
                outgoing_signature.c.outgoing_id == outgoing_id,
                outgoing_signature.c.version == version.version,
            )
            .order_by(outgoing_signature.c.created_at.desc())
            .limit(1)
        )
    ).one_or_none()
    source = signed if signed is not None else version
    return CurrentFile(
        version=version.version,
        object_id=source.object_id,
        file_name=source.file_name,
        sha256=source.sha256,
        size=source.size,
        signed=signed is not None,
    )


async def signature_rows(
    conn: AsyncConnection, tenant_id: uuid.UUID, outgoing_id: uuid.UUID
) -> list[Any]:
    return list(
        await conn.execute(
            select(outgoing_signature)
            .where(
                outgoing_signature.c.tenant_id == tenant_id,
                outgoing_signature.c.outgoing_id == outgoing_id,
            )
            .order_by(outgoing_signature.c.version, outgoing_signature.c.created_at)
        )
    )


def _of_version(rows: list[Any], version: int, kind: str) -> Any:
    return next((r for r in rows if r.version == version and r.kind == kind), None)


def _placement(box: BoxRequest | None) -> Placement | None:
    if box is None:
        return None
    x1, y1, x2, y2 = box.box
    if not (x2 - x1 >= 60 and y2 - y1 >= 60):
        raise InvalidInput(
            "Ô chữ ký của lãnh đạo phải rộng và cao ít nhất 60 điểm.",
            "The leader's box must be at least 60 points wide and high.",
        )
    return Placement(box.page - 1, (x1, y1, x2, y2))


def parse_certificate(text: str) -> x509.Certificate:
    data = text.strip().encode()
    try:
        if b"BEGIN CERTIFICATE" not in data:
            data = base64.b64decode(data, validate=True)
        certificate: x509.Certificate = load_certificates(data)[0]
        certificate.native  # noqa: B018 - parsing every field proves the DER is whole
    except (ValueError, TypeError, IndexError, binascii.Error) as exc:
        raise InvalidInput(
            "Không đọc được chứng thư số (PEM hoặc DER mã hóa base64).",
            "Unreadable certificate (PEM, or base64 DER).",
        ) from exc
    return certificate


def raw_signature(value: bytes, prepared: PreparedSignature) -> bytes:
    """The signature value from what the external signer returned: the value itself, or a
    CMS SignedData whose signer signed exactly the prepared attributes."""
    if value[:1] != b"\x30":
        return value
    try:
        info = cms.ContentInfo.load(value)
        if info["content_type"].native != "signed_data":
            return value
        signer_info = info["content"]["signer_infos"][0]
        attributes = signer_info["signed_attrs"]
        # The CMS stores them [0]-tagged; what was signed is their SET OF encoding.
        signed = cms.CMSAttributes.load(attributes.untag().dump()).dump()
        signature = bytes(signer_info["signature"].native)
    except (ValueError, TypeError, KeyError, IndexError):
        # An ECDSA signature is DER too (a SEQUENCE of two integers), not a CMS.
        return value
    if signed != prepared.signed_attributes:
        raise ExternalSignatureMismatch(
            "Gói chữ ký (CMS) gửi về không ký đúng các thuộc tính đã chuẩn bị.",
            "The returned CMS does not sign the prepared attributes.",
        )
    return signature


class ValidationJobs(Protocol):
    """Where the validation of a signed file goes (the docs worker's saq queue)."""

    async def check_outgoing_signatures(
        self, tenant_id: uuid.UUID, outgoing_id: uuid.UUID
    ) -> None: ...


class OutgoingSigning:
    def __init__(
        self, desk: SignatureDesk, agencies: Agencies, jobs: ValidationJobs | None = None
    ) -> None:
        self.desk = desk
        self.db = desk.db
        self.agencies = agencies
        self.jobs = jobs

    # -- planning -----------------------------------------------------------------------------

    async def plan(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        principal: Principal,
        outgoing_id: uuid.UUID,
        kind: str,
        options: SigningOptions,
        acting_for: ActingFor | None,
        *,
        for_update: bool = False,
    ) -> Step:
        row = await fetch(conn, tenant_id, outgoing_id, for_update=for_update)
        base = await current_file(conn, tenant_id, outgoing_id)
        if options.document_sha256 is not None and options.document_sha256 != base.sha256:
            raise DocumentChanged(
                "Văn bản đã thay đổi so với bản bạn đã xem; hãy xem lại trước khi ký.",
                "The document changed since you saw it; review it again before signing.",
                expected_sha256=options.document_sha256,
                actual_sha256=base.sha256,
            )
        signed = await signature_rows(conn, tenant_id, outgoing_id)
        if kind == INITIALS:
            field_name, who = await self._initials_turn(conn, tenant_id, row, principal)
        elif kind == LEADER:
            field_name, who = await self._leader_turn(conn, tenant_id, row, principal, acting_for)
        else:
            field_name, who = self._seal_turn(row, principal, signed, base, options)
        if any(r.version == base.version and r.field_name == field_name for r in signed):
            raise AlreadySigned(
                "Bước ký này đã được thực hiện trên phiên bản hiện tại.",
                "This signature is already on the current version.",
            )
        owner_kind = creds.AGENCY if kind == SEAL else creds.PERSON
        credential = await creds.active(conn, tenant_id, owner_kind, principal.username)
        if credential is None:
            raise creds.no_credential(owner_kind, principal.name or principal.username)
        agency = await self.agencies.by_id(tenant_id)
        authority_line = options.authority_line.strip()
        if not authority_line and row.authority:
            # TM. is followed by the collective body; KT., TL., TUQ. and Q. by the head's
            # title, which only the drafter knows: a neutral default until they say it.
            authority_line = (
                agency.name if row.authority == "TM." and agency else "Thủ trưởng cơ quan"
            )
        appearance: Appearance
        if kind == INITIALS:
            appearance = InitialsAppearance(
                initials_png=credential.initials_png or credential.image_png
            )
        elif kind == LEADER:
            appearance = leader_appearance(
                authority=row.authority,
                authority_line=authority_line,
                position=credential.position,
                name=credential.display_name,
                signature_png=credential.image_png,
            )
        else:
            appearance = SealAppearance(seal_png=credential.image_png)
        number = await self._number(conn, tenant_id, row) if kind == SEAL else None
        layout, seal_png = None, stand_in_seal()
        if not base.signed:
            layout, seal_png = await self._layout_images(
                conn, tenant_id, row, authority_line, appearance if kind == LEADER else None
            )
        if options.leader_box is not None and base.signed:
            raise Conflict(
                "Các ô chữ ký đã được tạo khi ký phiên bản này lần đầu; không đổi vị trí được.",
                "The signature fields were made at the version's first signature.",
            )
        name = base.file_name
        if number is not None:
            name = number.symbol.replace("/", "-") + ".pdf"
        return Step(
            kind=kind,
            outgoing_id=outgoing_id,
            field_name=field_name,
            base=base,
            signer=principal.username,
            signer_name=who,
            # Recorded only when the delegation is what lets the signer sign.
            acting_for=(
                acting_for.username
                if kind == LEADER and acting_for and principal.username != row.signer
                else None
            ),
            credential=credential,
            appearance=appearance,
            closes_document=kind == SEAL,
            leader_layout=layout,
            leader_box=_placement(options.leader_box),
            leader_field=needs_leader(row.doc_type, options.reserved_number),
            seal_png=seal_png,
            number=number,
            file_name=name,
        )

    async def _initials_turn(
        self, conn: AsyncConnection, tenant_id: uuid.UUID, row: Any, principal: Principal
    ) -> tuple[str, str]:
        if row.state != "in_review":
            raise Conflict(
                "Chỉ ký nháy khi văn bản đang được xem xét.",
                "Initials are made while the draft is in review.",
            )
        step = (
            await conn.execute(
                select(outgoing_step).where(
                    outgoing_step.c.tenant_id == tenant_id,
                    outgoing_step.c.outgoing_id == row.id,
                    outgoing_step.c.kind.in_(tuple(INITIALS_FIELDS)),
                    outgoing_step.c.state == "pending",
                    outgoing_step.c.assignee == principal.username,
                )
            )
        ).first()
        if step is None:
            raise Forbidden(
                "Chỉ người đang kiểm tra nội dung hoặc thể thức của văn bản được ký nháy.",
                "Only the reviewer whose step is pending initials the draft.",
            )
        return INITIALS_FIELDS[step.kind], step.assignee_name

    async def _leader_turn(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        row: Any,
        principal: Principal,
        acting_for: ActingFor | None,
    ) -> tuple[str, str]:
        if row.doc_type in COPY_TYPES:
            raise Conflict(
                "Bản sao chỉ có chữ ký số của cơ quan.", "Copies carry only the agency's signature."
            )
        approval = await self._pending_approval(conn, tenant_id, row)
        if row.state != "approved" and approval is None:
            raise Conflict(
                "Văn bản chưa đến bước lãnh đạo duyệt ký.",
                "The document is not waiting for the leader's signature.",
            )
        if principal.username != row.signer:
            if acting_for is None or acting_for.username != row.signer:
                raise NotTheSigner(
                    f"Văn bản do {row.signer_name} ký; bạn không được giao ký văn bản này và "
                    "không có ủy quyền của người ký.",
                    f"{row.signer} signs this document; you were not delegated to.",
                )
        elif approval is not None and not principal.has_role(*SIGNERS):
            raise Forbidden("Chỉ lãnh đạo được ký ban hành.", "Only leaders sign for issue.")
        return LEADER_FIELD, principal.name or principal.username

    def _seal_turn(
        self,
        row: Any,
        principal: Principal,
        signed: list[Any],
        base: CurrentFile,
        options: SigningOptions,
    ) -> tuple[str, str]:
        if not principal.has_role(Role.CLERK):
            raise Forbidden(
                "Chỉ văn thư ký số của cơ quan (NĐ 30, Điều 33).",
                "Only clerks apply the agency's signature.",
            )
        if row.state == "issued":
            raise Conflict(
                f"Văn bản đã được ban hành số {row.number_symbol}.",
                f"Already issued as {row.number_symbol}.",
            )
        if row.state != "approved":
            raise Conflict(
                "Văn bản chưa được lãnh đạo duyệt ký.", "The document has not been approved."
            )
        leader = _of_version(signed, base.version, LEADER)
        if needs_leader(row.doc_type, options.reserved_number) and leader is None:
            raise SignatureRequired(
                "Văn bản chưa có chữ ký số của người có thẩm quyền; văn thư chỉ ký số của cơ quan "
                "sau khi người có thẩm quyền đã ký (NĐ 30, Điều 32.2.d).",
                "The competent person has not signed; the agency signs only after them.",
            )
        return SEAL_FIELD, principal.name or principal.username

    async def _pending_approval(self, conn: AsyncConnection, tenant_id: uuid.UUID, row: Any) -> Any:
        if row.state != "in_review":
            return None
        return (
            await conn.execute(
                select(outgoing_step).where(
                    outgoing_step.c.tenant_id == tenant_id,
                    outgoing_step.c.outgoing_id == row.id,
                    outgoing_step.c.kind == "approval",
                    outgoing_step.c.state == "pending",
                )
            )
        ).first()

    async def _layout_images(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        row: Any,
        authority_line: str,
        leader: Appearance | None,
    ) -> tuple[LeaderAppearance | None, bytes]:
        """What the layout of a version's fields depends on: the designated signer's block and
        the agency's seal image (stand-ins when they have none enrolled yet)."""
        seal = await creds.active(conn, tenant_id, creds.AGENCY, "")
        seal_png = seal.image_png if seal is not None else stand_in_seal()
        if row.doc_type in COPY_TYPES:
            return None, seal_png
        if isinstance(leader, LeaderAppearance):
            return leader, seal_png
        signer = await creds.active(conn, tenant_id, creds.PERSON, row.signer)
        return (
            leader_appearance(
                authority=row.authority,
                authority_line=authority_line,
                position=signer.position if signer else "",
                name=signer.display_name if signer else row.signer_name,
                signature_png=signer.image_png if signer else stand_in_signature(),
            ),
            seal_png,
        )

    async def _number(self, conn: AsyncConnection, tenant_id: uuid.UUID, row: Any) -> Number:
        held = await held_number(conn, tenant_id, row.id)
        if held is None:
            raise Conflict(
                "Văn bản chưa được cấp số.", "No number is held for the document."
            )  # hold_number runs first; this only guards against misuse
        return Number(
            register_id=held.register_id,
            year=held.year,
            number=held.number,
            symbol=build_symbol(
                held.number,
                row.doc_type,
                row.issuer_abbr,
                row.unit_abbr,
                year=held.year if row.legal else None,
            ),
            dated=today(),
        )

    async def hold_number(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        outgoing_id: uuid.UUID,
        options: SigningOptions,
    ) -> None:
        """Set a number aside for the document before it goes into the PDF: the next of the
        register's series, or the paper original's reserved number. A retry after a failed
        signature reuses it."""
        async with self.db.transaction(tenant_id) as conn:
            row = await fetch(conn, tenant_id, outgoing_id, for_update=True)
            signed = await signature_rows(conn, tenant_id, outgoing_id)
            base = await current_file(conn, tenant_id, outgoing_id)
            self._seal_turn(row, principal, signed, base, options)
            held = await held_number(conn, tenant_id, outgoing_id)
            if held is not None:
                if (
                    options.reserved_number is not None and options.reserved_number != held.number
                ) or (options.register_id is not None and options.register_id != held.register_id):
                    raise Conflict(
                        f"Văn bản đã được giữ số {held.number}; không đổi số được.",
                        f"Number {held.number} is already held for the document.",
                    )
                return
            confidential = row.confidentiality != Confidentiality.NORMAL.value
            book = await outgoing_register(conn, tenant_id, options.register_id, confidential)
            year = today().year
            if options.reserved_number is not None:
                number = await use_reservation(
                    conn, tenant_id, book.id, year, options.reserved_number, outgoing_id
                )
            else:
                number = await next_number(conn, tenant_id, book.id, year)
                await conn.execute(
                    insert(number_reservation).values(
                        tenant_id=tenant_id,
                        register_id=book.id,
                        year=year,
                        number=number,
                        reserved_by=principal.username,
                        outgoing_id=outgoing_id,
                    )
                )
            await chain.append(
                conn,
                tenant_id,
                principal,
                "outgoing.number_held",
                "outgoing",
                outgoing_id,
                {"register_id": str(book.id), "year": year, "number": number},
            )

    # -- the document to sign -----------------------------------------------------------------

    async def document(self, tenant_id: uuid.UUID, step: Step, signer: DocumentSigner) -> bytes:
        """The bytes the step signs: the current file, with every field added if it is the
        version's first signature, and the number and date written in for the agency's."""
        data = await self.desk.read(tenant_id, step.base.object_id, step.base.sha256)
        reader = open_reader(data)
        if not step.base.signed:
            fields = fields_of(
                reader,
                leader=step.leader_layout,
                leader_box=step.leader_box,
                seal_png=step.seal_png,
                fonts=signer.fonts,
                leader_field=step.leader_field,
            )
            if step.leader_box is not None and step.leader_box.page >= page_count(reader):
                raise InvalidInput(
                    f"Văn bản không có trang {step.leader_box.page + 1}.",
                    f"The document has no page {step.leader_box.page + 1}.",
                )
            data = finalise(data, fields)
        if step.number is not None:
            data = fill_number_fields(
                data, f"Số: {step.number.symbol}", date_text(step.number.dated), signer.fonts
            )
        return data

    def request(self, step: Step, signer: DocumentSigner) -> SignatureRequest:
        if step.kind == SEAL:
            level = SignatureLevel.B_LT
        else:
            level = SignatureLevel.B_T if self.desk.timestamps else SignatureLevel.B_B
        return SignatureRequest(
            field_name=step.field_name,
            appearance=step.appearance,
            level=level,
            closes_document=step.closes_document,
        )

    # -- signing ------------------------------------------------------------------------------

    def login_is_fresh(self, principal: Principal) -> bool:
        return is_fresh(principal, self.desk.signers.settings.fresh_auth_seconds)

    def require_fresh_login(self, principal: Principal) -> None:
        """Before anything is reserved, unlocked or signed: the signer logged in recently."""
        require_fresh_authentication(principal, self.desk.signers.settings.fresh_auth_seconds)

    async def sign_with_pin(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        outgoing_id: uuid.UUID,
        kind: str,
        pin: str,
        options: SigningOptions,
        acting_for: ActingFor | None = None,
    ) -> None:
        self.require_fresh_login(principal)
        if kind == SEAL:
            await self.hold_number(tenant_id, principal, outgoing_id, options)
        async with self.db.transaction(tenant_id, read_only=True) as conn:
            step = await self.plan(
                conn, tenant_id, principal, outgoing_id, kind, options, acting_for
            )
            signer = await self.desk.signers.signer(conn, tenant_id)
        key: SigningKey = await self.desk.credentials.unlock(tenant_id, step.credential, pin)
        try:
            data = await self.document(tenant_id, step, signer)
            signed = await signer.sign(
                data, expected_sha256=sha256_hex(data), key=key, request=self.request(step, signer)
            )
        finally:
            key.close()
        await self._record(tenant_id, principal, step, signed, creds.PKCS12, options, acting_for)

    async def prepare(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        outgoing_id: uuid.UUID,
        kind: str,
        certificate_text: str,
        options: SigningOptions,
        acting_for: ActingFor | None = None,
    ) -> PreparedSignatureView:
        self.require_fresh_login(principal)
        presented = parse_certificate(certificate_text)
        if kind == SEAL:
            await self.hold_number(tenant_id, principal, outgoing_id, options)
        async with self.db.transaction(tenant_id, read_only=True) as conn:
            step = await self.plan(
                conn, tenant_id, principal, outgoing_id, kind, options, acting_for
            )
            signer = await self.desk.signers.signer(conn, tenant_id)
        credential = step.credential
        if hashlib.sha256(presented.dump()).hexdigest() != credential.certificate_sha256:
            whose = "của cơ quan" if kind == SEAL else f"của {step.signer_name}"
            raise NotTheSignersCertificate(
                f"Chứng thư số này không phải chứng thư số đã đăng ký {whose}.",
                "The certificate is not the one enrolled for the signer.",
                certificate_serial=format(presented.serial_number, "x"),
            )
        key = RemoteKey(presented, credential.chain_certificates())
        data = await self.document(tenant_id, step, signer)
        prepared = await signer.prepare(
            data, expected_sha256=sha256_hex(data), key=key, request=self.request(step, signer)
        )
        session_id = uuid.uuid4()
        expires_at = dt.datetime.now(dt.UTC) + SESSION_LIFETIME
        async with self.db.transaction(tenant_id) as conn:
            await conn.execute(
                update(signing_session)
                .where(
                    signing_session.c.tenant_id == tenant_id,
                    signing_session.c.outgoing_id == outgoing_id,
                    signing_session.c.kind == kind,
                    signing_session.c.state == "open",
                )
                .values(state="superseded")
            )
            await conn.execute(
                insert(signing_session).values(
                    tenant_id=tenant_id,
                    id=session_id,
                    outgoing_id=outgoing_id,
                    version=step.base.version,
                    kind=kind,
                    signer=step.signer,
                    signer_name=step.signer_name,
                    acting_for=step.acting_for,
                    credential_id=credential.id,
                    base_sha256=step.base.sha256,
                    prepared=msgspec.msgpack.encode(prepared),
                    placement=msgspec.to_builtins(
                        {"options": options, "file_name": step.file_name}
                    ),
                    number_symbol=step.number.symbol if step.number else None,
                    dated=step.number.dated if step.number else None,
                    state="open",
                    expires_at=expires_at,
                )
            )
        return PreparedSignatureView(
            session_id=session_id,
            step=kind,
            digest_algorithm="sha256",
            digest=prepared.digest_to_sign,
            signed_attributes=prepared.signed_attributes,
            expires_at=expires_at,
        )

    async def complete(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        outgoing_id: uuid.UUID,
        session_id: uuid.UUID,
        signature: bytes,
        acting_for: ActingFor | None = None,
    ) -> None:
        self.require_fresh_login(principal)
        async with self.db.transaction(tenant_id, read_only=True) as conn:
            await fetch(conn, tenant_id, outgoing_id)
            session = (
                await conn.execute(
                    select(signing_session).where(
                        signing_session.c.tenant_id == tenant_id,
                        signing_session.c.outgoing_id == outgoing_id,
                        signing_session.c.id == session_id,
                    )
                )
            ).one_or_none()
            if session is None or session.signer != principal.username:
                raise SigningSessionClosed(
                    "Không có phiên ký này của bạn cho văn bản.",
                    "No such signing session of yours for this document.",
                )
            if session.state != "open" or session.expires_at <= dt.datetime.now(dt.UTC):
                raise SigningSessionClosed(
                    "Phiên ký đã hết hạn, đã hoàn tất hoặc đã được thay bằng phiên mới; hãy "
                    "chuẩn bị ký lại.",
                    "The signing session expired, completed or was superseded; prepare again.",
                )
            options = msgspec.convert(session.placement["options"], SigningOptions)
            step = await self.plan(
                conn, tenant_id, principal, outgoing_id, session.kind, options, acting_for
            )
            signer = await self.desk.signers.signer(conn, tenant_id)
        if step.base.sha256 != session.base_sha256 or step.credential.id != session.credential_id:
            raise DocumentMoved(
                "Văn bản hoặc chứng thư số đã thay đổi từ khi chuẩn bị ký; hãy chuẩn bị lại.",
                "The document or the certificate changed since the signature was prepared.",
            )
        prepared = msgspec.msgpack.decode(bytes(session.prepared), type=PreparedSignature)
        key = RemoteKey(
            x509.Certificate.load(prepared.certificate), step.credential.chain_certificates()
        )
        signed = await signer.complete(prepared, raw_signature(signature, prepared), key)
        if session.number_symbol is not None and step.number is not None:
            # The number and date in the PDF are those of the preparation.
            step = replace(step, number=replace(step.number, dated=session.dated))
        await self._record(
            tenant_id,
            principal,
            replace(step, file_name=str(session.placement["file_name"])),
            signed,
            creds.REMOTE,
            options,
            acting_for,
            session_id=session_id,
        )

    # -- recording ----------------------------------------------------------------------------

    async def _record(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        step: Step,
        signed: SignedDocument,
        method: str,
        options: SigningOptions,
        acting_for: ActingFor | None,
        *,
        session_id: uuid.UUID | None = None,
    ) -> None:
        stored = await self.desk.store(tenant_id, signed.data, step.file_name)
        reader = PdfFileReader(BytesIO(signed.data), strict=False)
        placement = field_placements(reader).get(step.field_name)
        info = certificate_info(step.credential.parsed_certificate())
        try:
            async with self.db.transaction(tenant_id) as conn:
                again = await self.plan(
                    conn,
                    tenant_id,
                    principal,
                    step.outgoing_id,
                    step.kind,
                    msgspec.structs.replace(options, document_sha256=None, leader_box=None),
                    acting_for,
                    for_update=True,
                )
                if again.base != step.base or again.credential.id != step.credential.id:
                    raise DocumentMoved(
                        "Văn bản vừa được ký hoặc sửa bởi người khác; hãy xem lại và ký lại.",
                        "The document was signed or changed meanwhile; review and sign again.",
                    )
                await conn.execute(
                    insert(outgoing_signature).values(
                        tenant_id=tenant_id,
                        id=uuid.uuid4(),
                        outgoing_id=step.outgoing_id,
                        version=step.base.version,
                        kind=step.kind,
                        field_name=step.field_name,
                        signer=step.signer,
                        signer_name=step.signer_name,
                        acting_for=step.acting_for,
                        method=method,
                        certificate_subject=info.subject,
                        certificate_serial=info.serial,
                        certificate_issuer=info.issuer_subject,
                        certificate_sha256=info.sha256,
                        level=signed.level.value,
                        signed_at=signed.signed_at,
                        object_id=uuid.UUID(stored["id"]),
                        file_name=step.file_name,
                        sha256=signed.sha256,
                        size=len(signed.data),
                        placement=(
                            {"page": placement.page, "box": list(placement.box)}
                            if placement
                            else {}
                        ),
                        number_symbol=step.number.symbol if step.number else None,
                        dated=step.number.dated if step.number else None,
                    )
                )
                if session_id is not None:
                    await conn.execute(
                        update(signing_session)
                        .where(
                            signing_session.c.tenant_id == tenant_id,
                            signing_session.c.id == session_id,
                        )
                        .values(state="completed")
                    )
                if step.kind == LEADER:
                    await self._approve(conn, tenant_id, principal, step, acting_for)
                await chain.append(
                    conn,
                    tenant_id,
                    principal,
                    {INITIALS: "outgoing.initialled", LEADER: "outgoing.signed"}.get(
                        step.kind, "outgoing.sealed"
                    ),
                    "outgoing",
                    step.outgoing_id,
                    {
                        "version": step.base.version,
                        "field": step.field_name,
                        "method": method,
                        "certificate_serial": info.serial,
                        "certificate_subject": info.subject,
                        "sha256": signed.sha256,
                        "number_symbol": step.number.symbol if step.number else None,
                    },
                    acting_for=step.acting_for,
                )
        except IntegrityError as exc:
            raise AlreadySigned(
                "Bước ký này vừa được thực hiện.", "This signature was just made."
            ) from exc
        _signatures.add(1, {"kind": step.kind, "method": method})
        if self.jobs is not None:
            # The signed file's validation report is stored in the background; the worker's
            # sweep redoes a lost job.
            try:
                await self.jobs.check_outgoing_signatures(tenant_id, step.outgoing_id)
            except Exception as exc:  # the signature is recorded whatever happens here
                logger.warning(
                    "signature check not queued",
                    extra={"outgoing_id": str(step.outgoing_id), "error": repr(exc)},
                )

    async def _approve(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        principal: Principal,
        step: Step,
        acting_for: ActingFor | None,
    ) -> None:
        """The leader's signature is the approval when the approval step still waits."""
        row = await fetch(conn, tenant_id, step.outgoing_id)
        pending = await self._pending_approval(conn, tenant_id, row)
        if pending is None:
            return
        await conn.execute(
            update(outgoing_step)
            .where(outgoing_step.c.tenant_id == tenant_id, outgoing_step.c.id == pending.id)
            .values(state="approved", comment="Đã ký số", decided_at=dt.datetime.now(dt.UTC))
        )
        await conn.execute(
            update(outgoing)
            .where(outgoing.c.tenant_id == tenant_id, outgoing.c.id == step.outgoing_id)
            .values(state="approved")
        )
        await chain.append(
            conn,
            tenant_id,
            principal,
            "outgoing.approval_approved",
            "outgoing",
            step.outgoing_id,
            {"comment": "Đã ký số"},
            acting_for=acting_for.username if acting_for else None,
        )
