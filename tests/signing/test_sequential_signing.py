"""Three signatures in the order Decree 30/2020 sets (initials, leader, agency), each as an
incremental update, all valid afterwards for pyHanko and for poppler's pdfsig (NSS)."""

from __future__ import annotations

import msgspec

from services.docs.signing import (
    SignatureLevel,
    SignedDocument,
    TrustStore,
    ValidationReport,
    Verdict,
    report_json,
    summary_vi,
    validate_pdf,
)
from services.docs.signing.pdf import sha256_hex
from tests.signing.conftest import Poppler, pdfsig_blocks


async def test_each_signature_only_appends_to_the_previous_bytes(
    signed_in_turn: tuple[bytes, list[SignedDocument]],
) -> None:
    finalised, (first, second, third) = signed_in_turn

    assert first.data.startswith(finalised)
    assert second.data.startswith(first.data)
    assert third.data.startswith(second.data)
    assert third.sha256 == sha256_hex(third.data)


async def test_levels_follow_the_roles(signed_in_turn: tuple[bytes, list[SignedDocument]]) -> None:
    _, signed = signed_in_turn

    assert [s.level for s in signed] == [
        SignatureLevel.B_T,
        SignatureLevel.B_T,
        SignatureLevel.B_LT,
    ]
    assert all(s.signed_at.utcoffset() is not None for s in signed)
    assert signed[0].signed_at.isoformat().endswith("+07:00")


async def test_all_three_signatures_are_valid_for_pyhanko(
    signed_in_turn: tuple[bytes, list[SignedDocument]], trust: TrustStore
) -> None:
    _, signed = signed_in_turn

    report = await validate_pdf(signed[-1].data, trust)

    assert report.verdict is Verdict.VALID
    assert [s.field_name for s in report.signatures] == ["ky-nhay-1", "lanh-dao", "con-dau"]
    assert [s.signer.common_name for s in report.signatures] == [
        "Trần Thị Thu Hà",
        "Nguyễn Văn Bình",
        "Ủy ban nhân dân tỉnh Hưng Yên",
    ]
    assert all(s.intact and s.valid and s.trusted for s in report.signatures)
    assert [s.level for s in report.signatures] == ["B-T", "B-T", "B-LT"]
    assert all(s.timestamp is not None and s.timestamp.trusted for s in report.signatures)
    assert [s.later_changes.value for s in report.signatures] == [
        "signatures",
        "signatures",
        "validation-data",
    ]
    assert all(s.revocation.value == "good" for s in report.signatures)


async def test_all_three_signatures_are_valid_for_pdfsig(
    signed_in_turn: tuple[bytes, list[SignedDocument]], poppler: Poppler
) -> None:
    _, signed = signed_in_turn

    blocks = pdfsig_blocks(poppler.pdfsig(signed[-1].data))

    assert len(blocks) == 3
    for block, name in zip(blocks, ["ky-nhay-1", "lanh-dao", "con-dau"], strict=True):
        assert f"Signature Field Name: {name}" in block
        assert "Signature Validation: Signature is Valid." in block
        assert "Certificate Validation: Certificate is Trusted." in block
        assert "Signature Type: ETSI.CAdES.detached" in block


async def test_earlier_revisions_stay_valid_for_pdfsig_on_their_own(
    signed_in_turn: tuple[bytes, list[SignedDocument]], poppler: Poppler
) -> None:
    _, (first, second, _) = signed_in_turn

    only_first = pdfsig_blocks(poppler.pdfsig(first.data))
    first_two = pdfsig_blocks(poppler.pdfsig(second.data))

    # pdfsig lists the plan's empty fields too, as "not signed"
    assert "Signature is Valid." in only_first[0]
    assert "Total document signed" in only_first[0]
    assert all("is not signed" in b for b in only_first[1:])
    assert all("Signature is Valid." in b for b in first_two[:2])
    assert "Total document signed" in first_two[1]
    assert "is not signed" in first_two[2]


async def test_report_round_trips_as_json_and_reads_in_vietnamese(
    signed_in_turn: tuple[bytes, list[SignedDocument]], trust: TrustStore
) -> None:
    _, signed = signed_in_turn
    report = await validate_pdf(signed[-1].data, trust)

    decoded = msgspec.json.decode(report_json(report), type=ValidationReport)
    summary = summary_vi(report)

    assert decoded == report
    assert decoded.document_sha256 == signed[-1].sha256
    assert summary.startswith("Văn bản có 3 chữ ký số. Kết luận: HỢP LỆ.")
    assert "Nguyễn Văn Bình" in summary
    assert "dấu thời gian tin cậy" in summary
