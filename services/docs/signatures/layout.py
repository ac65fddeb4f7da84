"""Where each signature of an outgoing document goes (NĐ 30/2020, Phụ lục I).

Every field is created before the first signature (see forms.py): the reviewers' initials at
the foot of the last page, under the content (ký nháy); the competent person's block at the
bottom right of the last page (ô 7); the agency's seal over the left third of the leader's
signature image, at its actual size (ô 8); the number and date on page 1 (ô 3, ô 4). Only the
drafter's layout knows where the content ends, so the leader's box may be given by whoever
signs first; the default suits a document whose last page ends above its lower third."""

# mypy: disable-error-code="no-untyped-call"
# (pyHanko leaves many functions unannotated.)

from __future__ import annotations

import io
from functools import cache

from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader

from services.docs.signatures.forms import SignatureField, media_box
from services.docs.signing import (
    Authority,
    LeaderAppearance,
    Placement,
    SealAppearance,
    seal_box,
)
from services.docs.signing.fonts import Fonts

CONTENT_INITIALS = "ky-nhay-noi-dung"  # the head of the drafting unit: content
FORM_INITIALS = "ky-nhay-the-thuc"  # the office: form
LEADER_FIELD = "lanh-dao"
SEAL_FIELD = "con-dau"
INITIALS_FIELDS = {"content_review": CONTENT_INITIALS, "form_review": FORM_INITIALS}

Box = tuple[float, float, float, float]


@cache
def _blank_png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (0, 0, 0, 0)).save(out, format="PNG", dpi=(300, 300))
    return out.getvalue()


def stand_in_signature() -> bytes:
    """The proportions of a handwritten signature image, for a signer with none enrolled."""
    return _blank_png(600, 240)


def stand_in_seal() -> bytes:
    """A seal 36 mm across at 300 dpi, for an agency with no seal enrolled yet."""
    return _blank_png(425, 425)


def page_count(reader: PdfFileReader) -> int:
    return int(reader.root["/Pages"]["/Count"])


def page_box(reader: PdfFileReader, page: int) -> Box:
    page_ref, _ = reader.find_page_for_modification(page)
    return media_box(page_ref.get_object())


def default_leader_box(reader: PdfFileReader) -> Placement:
    last = page_count(reader) - 1
    _, y1, x2, _ = page_box(reader, last)
    return Placement(last, (x2 - 265.0, y1 + 110.0, x2 - 35.0, y1 + 250.0))


def initials_box(reader: PdfFileReader, index: int) -> Placement:
    last = page_count(reader) - 1
    x1, y1, _, _ = page_box(reader, last)
    left = x1 + 70.0 + index * 80.0
    return Placement(last, (left, y1 + 30.0, left + 70.0, y1 + 65.0))


def leader_appearance(
    *,
    authority: str,
    authority_line: str,
    position: str,
    name: str,
    signature_png: bytes,
) -> LeaderAppearance:
    return LeaderAppearance(
        authority=Authority(authority) if authority else None,
        acting_for=authority_line,
        position=position,
        name=name,
        signature_png=signature_png,
    )


def fields_of(
    reader: PdfFileReader,
    *,
    leader: LeaderAppearance | None,
    leader_box: Placement | None,
    seal_png: bytes,
    fonts: Fonts,
    leader_field: bool = True,
) -> list[SignatureField]:
    """The fields of a document: initials, the leader's block and the agency's seal. A
    document nobody signs as leader (a copy, a paper original signed by hand) gets no leader
    field; `leader` (None: a stand-in) still places the seal where the block would be."""
    fields = [
        SignatureField(CONTENT_INITIALS, initials_box(reader, 0)),
        SignatureField(FORM_INITIALS, initials_box(reader, 1)),
    ]
    box = leader_box or default_leader_box(reader)
    layout_of = leader or leader_appearance(
        authority="",
        authority_line="",
        position="",
        name="-",
        signature_png=stand_in_signature(),
    )
    if leader_field:
        fields.append(SignatureField(LEADER_FIELD, box))
    seal = seal_box(box.box, layout_of, SealAppearance(seal_png=seal_png), fonts)
    fields.append(SignatureField(SEAL_FIELD, Placement(box.page, seal), closes_document=True))
    return fields
