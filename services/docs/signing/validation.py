"""Validation of the signatures in any PDF (incoming documents and our own), as a report.

For each signature: is the signed data intact and the signature mathematically valid, who
signed (the certificate), does the certificate chain to the operator's trust store, is it
revoked or expired, is there a trusted timestamp, and what does the signature cover: the
whole file, or a revision that later updates extended (and were those updates allowed: more
signatures and validation data, or changes to the content).

The report is a msgspec struct, so it goes to JSON as is (`report_json`) and is stored with the
document; `summary_vi` is the same report as Vietnamese sentences for people (Circular
15/2025/TT-BKHCN art. 6 asks verification software to answer in Vietnamese)."""

# mypy: disable-error-code="no-untyped-call"
# (pyHanko and pyhanko-certvalidator leave many constructors unannotated.)

from __future__ import annotations

import enum
from datetime import UTC, datetime

import msgspec
from asn1crypto import x509  # type: ignore[import-untyped]
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESIndeterminate, AdESSubIndic
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel

from services.docs.signing.pdf import open_reader, sha256_hex
from services.docs.signing.signer import VIETNAM_TIME
from services.docs.signing.trust import REQUIRED_KEY_USAGE, TrustStore


class Verdict(enum.StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    INDETERMINATE = "indeterminate"  # cannot tell yet: unknown CA, revocation unavailable


class Revocation(enum.StrEnum):
    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


class Coverage(enum.StrEnum):
    ENTIRE_FILE = "entire-file"  # nothing was added after this signature
    ENTIRE_REVISION = "entire-revision"  # later incremental updates exist
    PARTIAL = "partial"  # the signature leaves parts of its own revision out


class LaterChanges(enum.StrEnum):
    NONE = "none"
    VALIDATION_DATA = "validation-data"  # DSS updates and document timestamps
    SIGNATURES = "signatures"  # form filling, i.e. other signatures
    ANNOTATIONS = "annotations"
    CONTENT = "content"  # anything else: the document changed after it was signed


class CertificateInfo(msgspec.Struct, frozen=True):
    common_name: str
    organisation: str | None
    subject: str
    issuer: str  # the issuing CA's common name
    issuer_subject: str
    serial: str
    sha256: str
    not_before: datetime
    not_after: datetime


class TimestampInfo(msgspec.Struct, frozen=True):
    time: datetime
    trusted: bool
    authority: str


class SignatureReport(msgspec.Struct, frozen=True, kw_only=True):
    field_name: str
    verdict: Verdict
    intact: bool  # the signed bytes hash to the signed digest
    valid: bool  # the signature verifies with the certificate's key
    trusted: bool  # the certificate chains to the trust store and is usable now
    signer: CertificateInfo
    revocation: Revocation
    revoked_at: datetime | None = None
    expired: bool
    claimed_signing_time: datetime | None = None
    timestamp: TimestampInfo | None = None
    level: str
    coverage: Coverage
    later_changes: LaterChanges
    changes_permitted: bool
    problems: tuple[str, ...] = ()


class ValidationReport(msgspec.Struct, frozen=True, kw_only=True):
    document_sha256: str
    validated_at: datetime
    verdict: Verdict
    signatures: tuple[SignatureReport, ...]
    # Why the file itself could not be read (`unreadable_report`); its signatures then are not
    # known at all.
    problems: tuple[str, ...] = ()


def report_json(report: ValidationReport) -> bytes:
    return msgspec.json.encode(report)


def unreadable_report(document_sha256: str, problem: str) -> ValidationReport:
    """The report of a file that is not a readable PDF (`corrupt`, `encrypted`, `too-large`):
    nothing in it can be verified, so nothing in it can be relied on."""
    return ValidationReport(
        document_sha256=document_sha256,
        validated_at=datetime.now(VIETNAM_TIME).replace(microsecond=0),
        verdict=Verdict.INVALID,
        signatures=(),
        problems=(problem,),
    )


def _name_part(cert: x509.Certificate, key: str) -> str | None:
    value = cert.subject.native.get(key)
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value) if value is not None else None


def _issuer_name(cert: x509.Certificate) -> str:
    value = cert.issuer.native.get("common_name")
    return str(value) if value else cert.issuer.human_friendly


def certificate_info(cert: x509.Certificate) -> CertificateInfo:
    validity = cert["tbs_certificate"]["validity"]
    return CertificateInfo(
        common_name=_name_part(cert, "common_name") or cert.subject.human_friendly,
        organisation=_name_part(cert, "organization_name"),
        subject=cert.subject.human_friendly,
        issuer=_issuer_name(cert),
        issuer_subject=cert.issuer.human_friendly,
        serial=format(cert.serial_number, "x"),
        sha256=cert.sha256.hex(),
        not_before=validity["not_before"].native,
        not_after=validity["not_after"].native,
    )


_COVERAGE = {
    SignatureCoverageLevel.ENTIRE_FILE: Coverage.ENTIRE_FILE,
    SignatureCoverageLevel.ENTIRE_REVISION: Coverage.ENTIRE_REVISION,
}
_CHANGES = {
    ModificationLevel.NONE: LaterChanges.NONE,
    ModificationLevel.LTA_UPDATES: LaterChanges.VALIDATION_DATA,
    ModificationLevel.FORM_FILLING: LaterChanges.SIGNATURES,
    ModificationLevel.ANNOTATIONS: LaterChanges.ANNOTATIONS,
}
_EXPIRY = {
    AdESIndeterminate.OUT_OF_BOUNDS_NO_POE,
    AdESIndeterminate.OUT_OF_BOUNDS_NOT_REVOKED,
    AdESIndeterminate.EXPIRED,
}
_REVOCATION_UNKNOWN = {
    AdESIndeterminate.TRY_LATER,
    AdESIndeterminate.REVOCATION_OUT_OF_BOUNDS_NO_POE,
}


def _level(
    embedded: EmbeddedPdfSignature, status: PdfSignatureStatus, dss: DocumentSecurityStore | None
) -> str:
    subfilter = str(embedded.sig_object.get("/SubFilter", ""))
    if subfilter != "/ETSI.CAdES.detached":
        return "PKCS#7"
    if dss is not None:
        # The DSS names the signatures it holds validation data for, by a hash of their
        # /Contents (its /VRI dictionary, ETSI EN 319 142-1 5.4.2).
        # pyHanko hashes the raw /Contents when it signs with validation data, and their hex
        # form when it adds validation data to a signed document; accept either.
        contents = embedded.pkcs7_content
        identifiers = {
            DocumentSecurityStore.sig_content_identifier(contents),
            DocumentSecurityStore.sig_content_identifier(contents.hex().encode("ascii")),
        }
        if identifiers & set(dss.vri_entries):
            return "B-LT"
    return "B-B" if status.timestamp_validity is None else "B-T"


def _report(
    embedded: EmbeddedPdfSignature,
    status: PdfSignatureStatus,
    dss: DocumentSecurityStore | None,
    now: datetime,
) -> SignatureReport:
    indication: AdESSubIndic | None = status.trust_problem_indic
    cert = certificate_info(status.signing_cert)
    expired = indication in _EXPIRY or not cert.not_before <= now <= cert.not_after
    if status.revoked:
        revocation = Revocation.REVOKED
    elif status.trusted:
        revocation = Revocation.GOOD
    else:
        revocation = Revocation.UNKNOWN
    coverage = _COVERAGE.get(status.coverage or SignatureCoverageLevel.UNCLEAR, Coverage.PARTIAL)
    changes = _CHANGES.get(
        status.modification_level or ModificationLevel.OTHER, LaterChanges.CONTENT
    )
    permitted = bool(status.docmdp_ok) and changes is not LaterChanges.CONTENT
    timestamp = None
    if status.timestamp_validity is not None:
        tst = status.timestamp_validity
        timestamp = TimestampInfo(
            time=tst.timestamp.astimezone(VIETNAM_TIME),
            trusted=tst.trusted,
            authority=_name_part(tst.signing_cert, "common_name") or "",
        )

    problems: list[str] = []
    if not status.intact:
        problems.append("tampered")
    if not status.valid:
        problems.append("bad-signature")
    if revocation is Revocation.REVOKED:
        problems.append("revoked")
    if expired:
        problems.append("expired")
    if not permitted:
        problems.append("changed-after-signing")
    if coverage is Coverage.PARTIAL:
        problems.append("partial-coverage")
    if not status.trusted and not problems:
        problems.append("revocation-unknown" if indication in _REVOCATION_UNKNOWN else "untrusted")
    if timestamp is not None and not timestamp.trusted:
        problems.append("timestamp-untrusted")

    hard = {"tampered", "bad-signature", "revoked", "changed-after-signing", "partial-coverage"}
    if hard & set(problems) or expired:
        verdict = Verdict.INVALID
    elif problems:
        verdict = Verdict.INDETERMINATE
    else:
        verdict = Verdict.VALID
    claimed = status.signer_reported_dt
    return SignatureReport(
        field_name=str(embedded.field_name),
        verdict=verdict,
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted,
        signer=cert,
        revocation=revocation,
        revoked_at=(
            status.revocation_details.revocation_date if status.revocation_details else None
        ),
        expired=expired,
        claimed_signing_time=claimed.astimezone(VIETNAM_TIME) if claimed else None,
        timestamp=timestamp,
        level=_level(embedded, status, dss),
        coverage=coverage,
        later_changes=changes,
        changes_permitted=permitted,
        problems=tuple(problems),
    )


def _broken_report(embedded: EmbeddedPdfSignature, exc: Exception) -> SignatureReport:
    """A signature pyHanko cannot even evaluate (a malformed CMS, an unknown subfilter)."""
    try:
        signer = certificate_info(embedded.signer_cert)
    except (ValueError, KeyError, TypeError, SignatureValidationError):
        epoch = datetime.fromtimestamp(0, UTC)
        signer = CertificateInfo("", None, "", "", "", "", "", epoch, epoch)
    return SignatureReport(
        field_name=str(embedded.field_name),
        verdict=Verdict.INVALID,
        intact=False,
        valid=False,
        trusted=False,
        signer=signer,
        revocation=Revocation.UNKNOWN,
        expired=False,
        level="unknown",
        coverage=Coverage.PARTIAL,
        later_changes=LaterChanges.CONTENT,
        changes_permitted=False,
        problems=("malformed", type(exc).__name__),
    )


async def validate_pdf(
    pdf: bytes, trust: TrustStore, *, allow_fetching: bool = True
) -> ValidationReport:
    """Validate every signature of `pdf` against `trust`, fetching revocation data from the
    CAs when allowed and using what the document embeds (its DSS) either way."""
    reader: PdfFileReader = open_reader(pdf)
    now = datetime.now(UTC)
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except (KeyError, ValueError, PdfError):
        dss = None
    if dss is not None:
        context = dss.as_validation_context(
            {
                "trust_roots": list(trust.roots),
                "other_certs": list(trust.intermediates),
                "allow_fetching": allow_fetching,
                "revocation_mode": "hard-fail",
            }
        )
    else:
        context = trust.validation_context(allow_fetching=allow_fetching)
    usage = KeyUsageConstraints(key_usage=set(REQUIRED_KEY_USAGE))
    reports = []
    try:
        for embedded in reader.embedded_regular_signatures:
            try:
                status = await async_validate_pdf_signature(
                    embedded, context, key_usage_settings=usage
                )
            except (SignatureValidationError, PdfError, ValueError, KeyError, TypeError) as exc:
                reports.append(_broken_report(embedded, exc))
                continue
            reports.append(_report(embedded, status, dss, now))
    finally:
        await context.aclose()
    if not reports:
        verdict = Verdict.INDETERMINATE
    elif all(r.verdict is Verdict.VALID for r in reports):
        verdict = Verdict.VALID
    elif any(r.verdict is Verdict.INVALID for r in reports):
        verdict = Verdict.INVALID
    else:
        verdict = Verdict.INDETERMINATE
    return ValidationReport(
        document_sha256=sha256_hex(pdf),
        validated_at=now.astimezone(VIETNAM_TIME).replace(microsecond=0),
        verdict=verdict,
        signatures=tuple(reports),
    )


# --------------------------------------------------------------------------- Vietnamese


# The signature fields NĐ 30's layout gives a document (services/docs/signatures/layout.py),
# named as people know them; other senders' fields are just "a signature".
_FIELD_VI = {
    "lanh-dao": "Chữ ký của người có thẩm quyền",
    "con-dau": "Chữ ký số của cơ quan",
    "ky-nhay-noi-dung": "Chữ ký nháy (nội dung)",
    "ky-nhay-the-thuc": "Chữ ký nháy (thể thức)",
}
_LEVEL_VI = {
    "B-B": "cơ bản (PAdES B-B)",
    "B-T": "có dấu thời gian (PAdES B-T)",
    "B-LT": "có dữ liệu kiểm tra dài hạn (PAdES B-LT)",
    "B-LTA": "lưu trữ dài hạn (PAdES B-LTA)",
}
_VERDICT_VI = {
    Verdict.VALID: "HỢP LỆ",
    Verdict.INVALID: "KHÔNG HỢP LỆ",
    Verdict.INDETERMINATE: "CHƯA XÁC ĐỊNH",
}
_PROBLEM_VI = {
    "tampered": "nội dung đã bị sửa sau khi ký",
    "bad-signature": "chữ ký không khớp với chứng thư số",
    "revoked": "chứng thư số đã bị thu hồi",
    "expired": "chứng thư số đã hết hạn hoặc chưa có hiệu lực",
    "changed-after-signing": "văn bản bị thay đổi nội dung sau khi ký",
    "partial-coverage": "chữ ký không bao phủ toàn bộ phiên bản đã ký",
    "untrusted": "chứng thư số không do tổ chức tin cậy cấp",
    "revocation-unknown": "chưa kiểm tra được tình trạng thu hồi",
    "timestamp-untrusted": "dấu thời gian không do tổ chức tin cậy cấp",
    "malformed": "chữ ký bị lỗi định dạng",
}
_UNREADABLE_VI = {
    "corrupt": "tệp không phải PDF hợp lệ hoặc đã bị hỏng",
    "encrypted": "tệp PDF được mã hóa",
    "too-large": "tệp quá lớn để kiểm tra",
}
_CHANGES_VI = {
    LaterChanges.NONE: "Chữ ký bao phủ toàn bộ tệp.",
    LaterChanges.VALIDATION_DATA: "Sau chữ ký chỉ bổ sung dữ liệu kiểm tra hiệu lực.",
    LaterChanges.SIGNATURES: "Sau chữ ký chỉ có thêm chữ ký khác.",
    LaterChanges.ANNOTATIONS: "Sau chữ ký có thêm ghi chú (annotation).",
    LaterChanges.CONTENT: "Sau chữ ký văn bản bị thay đổi nội dung.",
}


def _when(moment: datetime) -> str:
    return moment.astimezone(VIETNAM_TIME).strftime("%H:%M:%S ngày %d/%m/%Y")


def summary_vi(report: ValidationReport) -> str:
    """The report as Vietnamese sentences, one paragraph per signature."""
    count = len(report.signatures)
    if report.problems:
        why = "; ".join(_UNREADABLE_VI.get(p, p) for p in report.problems)
        return f"Không kiểm tra được chữ ký số: {why}. Kết luận: {_VERDICT_VI[report.verdict]}."
    if not count:
        return "Văn bản không có chữ ký số."
    lines = [f"Văn bản có {count} chữ ký số. Kết luận: {_VERDICT_VI[report.verdict]}."]
    for index, sig in enumerate(report.signatures, start=1):
        who = sig.signer.common_name
        if sig.signer.organisation and sig.signer.organisation != who:
            who += f" ({sig.signer.organisation})"
        kind = _FIELD_VI.get(sig.field_name, "Chữ ký")
        parts = [f"{index}. {kind} của {who}: {_VERDICT_VI[sig.verdict]}."]
        if sig.timestamp is not None:
            trusted = "tin cậy" if sig.timestamp.trusted else "không tin cậy"
            parts.append(f"Ký lúc {_when(sig.timestamp.time)} (dấu thời gian {trusted}).")
        elif sig.claimed_signing_time is not None:
            parts.append(f"Thời điểm ký do người ký khai: {_when(sig.claimed_signing_time)}.")
        level = _LEVEL_VI.get(sig.level, sig.level)
        parts.append(f"Chứng thư số do {sig.signer.issuer} cấp; chữ ký mức {level}.")
        if sig.revocation is Revocation.REVOKED and sig.revoked_at is not None:
            parts.append(f"Chứng thư bị thu hồi từ {_when(sig.revoked_at)}.")
        elif sig.revocation is Revocation.GOOD:
            parts.append("Chứng thư chưa bị thu hồi.")
        parts.append(_CHANGES_VI[sig.later_changes])
        described = [_PROBLEM_VI[p] for p in sig.problems if p in _PROBLEM_VI]
        if described:
            parts.append("Vấn đề: " + "; ".join(described) + ".")
        lines.append(" ".join(parts))
    return "\n".join(lines)
