"""Signatures made the way other software makes them (plain pyHanko, no checks of ours), for
documents that arrive signed: by a revoked or expired certificate, certified, field-locked."""

from __future__ import annotations

from io import BytesIO

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import (
    FieldMDPAction,
    FieldMDPSpec,
    MDPPerm,
    SigFieldSpec,
    SigSeedSubFilter,
)
from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata, PdfSigner

from services.common.problems import Problem
from services.docs.signing import SigningKey


async def sign_elsewhere(
    pdf: bytes,
    key: SigningKey,
    *,
    field_name: str = "chu-ky-den",
    certify: bool = False,
    lock_fields: list[str] | None = None,
) -> bytes:
    meta = PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,
        certify=certify,
        docmdp_permissions=MDPPerm.NO_CHANGES if certify else MDPPerm.FILL_FORMS,
    )
    spec = SigFieldSpec(
        sig_field_name=field_name,
        field_mdp_spec=(
            FieldMDPSpec(FieldMDPAction.INCLUDE, fields=lock_fields) if lock_fields else None
        ),
    )
    out = await PdfSigner(meta, key.signer(), new_field_spec=spec).async_sign_pdf(
        IncrementalPdfFileWriter(BytesIO(pdf))
    )
    return bytes(out.getvalue())


def assert_bilingual(problem: Problem) -> None:
    """Every refusal says what happened in Vietnamese and in English."""
    assert problem.detail_vi
    assert problem.detail_en
    assert problem.title_vi != problem.title_en
    assert 400 <= problem.status < 500
