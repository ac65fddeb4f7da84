"""Visible signatures as Appendix I of Decree 30/2020 lays them out.

* The leader's block (box 7): the authority line (`TM.`, `KT.`, `TL.`, `Q.`, `TUQ.` and whom
  the signer acts for) and the position, upper case and bold; the handwritten signature image
  (blue, transparent PNG) between them and the name; the name in bold (II.7.b-d).
* The agency seal (box 8): the red seal image at actual size, over the left third of the
  leader's signature image (II.8.a); `seal_box` computes where.
* The text stamp of separately filed attachments (II.8.b) and of electronic copies (box 14):
  no image, Times New Roman 10 pt, black, the document's number and symbol and the signing time
  in ISO 8601 with +07:00, at the top right of the first page; `top_right_box` computes where.
* Reviewers' initials (ký nháy): a small image.

Appearances are drawn by our own code, not pyHanko's text stamps: the fonts are prepared once
(see fonts.py), images are decoded once (images.py), and the content stream of a block that does
not change between signatures (everything but a text stamp's time) is built once per box size.
Each signature only writes the ready streams into its update."""

# mypy: disable-error-code="no-untyped-call"
# (pyHanko and pyhanko-certvalidator leave many constructors unannotated.)

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import msgspec
from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.stamp import BaseStamp, BaseStampStyle

from services.docs.signing.errors import SigningFailed
from services.docs.signing.fonts import (
    EmbeddedFont,
    Fonts,
    MissingGlyph,
    load_fonts,
)
from services.docs.signing.images import PdfImage, load_png

SIGNED_AT = "{signed_at}"  # placeholder in text stamps, replaced by the signing time
Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in page units (points)

TEXT_STAMP_SIZE = 10.0  # Appendix I II.8.b: Times New Roman 10 pt
BLOCK_TEXT_SIZE = 13.0  # II.7.b: authority and position, 13-14 pt, bold
NAME_SIZE = 14.0
MIN_TEXT_SIZE = 8.0
LINE_GAP = 1.2
PADDING = 2.0
PAGE_MARGIN = 20.0


class Authority(enum.StrEnum):
    """How the signer holds the power to sign (Appendix I II.7.b)."""

    ON_BEHALF_OF = "TM."  # thay mặt a collective body
    DEPUTY = "KT."  # ký thay the head
    BY_ORDER = "TL."  # thừa lệnh
    ACTING = "Q."  # quyền (acting head)
    AUTHORISED = "TUQ."  # thừa ủy quyền


class LeaderAppearance(msgspec.Struct, frozen=True, kw_only=True):
    """The leader's visible signature. `acting_for` follows the prefix on the authority line
    (the body for TM., the head's title for KT./TL./TUQ., the title itself for Q.); `\n`
    breaks it over lines. `position` is the signer's own title (empty for Q. and when the
    authority line says it all)."""

    authority: Authority | None = None
    acting_for: str = ""
    position: str
    name: str
    signature_png: bytes


class SealAppearance(msgspec.Struct, frozen=True, kw_only=True):
    seal_png: bytes


class InitialsAppearance(msgspec.Struct, frozen=True, kw_only=True):
    initials_png: bytes


class TextStampAppearance(msgspec.Struct, frozen=True, kw_only=True):
    """Lines of text; `{signed_at}` in a line becomes the signing time."""

    lines: tuple[str, ...]


Appearance = LeaderAppearance | SealAppearance | InitialsAppearance | TextStampAppearance


def attachment_stamp(number_symbol: str) -> TextStampAppearance:
    """The agency's stamp on an attachment filed separately (Appendix I II.8.b)."""
    return TextStampAppearance(lines=(number_symbol, SIGNED_AT))


def copy_stamp(copy_form: str, agency_name: str) -> TextStampAppearance:
    """The agency's stamp on an electronic copy (box 14): SAO Y / SAO LỤC / TRÍCH SAO."""
    return TextStampAppearance(lines=(copy_form.upper(), agency_name, SIGNED_AT))


def format_signed_at(moment: datetime) -> str:
    """ISO 8601 to the second with the offset, e.g. 2026-03-05T14:30:00+07:00."""
    return moment.isoformat(timespec="seconds")


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class TextLine:
    text: str
    font: EmbeddedFont
    size: float
    x: float
    y: float  # baseline


@dataclass(frozen=True)
class LeaderLayout:
    lines: tuple[TextLine, ...]
    image: Box  # where the signature image goes, inside the field (0,0 = lower left)


def _fit_size(font: EmbeddedFont, text: str, size: float, width: float) -> float:
    natural = font.width(text, size)
    if natural <= width:
        return size
    fitted = size * width / natural
    if fitted < MIN_TEXT_SIZE:
        raise SigningFailed(
            f"Dòng chữ '{text}' quá dài so với ô chữ ký.",
            f"The line '{text}' is too long for the signature box.",
        )
    return fitted


def _centred(font: EmbeddedFont, text: str, size: float, width: float, y: float) -> TextLine:
    size = _fit_size(font, text, size, width - 2 * PADDING)
    return TextLine(text, font, size, (width - font.width(text, size)) / 2, y)


def _ascent(font: EmbeddedFont, size: float) -> float:
    return font.ascent * size / 1000.0


def _descent(font: EmbeddedFont, size: float) -> float:
    return -font.descent * size / 1000.0


def leader_layout(
    spec: LeaderAppearance, width: float, height: float, fonts: Fonts | None = None
) -> LeaderLayout:
    bold = (fonts or load_fonts()).bold
    heading = []
    if spec.authority is not None:
        first, *rest = (spec.acting_for or "").split("\n")
        heading.append(f"{spec.authority.value} {first}".strip())
        heading.extend(rest)
    elif spec.acting_for:
        heading.extend(spec.acting_for.split("\n"))
    if spec.position:
        heading.extend(spec.position.split("\n"))
    heading = [line.upper() for line in heading if line.strip()]

    lines: list[TextLine] = []
    y = height - PADDING
    for text in heading:
        y -= _ascent(bold, BLOCK_TEXT_SIZE)
        lines.append(_centred(bold, text, BLOCK_TEXT_SIZE, width, y))
        y -= BLOCK_TEXT_SIZE * (LINE_GAP - 1) + _descent(bold, BLOCK_TEXT_SIZE)
    top = y - PADDING
    name = _centred(bold, spec.name, NAME_SIZE, width, PADDING + _descent(bold, NAME_SIZE))
    lines.append(name)
    bottom = name.y + _ascent(bold, NAME_SIZE) + PADDING
    if top - bottom < 20:
        raise SigningFailed(
            "Ô chữ ký quá thấp để đặt ảnh chữ ký.",
            "The signature box is too short for the signature image.",
        )
    image = load_png(spec.signature_png)
    img_w, img_h = image.width_px, image.height_px
    scale = min((width - 2 * PADDING) / img_w, (top - bottom) / img_h)
    w, h = img_w * scale, img_h * scale
    x = (width - w) / 2
    y0 = bottom + (top - bottom - h) / 2
    return LeaderLayout(lines=tuple(lines), image=(x, y0, x + w, y0 + h))


def text_stamp_size(
    spec: TextStampAppearance, sample_time: str, fonts: Fonts | None = None
) -> tuple[float, float]:
    regular = (fonts or load_fonts()).regular
    lines = [line.replace(SIGNED_AT, sample_time) for line in spec.lines]
    width = max(regular.width(line, TEXT_STAMP_SIZE) for line in lines) + 2 * PADDING + 2
    height = len(lines) * TEXT_STAMP_SIZE * LINE_GAP + 2 * PADDING
    return width, height


def top_right_box(
    page_box: Box, spec: TextStampAppearance, sample_time: str, fonts: Fonts | None = None
) -> Box:
    """The stamp's place at the top right of the first page (Appendix I II.8.b)."""
    width, height = text_stamp_size(spec, sample_time, fonts)
    x2 = page_box[2] - PAGE_MARGIN
    y2 = page_box[3] - PAGE_MARGIN
    return (x2 - width, y2 - height, x2, y2)


def seal_box(
    leader_box: Box, leader: LeaderAppearance, seal: SealAppearance, fonts: Fonts | None = None
) -> Box:
    """Where the seal goes: at actual size, centred on the height of the leader's signature
    image and covering its left third (Appendix I II.8.a)."""
    width = leader_box[2] - leader_box[0]
    height = leader_box[3] - leader_box[1]
    ix1, iy1, ix2, iy2 = leader_layout(leader, width, height, fonts).image
    seal_w, seal_h = load_png(seal.seal_png).natural_size
    right = leader_box[0] + ix1 + (ix2 - ix1) / 3
    centre_y = leader_box[1] + (iy1 + iy2) / 2
    return (right - seal_w, centre_y - seal_h / 2, right, centre_y + seal_h / 2)


# --------------------------------------------------------------------------- drawing


def _text_ops(lines: list[TextLine] | tuple[TextLine, ...], font_names: dict[int, str]) -> bytes:
    ops = [b"BT 0 g"]
    for line in lines:
        name = font_names[id(line.font)]
        ops.append(
            b"/%s %.2f Tf 1 0 0 1 %.2f %.2f Tm %s Tj"
            % (name.encode(), line.size, line.x, line.y, line.font.encode(line.text))
        )
    ops.append(b"ET")
    return b"\n".join(ops)


def _image_ops(box: Box) -> bytes:
    x1, y1, x2, y2 = box
    return b"q %.2f 0 0 %.2f %.2f %.2f cm /Im1 Do Q" % (x2 - x1, y2 - y1, x1, y1)


@dataclass(frozen=True)
class Drawing:
    """A ready appearance: content stream and the resources it names."""

    content: bytes
    fonts: tuple[tuple[str, EmbeddedFont], ...] = ()
    image: PdfImage | None = None

    def form_xobject(self, writer: BasePdfFileWriter, width: float, height: float) -> Any:
        resources = generic.DictionaryObject()
        if self.fonts:
            resources[pdf_name("/Font")] = generic.DictionaryObject(
                {pdf_name("/" + name): font.reference(writer) for name, font in self.fonts}
            )
        if self.image is not None:
            resources[pdf_name("/XObject")] = generic.DictionaryObject(
                {pdf_name("/Im1"): self.image.reference(writer)}
            )
        form = generic.StreamObject(
            {
                pdf_name("/Type"): pdf_name("/XObject"),
                pdf_name("/Subtype"): pdf_name("/Form"),
                pdf_name("/BBox"): generic.ArrayObject(
                    [generic.FloatObject(v) for v in (0, 0, round(width, 2), round(height, 2))]
                ),
                pdf_name("/Resources"): resources,
            },
            stream_data=self.content,
        )
        return writer.add_object(form)


@lru_cache(maxsize=512)
def _leader_drawing(spec: LeaderAppearance, width: float, height: float, fonts: Fonts) -> Drawing:
    plan = leader_layout(spec, width, height, fonts)
    bold = fonts.bold
    content = b"q\n" + _image_ops(plan.image) + b"\n" + _text_ops(plan.lines, {id(bold): "F1"})
    return Drawing(content + b"\nQ", fonts=(("F1", bold),), image=load_png(spec.signature_png))


@lru_cache(maxsize=512)
def _image_drawing(png: bytes, width: float, height: float) -> Drawing:
    return Drawing(_image_ops((0, 0, width, height)), image=load_png(png))


def _text_stamp_drawing(
    spec: TextStampAppearance, width: float, height: float, signed_at: str, fonts: Fonts
) -> Drawing:
    regular = fonts.regular
    lines = []
    y = height - PADDING
    for text in spec.lines:
        text = text.replace(SIGNED_AT, signed_at)
        y -= _ascent(regular, TEXT_STAMP_SIZE)
        size = _fit_size(regular, text, TEXT_STAMP_SIZE, width - 2 * PADDING)
        lines.append(TextLine(text, regular, size, PADDING, y))
        y -= TEXT_STAMP_SIZE * (LINE_GAP - 1) + _descent(regular, TEXT_STAMP_SIZE)
    return Drawing(_text_ops(lines, {id(regular): "F1"}), fonts=(("F1", regular),))


def drawing_for(
    appearance: Appearance | None,
    width: float,
    height: float,
    signed_at: str,
    fonts: Fonts | None = None,
) -> Drawing:
    fonts = fonts or load_fonts()
    try:
        match appearance:
            case None:
                # A visible field signed without an appearance stays blank.
                return Drawing(b"")
            case LeaderAppearance():
                return _leader_drawing(appearance, round(width, 2), round(height, 2), fonts)
            case SealAppearance(seal_png=png) | InitialsAppearance(initials_png=png):
                return _image_drawing(png, round(width, 2), round(height, 2))
            case TextStampAppearance():
                return _text_stamp_drawing(appearance, width, height, signed_at, fonts)
    except MissingGlyph as exc:
        raise SigningFailed(
            "Văn bản trên chữ ký có ký tự không hiển thị được.",
            f"The signature text has a character the font cannot show ({exc}).",
        ) from exc
    raise AssertionError(f"unknown appearance {type(appearance).__name__}")


# --------------------------------------------------------------------------- pyHanko glue


class _PreparedStamp(BaseStamp):
    def __init__(
        self,
        writer: BasePdfFileWriter,
        style: AppendixStampStyle,
        box: layout.BoxConstraints,
        draw: Callable[[BasePdfFileWriter, float, float], Any],
    ) -> None:
        super().__init__(writer=writer, style=style, box=box)
        self._draw = draw

    def apply_appearance(self, annot_dict: generic.DictionaryObject) -> None:
        box = self.box
        assert box is not None
        assert self.writer is not None
        ref = self._draw(self.writer, box.width, box.height)
        annot_dict[pdf_name("/AP")] = generic.DictionaryObject({pdf_name("/N"): ref})


@dataclass(frozen=True)
class AppendixStampStyle(BaseStampStyle):
    """A pyHanko stamp style that draws one of our appearances into the signature field."""

    appearance: Appearance | None = None
    fonts: Fonts | None = None
    border_width: int = 0

    def create_stamp(
        self,
        writer: BasePdfFileWriter,
        box: layout.BoxConstraints,
        text_params: dict[str, Any],
    ) -> BaseStamp:
        appearance, fonts = self.appearance, self.fonts
        signed_at = str(text_params.get("signed_at", ""))

        def draw(wr: BasePdfFileWriter, width: float, height: float) -> Any:
            drawing = drawing_for(appearance, width, height, signed_at, fonts)
            return drawing.form_xobject(wr, width, height)

        return _PreparedStamp(writer, self, box, draw)
