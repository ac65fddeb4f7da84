"""Document types of NĐ 30/2020 (Điều 7, Phụ lục III) with their case-sensitive abbreviations,
and the urgency and confidentiality marks (Phụ lục I, III.2)."""

from __future__ import annotations

import enum

import msgspec


class DocumentType(msgspec.Struct, frozen=True, kw_only=True):
    code: str  # the abbreviation, or a stable slug for types without one
    name: str
    abbreviation: str | None
    # Working days to handle an incoming document of this type when nobody set a due date.
    default_days: int = 10


def _t(abbr: str | None, name: str, days: int = 10, code: str | None = None) -> DocumentType:
    return DocumentType(code=code or abbr or name, name=name, abbreviation=abbr, default_days=days)


# Công văn and thư công have no abbreviation (a công văn's ký hiệu is issuer-unit).
DOCUMENT_TYPES: tuple[DocumentType, ...] = (
    _t(None, "Công văn", 10, "CV"),
    _t(None, "Thư công", 10, "THC"),
    _t("NQ", "Nghị quyết"),
    _t("QĐ", "Quyết định"),
    _t("CT", "Chỉ thị"),
    _t("QC", "Quy chế"),
    _t("QyĐ", "Quy định"),
    _t("TC", "Thông cáo"),
    _t("TB", "Thông báo", 5),
    _t("HD", "Hướng dẫn"),
    _t("CTr", "Chương trình"),
    _t("KH", "Kế hoạch"),
    _t("PA", "Phương án"),
    _t("ĐA", "Đề án", 15),
    _t("DA", "Dự án", 15),
    _t("BC", "Báo cáo", 7),
    _t("BB", "Biên bản"),
    _t("TTr", "Tờ trình", 7),
    _t("HĐ", "Hợp đồng"),
    _t("CĐ", "Công điện", 1),
    _t("BGN", "Bản ghi nhớ"),
    _t("BTT", "Bản thỏa thuận"),
    _t("GUQ", "Giấy ủy quyền"),
    _t("GM", "Giấy mời", 2),
    _t("GGT", "Giấy giới thiệu"),
    _t("GNP", "Giấy nghỉ phép"),
    _t("PG", "Phiếu gửi"),
    _t("PC", "Phiếu chuyển"),
    _t("PB", "Phiếu báo"),
    _t("SY", "Bản sao y"),
    _t("SL", "Bản sao lục"),
    _t("TrS", "Bản trích sao"),
)
BY_CODE = {t.code: t for t in DOCUMENT_TYPES}


class Urgency(enum.StrEnum):
    NORMAL = "normal"
    URGENT = "khan"  # Khẩn
    VERY_URGENT = "thuong_khan"  # Thượng khẩn
    FLASH = "hoa_toc"  # Hỏa tốc
    # Not in NĐ 30; older rules had it, so incoming documents may still carry it.
    FLASH_TIMED = "hoa_toc_hen_gio"  # Hỏa tốc hẹn giờ


URGENCY_LABELS = {
    Urgency.NORMAL: "Thường",
    Urgency.URGENT: "Khẩn",
    Urgency.VERY_URGENT: "Thượng khẩn",
    Urgency.FLASH: "Hỏa tốc",
    Urgency.FLASH_TIMED: "Hỏa tốc hẹn giờ",
}
# NĐ 30 asks for "immediately" on urgent documents; as working days for a default due date.
URGENCY_DAYS = {
    Urgency.NORMAL: None,
    Urgency.URGENT: 3,
    Urgency.VERY_URGENT: 2,
    Urgency.FLASH: 1,
    Urgency.FLASH_TIMED: 1,
}


class Confidentiality(enum.StrEnum):
    NORMAL = "normal"
    # Mật, Tối mật, Tuyệt mật (Luật Bảo vệ bí mật nhà nước 2018), in rising order.
    MAT = "mat"
    TOI_MAT = "toi_mat"
    TUYET_MAT = "tuyet_mat"


CONFIDENTIALITY_LABELS = {
    Confidentiality.NORMAL: "Thường",
    Confidentiality.MAT: "Mật",
    Confidentiality.TOI_MAT: "Tối mật",
    Confidentiality.TUYET_MAT: "Tuyệt mật",
}


def is_confidential(level: Confidentiality) -> bool:
    return level is not Confidentiality.NORMAL
