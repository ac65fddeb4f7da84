"""Test documents and images, made in code: a two-page A4 draft, the leader's blue signature,
the agency's red seal and a reviewer's initials (transparent PNGs, drawn with Pillow)."""

from __future__ import annotations

import io
import math

from PIL import Image, ImageDraw
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.writer import PdfFileWriter

from services.docs.signing import (
    LeaderAppearance,
    Placement,
    SealAppearance,
    SigningMethod,
    SigningPlan,
    SigningRole,
    SigningStep,
    seal_box,
)

A4 = (0, 0, 595, 842)
BLUE = (20, 40, 200, 255)
RED = (220, 20, 30, 255)


def draft_pdf(pages: int = 2, *, encrypt_with: str | None = None) -> bytes:
    writer = PdfFileWriter()
    font = writer.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Font"),
                pdf_name("/Subtype"): pdf_name("/Type1"),
                pdf_name("/BaseFont"): pdf_name("/Helvetica"),
            }
        )
    )
    for number in range(1, pages + 1):
        lines = [f"QUYET DINH - du thao, trang {number}/{pages}"] + [
            f"Dieu {i}. Noi dung thu nghiem dong {i} cua trang {number}." for i in range(1, 30)
        ]
        ops = [b"BT /F1 11 Tf 72 780 Td 14 TL"]
        ops += [b"(%s) '" % line.encode("ascii") for line in lines]
        ops.append(b"ET")
        content = writer.add_object(generic.StreamObject(stream_data=b"\n".join(ops)))
        page = generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Page"),
                pdf_name("/MediaBox"): generic.ArrayObject([generic.NumberObject(v) for v in A4]),
                pdf_name("/Resources"): generic.DictionaryObject(
                    {pdf_name("/Font"): generic.DictionaryObject({pdf_name("/F1"): font})}
                ),
                pdf_name("/Contents"): content,
            }
        )
        writer.insert_page(page)
    if encrypt_with is not None:
        writer.encrypt(encrypt_with, encrypt_with)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _png(image: Image.Image, dpi: int = 300) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi))
    return out.getvalue()


def signature_png() -> bytes:
    """A blue handwritten-looking stroke on a transparent background."""
    image = Image.new("RGBA", (600, 240), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    points = [(40 + x * 5.2, 120 + 60 * math.sin(x / 9.0) * math.cos(x / 23.0)) for x in range(100)]
    draw.line(points, fill=BLUE, width=9, joint="curve")
    draw.line([(120, 200), (520, 170)], fill=BLUE, width=6)
    return _png(image)


def seal_png() -> bytes:
    """A red round seal, 36 mm across at 300 dpi (actual size, Appendix I II.8.a)."""
    size = 425
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((6, 6, size - 6, size - 6), outline=RED, width=14)
    draw.ellipse((60, 60, size - 60, size - 60), outline=RED, width=6)
    centre = size / 2
    star = [
        (
            centre + (70 if i % 2 == 0 else 28) * math.sin(i * math.pi / 5),
            centre - (70 if i % 2 == 0 else 28) * math.cos(i * math.pi / 5),
        )
        for i in range(10)
    ]
    draw.polygon(star, fill=RED)
    return _png(image)


def initials_png() -> bytes:
    image = Image.new("RGBA", (160, 80), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(10, 60), (60, 15), (90, 60), (150, 20)], fill=BLUE, width=6)
    return _png(image)


REVIEWER, LEADER, CLERK = "nguoi-ra-soat", "lanh-dao", "van-thu"
LEADER_BOX = (330.0, 110.0, 560.0, 250.0)
INITIALS_BOX = (470.0, 40.0, 550.0, 80.0)


def outgoing_plan(
    leader: LeaderAppearance,
    seal: SealAppearance,
    *,
    leader_method: SigningMethod = SigningMethod.PKCS12,
    agency_method: SigningMethod = SigningMethod.PKCS12,
) -> SigningPlan:
    """Reviewer's initials, the leader's signature and the agency's seal on the last page of
    a two-page draft: the order and layout of an outgoing document."""
    return SigningPlan(
        "van-ban-thu-nghiem",
        steps=(
            SigningStep(
                field_name="ky-nhay-1",
                role=SigningRole.REVIEWER,
                person_id=REVIEWER,
                method=SigningMethod.PKCS12,
                placement=Placement(1, INITIALS_BOX),
            ),
            SigningStep(
                field_name="lanh-dao",
                role=SigningRole.LEADER,
                person_id=LEADER,
                method=leader_method,
                placement=Placement(1, LEADER_BOX),
            ),
            SigningStep(
                field_name="con-dau",
                role=SigningRole.AGENCY,
                person_id=CLERK,
                method=agency_method,
                placement=Placement(1, seal_box(LEADER_BOX, leader, seal)),
            ),
        ),
    )
