"""Embedded TrueType fonts with Vietnamese glyphs, prepared once per process.

Appendix I of Decree 30/2020 sets the stamp text in Times New Roman; Liberation Serif has the
same metrics and a Debian package (fonts-liberation2), and it has every precomposed Vietnamese
letter. Shaping a string through HarfBuzz and subsetting the font for each signature (what
pyHanko's generic OpenType support does) cost about 0.25 s per stamp. Vietnamese needs neither:
in NFC every letter is one precomposed code point with its own glyph, and the layout is plain
left-to-right with normal letter spacing. So a font is subset once, to the Vietnamese
repertoire, and each stamp only maps characters to glyph ids and sums advance widths.

The font goes into the PDF as a Type0/CIDFontType2 font with Identity-H encoding (two-byte glyph
ids) and a ToUnicode CMap, so that text extraction (pdftotext, search, screen readers) returns
the exact Vietnamese strings."""

# mypy: disable-error-code="no-untyped-call"
# (pyHanko and pyhanko-certvalidator leave many constructors unannotated.)

from __future__ import annotations

import io
import unicodedata
import weakref
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from fontTools import subset  # type: ignore[import-untyped]
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.writer import BasePdfFileWriter

REGULAR_FONT = Path("/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf")
BOLD_FONT = Path("/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf")

# Basic Latin, Latin-1, Latin Extended-A (Ă Đ Ĩ Ũ ...), the horn letters (Ơ Ư) and Latin
# Extended Additional U+1EA0..U+1EF9 (every Vietnamese letter with a tone mark), plus the
# punctuation a document number or a name may carry.
VIETNAMESE_REPERTOIRE: frozenset[int] = frozenset(
    [
        *range(0x20, 0x7F),
        *range(0xA0, 0x180),
        0x1A0,
        0x1A1,
        0x1AF,
        0x1B0,
        *range(0x1EA0, 0x1EFA),
        0x2013,
        0x2014,
        0x2018,
        0x2019,
        0x201C,
        0x201D,
        0x2026,
        0x2116,
    ]
)


class _Verbatim(generic.PdfObject):
    """A direct object serialised once. The /W array of a font lists every glyph's width
    (about 450 numbers); building and writing it as pyHanko objects for each signature cost
    more than a third of a visible signature."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def write_to_stream(self, stream: Any, handler: Any = None, container_ref: Any = None) -> None:
        stream.write(self.data)


def _widths_array(advance: dict[int, float]) -> _Verbatim:
    # [first [w1 w2 ...]]: the glyph ids of a subset are consecutive from 0.
    glyphs = sorted(advance)
    assert glyphs == list(range(len(glyphs)))
    widths = " ".join(str(round(advance[g])) for g in glyphs)
    return _Verbatim(f"[0 [{widths}]]".encode("ascii"))


class MissingGlyph(ValueError):
    """The text has a character the embedded font cannot show."""


@dataclass(eq=False)
class EmbeddedFont:
    """One subset font, ready to be written into any PDF and to lay out text."""

    base_font: str
    font_file: bytes  # the subset TrueType program, Flate-compressed
    font_file_length: int
    glyph_of: dict[int, int]  # code point -> glyph id
    advance: dict[int, float]  # glyph id -> advance width in 1/1000 em
    to_unicode: bytes  # Flate-compressed ToUnicode CMap
    bbox: tuple[int, int, int, int]
    ascent: int
    descent: int
    cap_height: int
    bold: bool
    _widths: _Verbatim
    _refs: weakref.WeakKeyDictionary[BasePdfFileWriter, generic.IndirectObject] = field(
        default_factory=weakref.WeakKeyDictionary
    )

    def encode(self, text: str) -> bytes:
        """The string operand for `Tj`: two-byte glyph ids, in hex."""
        glyphs = self._glyphs(text)
        return b"<" + "".join(f"{g:04X}" for g in glyphs).encode("ascii") + b">"

    def width(self, text: str, size: float) -> float:
        return sum(self.advance[g] for g in self._glyphs(text)) * size / 1000.0

    def _glyphs(self, text: str) -> list[int]:
        glyphs = []
        for char in unicodedata.normalize("NFC", text):
            glyph = self.glyph_of.get(ord(char))
            if glyph is None:
                raise MissingGlyph(f"no glyph for U+{ord(char):04X} in {self.base_font}")
            glyphs.append(glyph)
        return glyphs

    def reference(self, writer: BasePdfFileWriter) -> generic.IndirectObject:
        """The font object in `writer`, added on first use (one copy per document update)."""
        ref = self._refs.get(writer)
        if ref is None:
            ref = self._add_to(writer)
            self._refs[writer] = ref
        return ref

    def _add_to(self, writer: BasePdfFileWriter) -> generic.IndirectObject:
        font_file = generic.StreamObject(
            {
                pdf_name("/Length1"): generic.NumberObject(self.font_file_length),
                pdf_name("/Filter"): pdf_name("/FlateDecode"),
            },
            encoded_data=self.font_file,
        )
        descriptor = generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/FontDescriptor"),
                pdf_name("/FontName"): pdf_name("/" + self.base_font),
                # 32 nonsymbolic + 2 serif; 0x40000 force bold
                pdf_name("/Flags"): generic.NumberObject(34 | (0x40000 if self.bold else 0)),
                pdf_name("/FontBBox"): generic.ArrayObject(
                    [generic.NumberObject(v) for v in self.bbox]
                ),
                pdf_name("/ItalicAngle"): generic.NumberObject(0),
                pdf_name("/Ascent"): generic.NumberObject(self.ascent),
                pdf_name("/Descent"): generic.NumberObject(self.descent),
                pdf_name("/CapHeight"): generic.NumberObject(self.cap_height),
                pdf_name("/StemV"): generic.NumberObject(120 if self.bold else 80),
                pdf_name("/FontFile2"): writer.add_object(font_file),
            }
        )
        cid_font = generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Font"),
                pdf_name("/Subtype"): pdf_name("/CIDFontType2"),
                pdf_name("/BaseFont"): pdf_name("/" + self.base_font),
                pdf_name("/CIDSystemInfo"): generic.DictionaryObject(
                    {
                        pdf_name("/Registry"): generic.pdf_string("Adobe"),
                        pdf_name("/Ordering"): generic.pdf_string("Identity"),
                        pdf_name("/Supplement"): generic.NumberObject(0),
                    }
                ),
                pdf_name("/FontDescriptor"): writer.add_object(descriptor),
                pdf_name("/W"): self._widths,
                pdf_name("/CIDToGIDMap"): pdf_name("/Identity"),
            }
        )
        to_unicode = generic.StreamObject(
            {pdf_name("/Filter"): pdf_name("/FlateDecode")}, encoded_data=self.to_unicode
        )
        font = generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Font"),
                pdf_name("/Subtype"): pdf_name("/Type0"),
                pdf_name("/BaseFont"): pdf_name("/" + self.base_font),
                pdf_name("/Encoding"): pdf_name("/Identity-H"),
                pdf_name("/DescendantFonts"): generic.ArrayObject([writer.add_object(cid_font)]),
                pdf_name("/ToUnicode"): writer.add_object(to_unicode),
            }
        )
        return writer.add_object(font)


def _to_unicode_cmap(glyph_of: dict[int, int]) -> bytes:
    first_char: dict[int, int] = {}
    for char, glyph in sorted(glyph_of.items()):
        first_char.setdefault(glyph, char)
    entries = sorted(first_char.items())
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        "<0000> <FFFF>",
        "endcodespacerange",
    ]
    for start in range(0, len(entries), 100):
        chunk = entries[start : start + 100]
        lines.append(f"{len(chunk)} beginbfchar")
        lines.extend(f"<{glyph:04X}> <{char:04X}>" for glyph, char in chunk)
        lines.append("endbfchar")
    lines += [
        "endcmap",
        "CMapName currentdict /CMap defineresource pop",
        "end",
        "end",
    ]
    return "\n".join(lines).encode("ascii")


def _subset_tag(path: Path) -> str:
    # Six upper-case letters, fixed per font file, as PDF subset names require (ISO 32000 9.6.4).
    digest = zlib.crc32(path.name.encode())
    return "".join(chr(ord("A") + (digest >> (5 * i)) % 26) for i in range(6))


@lru_cache(maxsize=8)
def load_font(path: Path, *, bold: bool = False) -> EmbeddedFont:
    """Subset `path` to the Vietnamese repertoire; cached, so each font is prepared once."""
    font = TTFont(str(path))
    options = subset.Options()
    options.hinting = False
    options.layout_features = []
    options.name_IDs = [1, 2, 3, 4, 6]
    options.notdef_outline = True
    options.glyph_names = False
    options.drop_tables += ["DSIG", "GSUB", "GPOS", "GDEF", "kern", "FFTM"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=VIETNAMESE_REPERTOIRE)
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    program = buffer.getvalue()

    units = int(font["head"].unitsPerEm)
    order = font.getGlyphOrder()
    glyph_id = {name: i for i, name in enumerate(order)}
    glyph_of = {char: glyph_id[name] for char, name in font.getBestCmap().items()}
    hmtx = font["hmtx"].metrics
    advance = {glyph_id[name]: hmtx[name][0] * 1000.0 / units for name in order}

    def scaled(value: int) -> int:
        return round(value * 1000 / units)

    head = font["head"]
    os2 = font["OS/2"]
    family = str(font["name"].getDebugName(6) or path.stem).replace(" ", "")
    return EmbeddedFont(
        base_font=f"{_subset_tag(path)}+{family}",
        font_file=zlib.compress(program, 9),
        font_file_length=len(program),
        glyph_of=glyph_of,
        advance=advance,
        to_unicode=zlib.compress(_to_unicode_cmap(glyph_of), 9),
        bbox=(scaled(head.xMin), scaled(head.yMin), scaled(head.xMax), scaled(head.yMax)),
        ascent=scaled(font["hhea"].ascent),
        descent=scaled(font["hhea"].descent),
        cap_height=scaled(getattr(os2, "sCapHeight", font["hhea"].ascent)),
        bold=bold,
        _widths=_widths_array(advance),
    )


@dataclass(frozen=True)
class Fonts:
    """The two faces the appearances use: regular (stamps) and bold (the leader's block)."""

    regular: EmbeddedFont
    bold: EmbeddedFont


def load_fonts(regular: Path = REGULAR_FONT, bold: Path = BOLD_FONT) -> Fonts:
    return Fonts(load_font(regular), load_font(bold, bold=True))
