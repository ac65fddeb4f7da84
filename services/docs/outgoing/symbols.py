"""Số, ký hiệu of outgoing documents (NĐ 30/2020, Phụ lục I, II.3).

Typed documents: `<số>/<type abbreviation>-<issuer abbreviation>` (`15/QĐ-UBND`). A công văn has
no type abbreviation: `<số>/<issuer>-<drafting unit or field>` (`05/UBND-VX`). Legal documents
(VBQPPL) put the year in: `09/2025/QĐ-UBND`. Numbers below 10 take a leading zero."""

from __future__ import annotations

import re

from services.common.problems import InvalidInput
from services.docs.catalog.types import BY_CODE
from services.docs.registers.numbering import format_number

# The strict forms the spec asks for when issuing (§5.2).
ADMINISTRATIVE = re.compile(r"^(?P<so>\d{2,})/(?P<kh>[A-ZĐ][A-Za-zĐđ0-9]*(?:-[A-Za-zĐđ0-9]+)+)$")
WITH_YEAR = re.compile(r"^\d{2,}/\d{4}/[A-ZĐ][A-Za-zĐđ0-9]*(?:-[A-Za-zĐđ0-9]+)+$")
_ABBREVIATION = re.compile(r"^[A-ZĐ][A-Za-zĐđ0-9]*(?:-[A-Za-zĐđ0-9]+)*$")


def _check_abbreviation(value: str, what_vi: str, what_en: str) -> None:
    if not _ABBREVIATION.fullmatch(value):
        raise InvalidInput(
            f"{what_vi} “{value}” không đúng thể thức (chữ in hoa đầu, không dấu cách).",
            f"The {what_en} {value!r} is not a valid abbreviation.",
        )


def build_symbol(
    number: int,
    doc_type: str,
    issuer: str,
    unit: str = "",
    *,
    year: int | None = None,
) -> str:
    """The full `số/ký hiệu`; `year` only for legal documents (VBQPPL)."""
    kind = BY_CODE.get(doc_type)
    if kind is None:
        raise InvalidInput(
            f"Loại văn bản “{doc_type}” không có trong danh mục.", f"Unknown type {doc_type!r}."
        )
    _check_abbreviation(issuer, "Tên viết tắt cơ quan", "issuer abbreviation")
    if kind.abbreviation is None:
        if not unit:
            raise InvalidInput(
                "Công văn cần tên viết tắt của đơn vị soạn thảo hoặc lĩnh vực (ví dụ UBND-VX).",
                "A công văn needs the drafting unit's abbreviation.",
            )
        _check_abbreviation(unit, "Tên viết tắt đơn vị", "unit abbreviation")
        sign = f"{issuer}-{unit}"
    else:
        sign = f"{kind.abbreviation}-{issuer}"
    so = format_number(number)
    symbol = f"{so}/{year}/{sign}" if year is not None else f"{so}/{sign}"
    pattern = WITH_YEAR if year is not None else ADMINISTRATIVE
    if not pattern.fullmatch(symbol):
        raise InvalidInput(
            f"Số, ký hiệu “{symbol}” không đúng thể thức.", f"Malformed symbol {symbol!r}."
        )
    return symbol
