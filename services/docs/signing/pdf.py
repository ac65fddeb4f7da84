"""Opening a PDF for signing, and the checks that refuse one before any work is done."""

from __future__ import annotations

import hashlib
import hmac
from io import BytesIO

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

from services.docs.signing.errors import (
    DocumentChanged,
    ExistingSignaturesWouldBreak,
    PdfCorrupt,
    PdfEncrypted,
    StepOutOfOrder,
)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def require_expected_hash(data: bytes, expected_sha256: str) -> None:
    """The bytes to sign must be the bytes the signer was shown (issue 6, safety)."""
    actual = sha256_hex(data)
    if not hmac.compare_digest(actual, expected_sha256.strip().lower()):
        raise DocumentChanged(
            "Nội dung văn bản khác với bản đã hiển thị cho người ký; hãy xem lại và ký lại.",
            "The document differs from the version shown to the signer; review and sign again.",
            expected_sha256=expected_sha256,
            actual_sha256=actual,
        )


def _corrupt(exc: BaseException | None = None) -> PdfCorrupt:
    detail = f" ({exc})" if exc is not None else ""
    return PdfCorrupt(
        "Tệp không phải PDF hợp lệ hoặc đã bị hỏng.", f"The file is not a valid PDF{detail}."
    )


def open_reader(data: bytes) -> PdfFileReader:
    """A reader over `data`, or a clear refusal for files that are not PDFs, are damaged or
    are encrypted (an encrypted file cannot be signed without its password, and a document
    of the agency must stay readable by every recipient)."""
    if not data.lstrip()[:5] == b"%PDF-":
        raise _corrupt()
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        encrypted = reader.encrypted
        reader.root  # noqa: B018 - reading the catalogue proves the trailer and xref are sound
        if not encrypted:
            _ = reader.root["/Pages"]
    except (PdfError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise _corrupt(exc) from exc
    if encrypted:
        raise PdfEncrypted(
            "Tệp PDF được mã hóa; hãy gửi bản không mã hóa.",
            "The PDF is encrypted; send an unencrypted copy.",
        )
    return reader


def open_for_signing(data: bytes) -> IncrementalPdfFileWriter:
    reader = open_reader(data)
    try:
        return IncrementalPdfFileWriter.from_reader(reader)
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise _corrupt(exc) from exc


def signed_field_names(reader: PdfFileReader) -> set[str]:
    try:
        return {str(sig.field_name) for sig in reader.embedded_signatures}
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise _corrupt(exc) from exc


def refuse_if_signing_breaks(reader: PdfFileReader, field_name: str) -> None:
    """Refuse when the existing signatures forbid another one, or lock the field."""
    try:
        signatures: list[EmbeddedPdfSignature] = list(reader.embedded_signatures)
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise _corrupt(exc) from exc
    for signature in signatures:
        if str(signature.field_name) == field_name:
            raise StepOutOfOrder(
                f"Ô chữ ký '{field_name}' đã được ký.",
                f"The signature field '{field_name}' is already signed.",
            )
        try:
            level = signature.docmdp_level
            locks = signature.fieldmdp
        except (PdfError, ValueError, KeyError, TypeError) as exc:
            raise _corrupt(exc) from exc
        if level == MDPPerm.NO_CHANGES:
            raise ExistingSignaturesWouldBreak(
                f"Chữ ký '{signature.field_name}' đã khóa văn bản, không cho phép ký thêm.",
                f"The signature '{signature.field_name}' locks the document against any change.",
            )
        if locks is not None and locks.is_locked(field_name):
            raise ExistingSignaturesWouldBreak(
                f"Chữ ký '{signature.field_name}' đã khóa ô '{field_name}'.",
                f"The signature '{signature.field_name}' locks the field '{field_name}'.",
            )
