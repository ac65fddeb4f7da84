"""Agency codes and edXML document ids (spec §4.5, §1.4 item 1.14).

`AGENCY_CODE` duplicates `services/identity/agencies/codes.py:CODE_102` on purpose: services
never import each other, and the format is fixed by QCVN 102:2016, so the two cannot drift
apart without the standard changing."""

from __future__ import annotations

import re
from datetime import date
from typing import Final

from services.interchange.edxml.dates import format_date

# QCVN 102:2016 form AAA.BB.CC.XNN, 13 characters.
AGENCY_CODE: Final = re.compile(r"[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}")
# `{From.OrganId},{yyyy/MM/dd},{CodeNumber}/{CodeNotation}`.
DOCUMENT_ID: Final = re.compile(
    r"(?P<org>[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}),"
    r"(?P<date>[0-9]{4}/[0-9]{2}/[0-9]{2}),"
    r"(?P<code>[^/]+/.+)",
    re.DOTALL,
)


def is_agency_code(text: str) -> bool:
    return AGENCY_CODE.fullmatch(text) is not None


def is_document_id(text: str) -> bool:
    return DOCUMENT_ID.fullmatch(text) is not None


def document_id(organ_id: str, promulgation_date: date, number: str, notation: str) -> str:
    """The global id of a document: its issuing agency, issue date and number/symbol."""
    return f"{organ_id},{format_date(promulgation_date)},{number}/{notation}"
