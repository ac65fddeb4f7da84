"""PAdES signing of documents: with a key the server holds (`sign`), or in two steps for a
key it does not (`prepare`, then `complete` with the signature that came back).

Every signature is an incremental update, so earlier signatures keep covering exactly the bytes
they signed. Before any work: the bytes must hash to what the signer was shown, the PDF must be
readable and unencrypted, no existing signature may forbid this one, and the signer's
certificate must be usable (trust.py). The result is the signed bytes and their SHA-256; the
caller stores them (under object lock, through the storage service)."""

# mypy: disable-error-code="no-untyped-call"
# (pyHanko and pyhanko-certvalidator leave many constructors unannotated.)

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import UTC, datetime, timedelta, timezone
from io import BytesIO
from pathlib import Path
from typing import Protocol

import msgspec
from asn1crypto import cms, x509  # type: ignore[import-untyped]
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import load_der_x509_certificate
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import (
    FieldMDPAction,
    FieldMDPSpec,
    MDPPerm,
    SigFieldSpec,
    SigSeedSubFilter,
)
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes, Signer
from pyhanko.sign.signers.pdf_signer import (
    PdfSignatureMetadata,
    PdfSigner,
    PdfSigningSession,
    PdfTBSDocument,
    PreSignValidationStatus,
)
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.sign.validation.dss import async_add_validation_info
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

from services.common.problems import DependencyUnavailable, Problem
from services.docs.signing.appearance import Appearance, AppendixStampStyle, format_signed_at
from services.docs.signing.errors import (
    ExternalSignatureMismatch,
    ReauthenticationRequired,
    SigningFailed,
)
from services.docs.signing.fonts import BOLD_FONT, REGULAR_FONT, load_fonts
from services.docs.signing.keys import RemoteKey, SigningKey
from services.docs.signing.pdf import (
    open_for_signing,
    refuse_if_signing_breaks,
    require_expected_hash,
    sha256_hex,
    signed_field_names,
)
from services.docs.signing.plan import (
    Placement,
    SignatureLevel,
    SigningPlan,
    SigningRole,
    SigningStep,
)
from services.docs.signing.trust import REQUIRED_KEY_USAGE, CertificateChecker, TrustStore

logger = logging.getLogger("qlvb.docs.signing")

# Vietnam keeps UTC+07:00 all year; Appendix I asks for the signing time in that zone.
VIETNAM_TIME = timezone(timedelta(hours=7))
DIGEST = "sha256"


class SigningSettings(msgspec.Struct, frozen=True, kw_only=True):
    tsa_url: str | None = None  # RFC 3161 time-stamping authority; None: B-B only
    tsa_timeout_seconds: float = 10.0
    # How recent the signer's authentication must be (issue 6: "a fresh authentication").
    fresh_auth_seconds: float = 300.0
    certificate_check_seconds: float = 300.0
    location: str = "Việt Nam"
    # TrueType fonts with every Vietnamese letter (Debian: fonts-liberation2).
    regular_font: str = str(REGULAR_FONT)
    bold_font: str = str(BOLD_FONT)


class SignatureRequest(msgspec.Struct, frozen=True, kw_only=True):
    """One signature: into an existing field, or a new one (`placement`, or invisible)."""

    field_name: str
    appearance: Appearance | None = None
    level: SignatureLevel = SignatureLevel.B_B
    placement: Placement | None = None
    closes_document: bool = False  # for a new field: DocMDP P=1 after it
    reason: str | None = None


class SignedDocument(msgspec.Struct, frozen=True):
    data: bytes
    sha256: str
    field_name: str
    signed_at: datetime
    level: SignatureLevel


class PreparedSignature(msgspec.Struct, frozen=True, kw_only=True):
    """The state between `prepare` and `complete`; serialisable (msgspec), so it may wait in
    Redis or the database while the signer's device works."""

    field_name: str
    level: SignatureLevel
    signed_at: datetime
    certificate: bytes  # DER
    prepared_pdf: bytes  # the document with the space for the signature reserved
    reserved_start: int
    reserved_end: int
    document_digest: bytes  # SHA-256 over the /ByteRange of prepared_pdf
    signed_attributes: bytes  # DER of the CMS signed attributes: what the signer signs

    @property
    def digest_to_sign(self) -> bytes:
        """SHA-256 of the signed attributes, for devices that sign a digest."""
        return hashlib.sha256(self.signed_attributes).digest()


class RemoteSigningProvider(Protocol):
    """A signer the server reaches but does not hold: a remote signing service (a CA's cloud
    signing), or the user's device over a channel the caller owns. It signs
    `prepared.signed_attributes` (PKCS#1 v1.5 or ECDSA with SHA-256, `prepared.digest_to_sign`
    for devices that take a digest) with the key of `prepared.certificate`, and returns the
    raw signature value."""

    async def request_signature(self, prepared: PreparedSignature) -> bytes: ...


def vietnam_now() -> datetime:
    return datetime.now(VIETNAM_TIME).replace(microsecond=0)


class DocumentSigner:
    """Signs PDFs. Make one per process (per trust configuration) and keep it: it caches the
    certificate checks, the TSA client and the reserved signature sizes."""

    def __init__(self, trust: TrustStore, settings: SigningSettings) -> None:
        self.trust = trust
        self.settings = settings
        self._checker = CertificateChecker(trust, settings.certificate_check_seconds)
        self._timestamper = (
            HTTPTimeStamper(settings.tsa_url, timeout=int(settings.tsa_timeout_seconds))
            if settings.tsa_url
            else None
        )
        self._reserved: dict[tuple[bytes, bool], int] = {}
        # Loaded (and subset) here, once, so a missing font stops the service at start.
        self.fonts = load_fonts(Path(settings.regular_font), Path(settings.bold_font))

    # ------------------------------------------------------------------ plan steps

    def level_for(self, step: SigningStep) -> SignatureLevel:
        """B-LT for the agency's signature, B-T for people when a TSA is configured, else B-B."""
        if step.level is not None:
            return step.level
        if step.role is SigningRole.AGENCY:
            return SignatureLevel.B_LT
        return SignatureLevel.B_T if self._timestamper is not None else SignatureLevel.B_B

    def request_for(self, step: SigningStep, appearance: Appearance | None) -> SignatureRequest:
        return SignatureRequest(
            field_name=step.field_name,
            appearance=appearance,
            level=self.level_for(step),
            placement=step.placement,
            closes_document=step.closes_document,
        )

    def _step_for(
        self,
        writer: IncrementalPdfFileWriter,
        plan: SigningPlan,
        person_id: str,
        authenticated_at: datetime,
        key: SigningKey,
    ) -> SigningStep:
        age = (datetime.now(UTC) - authenticated_at).total_seconds()
        if not 0 <= age <= self.settings.fresh_auth_seconds:
            raise ReauthenticationRequired(
                "Phiên đăng nhập đã quá lâu; hãy xác thực lại trước khi ký.",
                "The last authentication is too old; authenticate again before signing.",
            )
        step = plan.turn_of(person_id, signed_field_names(writer.prev))
        if key.method is not step.method:
            raise SigningFailed(
                f"Bước ký này dùng phương thức {step.method.value}, không phải {key.method.value}.",
                f"This step signs with {step.method.value}, not {key.method.value}.",
            )
        return step

    async def sign_step(
        self,
        pdf: bytes,
        *,
        expected_sha256: str,
        plan: SigningPlan,
        person_id: str,
        authenticated_at: datetime,
        key: SigningKey,
        appearance: Appearance | None,
    ) -> SignedDocument:
        """Sign the plan's next step, if it is `person_id`'s, with a key the server holds."""
        require_expected_hash(pdf, expected_sha256)
        writer = open_for_signing(pdf)
        step = self._step_for(writer, plan, person_id, authenticated_at, key)
        return await self._sign(writer, key, self.request_for(step, appearance))

    async def prepare_step(
        self,
        pdf: bytes,
        *,
        expected_sha256: str,
        plan: SigningPlan,
        person_id: str,
        authenticated_at: datetime,
        key: RemoteKey,
        appearance: Appearance | None,
    ) -> PreparedSignature:
        require_expected_hash(pdf, expected_sha256)
        writer = open_for_signing(pdf)
        step = self._step_for(writer, plan, person_id, authenticated_at, key)
        return await self._prepare(writer, key, self.request_for(step, appearance))

    # ------------------------------------------------------------------ one signature

    async def sign(
        self, pdf: bytes, *, expected_sha256: str, key: SigningKey, request: SignatureRequest
    ) -> SignedDocument:
        """Add one signature with a key the server holds (PKCS#12, PKCS#11)."""
        require_expected_hash(pdf, expected_sha256)
        return await self._sign(open_for_signing(pdf), key, request)

    async def prepare(
        self, pdf: bytes, *, expected_sha256: str, key: RemoteKey, request: SignatureRequest
    ) -> PreparedSignature:
        """First half of a remote signature: reserve the space, compute what to sign."""
        require_expected_hash(pdf, expected_sha256)
        return await self._prepare(open_for_signing(pdf), key, request)

    async def _sign(
        self, writer: IncrementalPdfFileWriter, key: SigningKey, request: SignatureRequest
    ) -> SignedDocument:
        if not key.holds_private_key:
            raise SigningFailed(
                "Khóa này ký ở phía người dùng; hãy dùng quy trình chuẩn bị - hoàn tất.",
                "This key signs on the client side; use prepare and complete.",
            )
        refuse_if_signing_breaks(writer.prev, request.field_name)
        await self._checker.check(key.certificate, key.chain)
        session = None
        try:
            session, validation_info, signed_at = await self._open_session(
                writer, key.signer(), request
            )
            reserved = await self._bytes_reserved(session, validation_info, key, request.level)
            tbs = session.prepare_tbs_document(
                validation_info=validation_info,
                bytes_reserved=reserved,
                appearance_text_params={"signed_at": format_signed_at(signed_at)},
            )
            prepared, written = tbs.digest_tbs_document()
            output = _as_bytes_io(written)
            post = await tbs.perform_signature(
                prepared.document_digest, PdfCMSSignedAttributes(signing_time=signed_at)
            )
            await post.post_signature_processing(output)
        except Problem:
            raise
        except TimestampRequestError as exc:
            raise _tsa_unavailable(exc) from exc
        except SigningError as exc:
            raise _signing_failed(exc) from exc
        finally:
            if session is not None:
                await _release(session)
        data = output.getvalue()
        return _signed(data, request.field_name, signed_at, request.level, key.certificate)

    async def _open_session(
        self,
        writer: IncrementalPdfFileWriter,
        signer: Signer,
        request: SignatureRequest,
        *,
        remote: bool = False,
    ) -> tuple[PdfSigningSession, PreSignValidationStatus | None, datetime]:
        level = request.level
        if level is SignatureLevel.B_T and self._timestamper is None:
            raise SigningFailed(
                "Chưa cấu hình dịch vụ cấp dấu thời gian (TSA) cho mức B-T.",
                "No time-stamping authority is configured for level B-T.",
            )
        # A remote B-LT signature gets its validation data after completion (`complete`).
        long_term = level is SignatureLevel.B_LT and not remote
        meta = PdfSignatureMetadata(
            field_name=request.field_name,
            md_algorithm=DIGEST,
            subfilter=SigSeedSubFilter.PADES,
            location=self.settings.location,
            reason=request.reason,
            embed_validation_info=long_term,
            validation_context=(
                self.trust.validation_context(extra_certs=list(signer.cert_registry))
                if long_term
                else None
            ),
            signer_key_usage=set(REQUIRED_KEY_USAGE),
            docmdp_permissions=(
                MDPPerm.NO_CHANGES if request.closes_document else MDPPerm.FILL_FORMS
            ),
        )
        new_field = None
        if request.placement is not None:
            x1, y1, x2, y2 = request.placement.box
            new_field = SigFieldSpec(
                sig_field_name=request.field_name,
                on_page=request.placement.page,
                box=(round(x1), round(y1), round(x2), round(y2)),
                field_mdp_spec=FieldMDPSpec(FieldMDPAction.INCLUDE, fields=[]),
                doc_mdp_update_value=(
                    MDPPerm.NO_CHANGES if request.closes_document else MDPPerm.FILL_FORMS
                ),
            )
        pdf_signer = PdfSigner(
            meta,
            signer,
            timestamper=self._timestamper if level is not SignatureLevel.B_B else None,
            stamp_style=AppendixStampStyle(appearance=request.appearance, fonts=self.fonts),
            new_field_spec=new_field,
        )
        session = pdf_signer.init_signing_session(writer)
        signed_at = vietnam_now()
        session.system_time = signed_at
        try:
            validation_info = await session.perform_presign_validation(writer)
        except BaseException:
            await _release(session)
            raise
        return session, validation_info, signed_at

    async def _bytes_reserved(
        self,
        session: PdfSigningSession,
        validation_info: PreSignValidationStatus | None,
        key: SigningKey,
        level: SignatureLevel,
    ) -> int:
        # pyHanko sizes the signature by making a dummy one first: a whole CMS build per
        # signature. The size depends only on the key, its chain and whether a timestamp
        # token goes in, so it is measured once per key and level.
        cache_key = (key.certificate.sha256, level is not SignatureLevel.B_B)
        reserved = self._reserved.get(cache_key)
        if reserved is None:
            reserved = int(await session.estimate_signature_container_size(validation_info))
            self._reserved[cache_key] = reserved
        return reserved

    async def _prepare(
        self, writer: IncrementalPdfFileWriter, key: RemoteKey, request: SignatureRequest
    ) -> PreparedSignature:
        refuse_if_signing_breaks(writer.prev, request.field_name)
        await self._checker.check(key.certificate, key.chain)
        signer = key.signer()
        try:
            session, _, signed_at = await self._open_session(writer, signer, request, remote=True)
            reserved = await self._bytes_reserved(session, None, key, request.level)
            tbs = session.prepare_tbs_document(
                validation_info=None,
                bytes_reserved=reserved,
                appearance_text_params={"signed_at": format_signed_at(signed_at)},
            )
            prepared, written = tbs.digest_tbs_document()
            output = _as_bytes_io(written)
            attributes = await signer.signed_attrs(
                prepared.document_digest,
                DIGEST,
                attr_settings=PdfCMSSignedAttributes(signing_time=signed_at),
                use_pades=True,
            )
        except Problem:
            raise
        except TimestampRequestError as exc:
            raise _tsa_unavailable(exc) from exc
        except SigningError as exc:
            raise _signing_failed(exc) from exc
        return PreparedSignature(
            field_name=request.field_name,
            level=request.level,
            signed_at=signed_at,
            certificate=key.certificate.dump(),
            prepared_pdf=output.getvalue(),
            reserved_start=prepared.reserved_region_start,
            reserved_end=prepared.reserved_region_end,
            document_digest=prepared.document_digest,
            signed_attributes=attributes.dump(),
        )

    async def sign_remotely(
        self,
        pdf: bytes,
        *,
        expected_sha256: str,
        key: RemoteKey,
        request: SignatureRequest,
        provider: RemoteSigningProvider,
    ) -> SignedDocument:
        """`prepare`, ask `provider` for the signature, `complete`: for providers that answer
        within the request. Slower ones (a person approving on a phone) keep the
        `PreparedSignature` and call `complete` when the answer comes."""
        prepared = await self.prepare(
            pdf, expected_sha256=expected_sha256, key=key, request=request
        )
        signature = await provider.request_signature(prepared)
        return await self.complete(prepared, signature, key)

    async def complete(
        self, prepared: PreparedSignature, signature: bytes, key: RemoteKey
    ) -> SignedDocument:
        """Second half: check the returned signature against the prepared digest and the
        signer's public key, then embed it (and the timestamp and validation data the level
        asks for)."""
        if key.certificate.dump() != prepared.certificate:
            raise ExternalSignatureMismatch(
                "Chứng thư số ký không phải chứng thư đã dùng khi chuẩn bị.",
                "The signing certificate is not the one the signature was prepared for.",
            )
        data = prepared.prepared_pdf
        byte_range = hashlib.sha256(data[: prepared.reserved_start])
        byte_range.update(data[prepared.reserved_end :])
        if not hmac.compare_digest(byte_range.digest(), prepared.document_digest):
            raise ExternalSignatureMismatch(
                "Bản văn bản đã chuẩn bị bị thay đổi trước khi ký xong.",
                "The prepared document changed before the signature was embedded.",
            )
        _verify_raw_signature(key.certificate, prepared.signed_attributes, signature)
        level = prepared.level
        try:
            signed_data = await key.with_signature(signature).async_sign_prescribed_attributes(
                DIGEST,
                cms.CMSAttributes.load(prepared.signed_attributes),
                timestamper=self._timestamper if level is not SignatureLevel.B_B else None,
            )
            output = BytesIO(data)
            PdfTBSDocument.resume_signing(
                output,
                PreparedByteRangeDigest(
                    document_digest=prepared.document_digest,
                    reserved_region_start=prepared.reserved_start,
                    reserved_region_end=prepared.reserved_end,
                ),
                signed_data,
            )
            if level is SignatureLevel.B_LT:
                output = await self._add_validation_data(output, prepared.field_name, key)
        except Problem:
            raise
        except TimestampRequestError as exc:
            raise _tsa_unavailable(exc) from exc
        except SigningError as exc:
            raise _signing_failed(exc) from exc
        return _signed(
            output.getvalue(), prepared.field_name, prepared.signed_at, level, key.certificate
        )

    async def _add_validation_data(
        self, output: BytesIO, field_name: str, key: RemoteKey
    ) -> BytesIO:
        reader = PdfFileReader(output, strict=False)
        embedded: EmbeddedPdfSignature = next(
            s for s in reader.embedded_signatures if s.field_name == field_name
        )
        context = self.trust.validation_context(extra_certs=[key.certificate, *key.chain])
        try:
            result: BytesIO = await async_add_validation_info(embedded, context, output=BytesIO())
        finally:
            await context.aclose()
        return result


def _as_bytes_io(stream: object) -> BytesIO:
    # pyHanko writes to a new BytesIO when no output stream is given.
    assert isinstance(stream, BytesIO)
    return stream


async def _release(session: PdfSigningSession) -> None:
    """Close the HTTP sessions the validation context opened for OCSP and CRL fetches."""
    context = session.pdf_signer.signature_meta.validation_context
    if context is not None:
        await context.aclose()


def _signed(
    data: bytes,
    field_name: str,
    signed_at: datetime,
    level: SignatureLevel,
    certificate: x509.Certificate,
) -> SignedDocument:
    result = SignedDocument(data, sha256_hex(data), field_name, signed_at, level)
    logger.info(
        "document_signed",
        extra={
            "field": field_name,
            "level": level.value,
            "certificate_sha256": certificate.sha256.hex(),
            "sha256": result.sha256,
        },
    )
    return result


def _verify_raw_signature(certificate: x509.Certificate, signed: bytes, signature: bytes) -> None:
    public_key = load_der_x509_certificate(certificate.dump()).public_key()
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, signed, ec.ECDSA(hashes.SHA256()))
        else:
            raise InvalidSignature
    except InvalidSignature as exc:
        raise ExternalSignatureMismatch(
            "Chữ ký gửi về không khớp với bản tóm lược đã chuẩn bị hoặc với chứng thư số.",
            "The returned signature does not verify over the prepared digest with the "
            "signer's certificate.",
        ) from exc


def _tsa_unavailable(exc: Exception) -> DependencyUnavailable:
    return DependencyUnavailable(
        "Dịch vụ cấp dấu thời gian không phản hồi; hãy thử ký lại sau.",
        f"The time-stamping authority did not answer ({exc}); try again later.",
    )


def _signing_failed(exc: SigningError) -> Problem:
    return SigningFailed("Không ký được văn bản.", f"The document could not be signed ({exc}).")
