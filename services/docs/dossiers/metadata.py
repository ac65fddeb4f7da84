"""The metadata of a dossier and of its documents, as NĐ 30/2020 Phụ lục VI names them
(standards.md §5.9), for the archive package: as JSON and as XML with the same content.

Element names are the Appendix's (FileCode, DocOrdinal, TypeName, ...). A few additions carry
what the Appendix's fields cannot say alone: the kind of document, the urgency and the
confidentiality as words (Priority is one digit whose code table is not published; standards.md
§10), and the codes TT 05/2025/TT-BNV uses for retention and access. Dates are ISO 8601."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from typing import Any

from services.docs.catalog.types import (
    BY_CODE,
    CONFIDENTIALITY_LABELS,
    URGENCY_LABELS,
    Confidentiality,
    Urgency,
)
from services.docs.dossiers import retention
from services.docs.incoming.service import VIETNAM

# Our reading of Priority (Number1): the urgency in NĐ 30's rising order.
_PRIORITY = {
    Urgency.NORMAL: 0,
    Urgency.URGENT: 1,
    Urgency.VERY_URGENT: 2,
    Urgency.FLASH: 3,
    Urgency.FLASH_TIMED: 4,
}
# The element name of one entry of each list in the XML form.
_ITEM_NAMES = {
    "Documents": "Document",
    "Files": "FileItem",
    "Parts": "Part",
    "To": "Organ",
    "TraceHeaderList": "TraceHeader",
}


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def split_number(number_symbol: str | None) -> tuple[str, str]:
    """ "123/QĐ-UBND" -> ("123", "QĐ-UBND"): CodeNumber and CodeNotation."""
    if not number_symbol:
        return "", ""
    number, _, notation = number_symbol.partition("/")
    return number.strip(), notation.strip()


def type_name(code: str) -> str:
    known = BY_CODE.get(code)
    return known.name if known is not None else code


def file_code(organ_id: str, row: Any) -> dict[str, Any]:
    # FileCatalog: "mục lục số hoặc năm hình thành hồ sơ"; we number catalogues by year.
    return {"OrganId": organ_id, "FileCatalog": row.year, "FileNotation": row.code}


def dossier_metadata(
    row: Any, organ_id: str, organ_name: str, doc_total: int, page_total: int
) -> dict[str, Any]:
    years = row.retention_years
    return {
        "FileCode": file_code(organ_id, row),
        "OrganName": organ_name,
        "Title": row.title,
        "Heading": row.heading,
        "Maintenance": retention.label(years),
        "MaintenanceCode": retention.maintenance_code(years),
        "Rights": retention.ACCESS_LABELS[row.access],
        "RightsCode": retention.ACCESS_CODES[row.access],
        "Creator": row.responsible_name,
        "Department": row.department,
        "Language": row.language,
        "StartDate": _day(row.start_on),
        "EndDate": _day(row.end_on),
        "DocTotal": doc_total,
        "PageTotal": page_total,
        "Description": row.description,
    }


def _common(
    code: dict[str, Any], ordinal: int, kind: str, row: Any, pages: int | None
) -> dict[str, Any]:
    number, notation = split_number(row.number_symbol)
    urgency = Urgency(row.urgency)
    confidentiality = Confidentiality(row.confidentiality)
    return {
        "FileCode": code,
        "DocOrdinal": ordinal,
        "Kind": kind,
        "TypeName": type_name(row.doc_type),
        "CodeNumber": number,
        "CodeNotation": notation,
        "IssuedDate": _day(row.issued_on),
        "Subject": row.subject,
        "Language": "Tiếng Việt",
        "PageAmount": pages,
        "Priority": _PRIORITY[urgency],
        "Urgency": URGENCY_LABELS[urgency],
        "Confidentiality": CONFIDENTIALITY_LABELS[confidentiality],
    }


def incoming_metadata(
    code: dict[str, Any],
    ordinal: int,
    row: Any,
    pages: int | None,
    assignments: list[Any],
) -> dict[str, Any]:
    return {
        **_common(code, ordinal, "incoming", row, pages),
        "OrganId": row.sender_code or "",
        "OrganName": row.sender_name,
        "Description": row.result or "",
        "ArrivalDate": _day(row.arrived_at.astimezone(VIETNAM).date()),
        "ArrivalNumber": row.arrival_number,
        "SignerInfo": {"Position": "", "FullName": row.signer},
        "ToPlaces": ", ".join(sorted({a.department for a in assignments if a.department})),
        # Who handled it, as the agency's record of distribution and direction.
        "TraceHeaderList": [
            {
                "Role": a.role,
                "FullName": a.assignee_name,
                "Department": a.department,
                "Direction": a.direction,
                "AssignedAt": a.assigned_at.isoformat(),
                "State": a.state,
            }
            for a in assignments
        ],
        "DueDate": _day(row.due_on),
    }


def outgoing_metadata(
    code: dict[str, Any],
    ordinal: int,
    row: Any,
    pages: int | None,
    recipients: list[Any],
    organ_id: str,
    organ_name: str,
) -> dict[str, Any]:
    kind = "internal" if row.internal else "outgoing"
    return {
        **_common(code, ordinal, kind, row, pages),
        "OrganId": organ_id,
        "OrganName": organ_name,
        "Description": "",
        "SignerInfo": {
            "Position": row.authority,
            "FullName": row.signer_name,
        },
        "To": [{"OrganId": r.code, "OrganName": r.name} for r in recipients],
        "IssuedAmount": len(recipients),
        "DueDate": _day(row.reply_due_on),
    }


def _fill(element: ET.Element, value: Any, name: str) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _fill(ET.SubElement(element, key), inner, key)
    elif isinstance(value, list):
        for inner in value:
            _fill(ET.SubElement(element, _ITEM_NAMES.get(name, "Item")), inner, "")
    elif value is None:
        pass
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    else:
        element.text = str(value)


def to_xml(package: dict[str, Any]) -> bytes:
    root = ET.Element("ArchivePackage")
    _fill(root, package, "ArchivePackage")
    ET.indent(root)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True)) + b"\n"
