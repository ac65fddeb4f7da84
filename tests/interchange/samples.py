"""Packets of every kind, with Vietnamese text and binary attachments, for the interchange tests."""

from __future__ import annotations

import io
import random
import zipfile
from datetime import date, datetime

import msgspec

from services.interchange.edxml import (
    Attachment,
    Business,
    BusinessDocType,
    BusinessDocumentInfo,
    Code,
    DocumentPacket,
    DocumentType,
    MessageHeader,
    Organisation,
    OtherInfo,
    PromulgationInfo,
    Receiver,
    ReplacementInfo,
    ResponseFor,
    SignerInfo,
    StaffInfo,
    StatusCode,
    StatusPacket,
    TraceHeader,
    document_id,
)
from services.interchange.edxml.conventions import LOCAL_TIME

NGHE_AN = "000.00.00.H41"
VPCP = "000.00.00.G22"
CAM_KHE = "000.00.24.H44"
TIEN_LUONG = "000.46.24.H44"
ISSUED = date(2025, 8, 15)
SENT_AT = datetime(2025, 8, 15, 14, 5, 0, tzinfo=LOCAL_TIME)


def organisation(code: str, name: str, **extra: str | None) -> Organisation:
    return Organisation(organ_id=code, organ_name=name, organization_in_charge=name, **extra)


def zipped(name: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, content)
    return buffer.getvalue()


def noise(size: int, seed: int = 102) -> bytes:
    """Arbitrary binary content, the same on every call."""
    return random.Random(seed).randbytes(size)


def attachments() -> tuple[Attachment, ...]:
    pdf = b"%PDF-1.7\n" + noise(3000) + b"\n%%EOF\n"
    return (
        Attachment(
            content_id="7f7c0b5e-0000-0000-0000-000000000001",
            name="Quyết định số 123-QĐ-UBND về việc phê duyệt.pdf",
            content_type="application/pdf",
            description="Văn bản chính (đã ký số)",
            content=pdf,
        ),
        Attachment(
            content_id="7f7c0b5e-0000-0000-0000-000000000002",
            name="Phụ lục – bảng tổng hợp kinh phí.doc",
            content_type="application/zip",
            description="Phụ lục kèm theo, nén ZIP",
            content=zipped("Phụ lục.doc", bytes(range(256)) * 40),
        ),
        Attachment(
            content_id="209",
            name="ảnh chụp hiện trường.bin",
            content_type="application/octet-stream",
            description=None,
            content=bytes([0, 1, 2, 0xFF, 0xFE]) + noise(1000, seed=2016),
        ),
    )


def header(**changes: object) -> MessageHeader:
    code = Code(number="123", notation="UBND-VX")
    base = MessageHeader(
        sender=organisation(
            NGHE_AN,
            "Ủy ban nhân dân tỉnh Nghệ An",
            address="Số 03 đường Trường Thi, thành phố Vinh",
            email="vanthu@nghean.gov.vn",
            telephone="0238 3844 888",
            fax="",
            website="https://nghean.gov.vn",
        ),
        recipients=(
            organisation(VPCP, "Văn phòng Chính phủ"),
            organisation(CAM_KHE, "UBND huyện Cẩm Khê"),
        ),
        document_id=document_id(NGHE_AN, ISSUED, code.number, code.notation),
        code=code,
        promulgation=PromulgationInfo(place="Nghệ An", date=ISSUED),
        document_type=DocumentType(type=1, type_name="Công văn", type_detail=0),
        subject=(
            "V/v báo cáo tình hình thực hiện nhiệm vụ phát triển kinh tế - xã hội 6 tháng đầu năm"
        ),
        content=(
            "Đề nghị các cơ quan, đơn vị báo cáo trước ngày 30/8/2025 <kèm số liệu & biểu mẫu>."
        ),
        signer=SignerInfo(
            competence="KT. CHỦ TỊCH", position="PHÓ CHỦ TỊCH", full_name="Nguyễn Văn Đức"
        ),
        due_date=date(2025, 8, 30),
        other=OtherInfo(
            priority=1,
            sphere_of_promulgation="Liên thông văn bản quốc gia",
            typer_notation="NVĐ",
            promulgation_amount=5,
            page_amount=3,
            direction=False,
            appendixes=("Phụ lục I: Biểu tổng hợp", "Phụ lục II: Danh sách đơn vị"),
        ),
        response_for=(
            ResponseFor(
                organ_id=VPCP,
                code="267/VPCP-TTĐT",
                promulgation_date=date(2025, 7, 1),
                document_id=f"{VPCP},2025/07/01,267/VPCP-TTĐT",
            ),
        ),
        steering_type=1,
        to_places=("Như trên;", "Lưu: VT, TH."),
    )
    return msgspec.structs.replace(base, **changes)


def staff() -> StaffInfo:
    return StaffInfo(
        department="Văn thư - Lưu trữ",
        staff="Trần Thị Bích Ngọc",
        mobile="0900000000",
        email="vanthu@nghean.gov.vn",
    )


def new_document() -> DocumentPacket:
    head = header()
    return DocumentPacket(
        header=head,
        trace=(TraceHeader(organ_id=NGHE_AN, timestamp=SENT_AT),),
        business=Business(
            doc_type=BusinessDocType.NEW,
            reason="Văn bản điện tử mới",
            document_id=head.document_id,
            paper=False,
            staff=(staff(),),
        ),
        attachments=attachments(),
    )


def revoke_document() -> DocumentPacket:
    original = header()
    return DocumentPacket(
        header=original,
        trace=(TraceHeader(organ_id=NGHE_AN, timestamp=SENT_AT),),
        business=Business(
            doc_type=BusinessDocType.REVOKE,
            reason="Thu hồi văn bản điện tử do sai sót về thể thức",
            document_id=original.document_id,
            staff=(staff(),),
        ),
    )


def update_document() -> DocumentPacket:
    original = header()
    return DocumentPacket(
        header=header(subject="V/v báo cáo tình hình (cập nhật danh sách nơi nhận)"),
        trace=(
            TraceHeader(organ_id=NGHE_AN, timestamp=SENT_AT),
            TraceHeader(
                organ_id=VPCP, timestamp=datetime(2025, 8, 15, 16, 0, 1, tzinfo=LOCAL_TIME)
            ),
        ),
        business=Business(
            doc_type=BusinessDocType.UPDATE,
            reason="Cập nhật văn bản điện tử",
            document_id=original.document_id,
            paper=True,
            staff=(staff(), StaffInfo(staff="Lê Văn Hùng")),
            document_info=BusinessDocumentInfo(
                document_info=True,
                document_receiver=True,
                receivers=(
                    Receiver(receiver_type=0, organ_id=TIEN_LUONG),
                    Receiver(receiver_type=1, organ_id=CAM_KHE),
                ),
            ),
        ),
        attachments=attachments()[:1],
    )


def replace_document() -> DocumentPacket:
    code = Code(number="124", notation="UBND-VX")
    head = header(
        code=code,
        document_id=document_id(NGHE_AN, ISSUED, code.number, code.notation),
        subject="V/v báo cáo tình hình (thay thế Công văn số 123/UBND-VX)",
    )
    return DocumentPacket(
        header=head,
        trace=(TraceHeader(organ_id=NGHE_AN, timestamp=SENT_AT),),
        business=Business(
            doc_type=BusinessDocType.REPLACE,
            reason="Thay thế văn bản điện tử",
            document_id=header().document_id,
            staff=(staff(),),
            replacements=(
                ReplacementInfo(document_id=header().document_id, organ_ids=(VPCP, CAM_KHE)),
            ),
        ),
        attachments=attachments()[:2],
    )


def status(code: StatusCode = StatusCode.ACCEPTED, description: str | None = None) -> StatusPacket:
    original = header()
    return StatusPacket(
        response_for=ResponseFor(
            organ_id=NGHE_AN,
            code=original.code.text,
            promulgation_date=ISSUED,
            document_id=original.document_id,
        ),
        sender=organisation(VPCP, "Văn phòng Chính phủ", email="vanthu@chinhphu.vn"),
        code=code,
        description=description or "Văn thư - Phòng Hành chính: Đã tiếp nhận, số đến 1234",
        timestamp=datetime(2025, 8, 15, 15, 0, 0, tzinfo=LOCAL_TIME),
        staff=StaffInfo(department="Văn thư", staff="Phạm Thị Hoa", mobile="0911111111"),
    )


def document_kinds() -> dict[str, DocumentPacket]:
    return {
        "new": new_document(),
        "revoke": revoke_document(),
        "update": update_document(),
        "replace": replace_document(),
    }
