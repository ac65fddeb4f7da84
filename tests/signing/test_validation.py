"""Validation of signed PDFs as they arrive: tampering, later changes, revoked, expired and
untrusted certificates; each checked by our report and, where it can tell, by pdfsig."""

from __future__ import annotations

from datetime import datetime
from io import BytesIO

import pytest
from cryptography import x509 as pyca_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from services.docs.signing import (
    Pkcs12Key,
    SignedDocument,
    TrustStore,
    Verdict,
    summary_vi,
    validate_pdf,
)
from services.docs.signing.errors import PdfCorrupt
from services.docs.signing.trust import load_certificates
from services.docs.signing.validation import LaterChanges, Revocation
from tests.signing.conftest import Poppler, pdfsig_blocks
from tests.signing.documents import draft_pdf
from tests.signing.helpers import sign_elsewhere


async def test_byte_changed_inside_a_signed_range_is_detected(
    signed_in_turn: tuple[bytes, list[SignedDocument]], trust: TrustStore, poppler: Poppler
) -> None:
    _, signed = signed_in_turn
    original = signed[-1].data
    tampered = original.replace(b"(Dieu 1. Noi dung", b"(Dieu 7. Noi dung", 1)
    assert tampered != original

    report = await validate_pdf(tampered, trust)
    blocks = pdfsig_blocks(poppler.pdfsig(tampered))

    assert report.verdict is Verdict.INVALID
    assert all(not s.intact for s in report.signatures)
    assert all("tampered" in s.problems for s in report.signatures)
    assert all("Digest Mismatch" in block for block in blocks)
    assert "nội dung đã bị sửa sau khi ký" in summary_vi(report)


async def test_content_added_in_a_later_update_is_detected(
    signed_in_turn: tuple[bytes, list[SignedDocument]], trust: TrustStore, poppler: Poppler
) -> None:
    _, signed = signed_in_turn
    writer = IncrementalPdfFileWriter(BytesIO(signed[1].data))
    forged = writer.add_object(
        generic.StreamObject(stream_data=b"BT /F1 40 Tf 100 420 Td (DA SUA DOI) Tj ET")
    )
    writer.add_stream_to_page(0, forged)
    out = BytesIO()
    writer.write(out)
    changed = out.getvalue()

    report = await validate_pdf(changed, trust)
    blocks = pdfsig_blocks(poppler.pdfsig(changed))

    assert report.verdict is Verdict.INVALID
    for signature in report.signatures:
        assert signature.intact  # the signed bytes themselves are untouched ...
        assert signature.later_changes is LaterChanges.CONTENT  # ... but the page changed after
        assert not signature.changes_permitted
    # pdfsig only sees that the signatures no longer cover the whole file
    assert all("Signature is Valid." in b for b in blocks[:2])
    assert all("Not total document signed" in b for b in blocks[:2])


async def test_revoked_certificate_is_reported(
    keys: dict[str, Pkcs12Key], trust: TrustStore, poppler: Poppler
) -> None:
    incoming = await sign_elsewhere(draft_pdf(), keys["revoked"])

    report = await validate_pdf(incoming, trust)
    (signature,) = report.signatures
    (block,) = pdfsig_blocks(poppler.pdfsig(incoming))

    assert report.verdict is Verdict.INVALID
    assert signature.intact
    assert signature.revocation is Revocation.REVOKED
    assert signature.revoked_at is not None
    assert "revoked" in signature.problems
    assert "chứng thư số đã bị thu hồi" in summary_vi(report)
    assert "Certificate has been Revoked." in block


async def test_expired_certificate_is_reported(
    keys: dict[str, Pkcs12Key], trust: TrustStore, poppler: Poppler
) -> None:
    incoming = await sign_elsewhere(draft_pdf(), keys["expired"])

    report = await validate_pdf(incoming, trust)
    (signature,) = report.signatures
    (block,) = pdfsig_blocks(poppler.pdfsig(incoming))

    assert report.verdict is Verdict.INVALID
    assert signature.intact
    assert signature.expired
    assert "expired" in signature.problems
    assert "Certificate has Expired" in block


async def test_public_ca_signature_chains_to_the_national_root(
    keys: dict[str, Pkcs12Key], trust: TrustStore
) -> None:
    incoming = await sign_elsewhere(draft_pdf(), keys["citizen"])

    report = await validate_pdf(incoming, trust)

    assert report.verdict is Verdict.VALID
    assert report.signatures[0].signer.issuer == "Test CA Công cộng"
    assert report.signatures[0].level == "B-B"


def other_root() -> TrustStore:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = pyca_x509.Name([pyca_x509.NameAttribute(NameOID.COMMON_NAME, "Gốc khác")])
    cert = (
        pyca_x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(pyca_x509.random_serial_number())
        .not_valid_before(datetime(2020, 1, 1))
        .not_valid_after(datetime(2040, 1, 1))
        .add_extension(pyca_x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return TrustStore(roots=tuple(load_certificates(cert.public_bytes(serialization.Encoding.PEM))))


async def test_signature_outside_the_trust_store_is_indeterminate(
    signed_in_turn: tuple[bytes, list[SignedDocument]],
) -> None:
    _, signed = signed_in_turn

    report = await validate_pdf(signed[0].data, other_root())

    assert report.verdict is Verdict.INDETERMINATE
    assert report.signatures[0].intact
    assert not report.signatures[0].trusted
    assert "untrusted" in report.signatures[0].problems


async def test_document_without_signatures_is_reported_as_such(trust: TrustStore) -> None:
    report = await validate_pdf(draft_pdf(), trust)

    assert report.signatures == ()
    assert report.verdict is Verdict.INDETERMINATE
    assert summary_vi(report) == "Văn bản không có chữ ký số."


async def test_corrupt_pdf_cannot_be_validated(trust: TrustStore) -> None:
    with pytest.raises(PdfCorrupt):
        await validate_pdf(b"%PDF-1.7 garbage", trust)
