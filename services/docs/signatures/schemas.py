"""Response bodies of stored signature validation reports."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec

from services.docs.signing.validation import ValidationReport, Verdict


class SignatureCheck(msgspec.Struct, kw_only=True):
    """A file's stored verdict, as a document's card lists it with the file."""

    verdict: Verdict
    checked_at: dt.datetime
    signatures: int  # 0: the file carries no signature at all


class StoredReport(msgspec.Struct, kw_only=True):
    """The validation report stored for one file's bytes (`sha256`), with who checked it when
    and the report as Vietnamese sentences (`summary_vi`, one line per signature)."""

    object_id: uuid.UUID
    sha256: str
    file_name: str
    # The document the file was checked for: an incoming document or an outgoing one.
    document_id: uuid.UUID | None = None
    outgoing_id: uuid.UUID | None = None
    checked_at: dt.datetime
    checked_by: str
    verdict: Verdict
    signatures: int
    summary_vi: str
    report: ValidationReport
