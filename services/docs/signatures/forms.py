"""The number and date of an outgoing document inside its PDF (Phụ lục I, ô 3 and ô 4).

The number is given after the competent person has signed (NĐ 30, Điều 15-17), so it cannot be
written into the page content: that would change what the leader signed. It goes into two
read-only text fields instead, created empty before the first signature and filled in by the
clerk just before the agency's signature. Filling in a form field is what the leader's
signature allows (DocMDP P=2, "form filling and signing"), so every validator reports the later
revision as form filling, not as a change of content, and the agency's signature then covers
the filled fields."""

# mypy: disable-error-code="no-untyped-call"
# (pyHanko leaves many constructors unannotated.)

from __future__ import annotations

import datetime as dt
from io import BytesIO

import msgspec
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name, pdf_string
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import (
    FieldMDPAction,
    FieldMDPSpec,
    MDPPerm,
    SigFieldSpec,
    append_signature_field,
)

from services.docs.signing.errors import InvalidPlan, StepOutOfOrder
from services.docs.signing.fonts import EmbeddedFont, Fonts
from services.docs.signing.pdf import open_for_signing, signed_field_names
from services.docs.signing.plan import Placement

NUMBER_FIELD = "so-ky-hieu"
DATE_FIELD = "ngay-ban-hanh"
FIELDS = (NUMBER_FIELD, DATE_FIELD)
TEXT_SIZE = 13.0  # Phụ lục I: "Số" and the date in 13 pt
_READ_ONLY = 1  # /Ff bit 1
_PRINT = 4  # /F bit 3: the annotation prints


def number_layout(page_box: tuple[float, float, float, float]) -> tuple[Placement, Placement]:
    """Where ô 3 (số, ký hiệu: left column, under the agency's name) and ô 4 (địa danh và
    ngày tháng: right column, under the national motto) sit on page 1 of the A4 layout of
    Phụ lục I, measured from the top of the page so other page sizes keep the same margins."""
    x1, _, x2, top = page_box
    y = top - 122.0
    number = Placement(0, (x1 + 70.0, y, x1 + 255.0, y + 20.0))
    date = Placement(0, (x1 + 262.0, y, x2 - 42.0, y + 20.0))
    return number, date


def media_box(page: generic.DictionaryObject) -> tuple[float, float, float, float]:
    """The page's size, inherited from the page tree when the page does not say it."""
    node: generic.DictionaryObject | None = page
    while node is not None:
        if "/MediaBox" in node:
            x1, y1, x2, y2 = (float(v) for v in node["/MediaBox"])
            return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)
        node = node.get("/Parent")
    return 0.0, 0.0, 595.0, 842.0  # A4, what NĐ 30 prescribes


def date_text(day: dt.date) -> str:
    """`ngày 05 tháng 3 năm 2026`: days below 10 and the months 1 and 2 take a leading zero
    (Phụ lục I, II.4.b)."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def _fields(root: generic.DictionaryObject) -> dict[str, generic.IndirectObject]:
    try:
        fields = root["/AcroForm"]["/Fields"]
    except KeyError:
        return {}
    found = {}
    for ref in fields:
        field = ref.get_object()
        name = str(field.get("/T", ""))
        if name in FIELDS and field.get("/FT") == "/Tx":
            found[name] = ref
    return found


def has_number_fields(reader: PdfFileReader) -> bool:
    return set(_fields(reader.root)) == set(FIELDS)


class SignatureField(msgspec.Struct, frozen=True):
    name: str
    placement: Placement
    closes_document: bool = False


def finalise(pdf: bytes, fields: list[SignatureField]) -> bytes:
    """Append every field the document will be signed in, and the empty number and date
    fields, as one incremental update before the first signature. Each signature then only
    fills its own field: a signature that allows form filling (DocMDP P=2) does not allow new
    fields to appear after it."""
    writer = open_for_signing(pdf)
    if signed_field_names(writer.prev):
        raise StepOutOfOrder(
            "Bản thảo đã có chữ ký số từ trước; hãy tải lên bản thảo chưa ký.",
            "The draft already carries signatures; upload an unsigned draft.",
        )
    pages = int(writer.root["/Pages"]["/Count"])
    for field in fields:
        if not 0 <= field.placement.page < pages:
            raise InvalidPlan(
                f"Trang {field.placement.page + 1} không có trong văn bản.",
                f"The document has no page {field.placement.page + 1}.",
            )
        x1, y1, x2, y2 = field.placement.box
        append_signature_field(
            writer,
            SigFieldSpec(
                sig_field_name=field.name,
                on_page=field.placement.page,
                box=(round(x1), round(y1), round(x2), round(y2)),
                # A lock that locks no field, carrying the DocMDP level after the signature:
                # form filling and signing, or no change at all after the agency's.
                field_mdp_spec=FieldMDPSpec(FieldMDPAction.INCLUDE, fields=[]),
                doc_mdp_update_value=(
                    MDPPerm.NO_CHANGES if field.closes_document else MDPPerm.FILL_FORMS
                ),
            ),
        )
    if not has_number_fields(writer.prev):
        add_number_fields(writer)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def add_number_fields(writer: IncrementalPdfFileWriter) -> None:
    """Create the two empty fields on page 1 (in the writer's pending update)."""
    root = writer.root
    if "/AcroForm" not in root:
        root[pdf_name("/AcroForm")] = writer.add_object(
            generic.DictionaryObject({pdf_name("/Fields"): generic.ArrayObject()})
        )
        writer.update_root()
    form = root["/AcroForm"]
    if "/Fields" not in form:
        form[pdf_name("/Fields")] = generic.ArrayObject()
        writer.update_container(form)
    fields = form["/Fields"]
    page_ref = writer.find_page_for_modification(0)[0]
    placements = dict(zip(FIELDS, number_layout(media_box(page_ref.get_object())), strict=True))
    for name in FIELDS:
        x1, y1, x2, y2 = placements[name].box
        field = generic.DictionaryObject(
            {
                pdf_name("/FT"): pdf_name("/Tx"),
                pdf_name("/T"): pdf_string(name),
                pdf_name("/Ff"): generic.NumberObject(_READ_ONLY),
                pdf_name("/Type"): pdf_name("/Annot"),
                pdf_name("/Subtype"): pdf_name("/Widget"),
                pdf_name("/F"): generic.NumberObject(_PRINT),
                pdf_name("/Rect"): generic.ArrayObject(
                    [generic.FloatObject(round(v, 2)) for v in (x1, y1, x2, y2)]
                ),
                pdf_name("/P"): page_ref,
                pdf_name("/Q"): generic.NumberObject(1),  # centred
                pdf_name("/DA"): pdf_string(f"/Helv {TEXT_SIZE:g} Tf 0 g"),
            }
        )
        ref = writer.add_object(field)
        fields.append(ref)
        writer.register_annotation(page_ref, ref)
    writer.update_container(fields)


def _appearance(
    writer: IncrementalPdfFileWriter, font: EmbeddedFont, text: str, width: float, height: float
) -> generic.IndirectObject:
    size = TEXT_SIZE
    natural = font.width(text, size)
    if natural > width - 4:
        size = size * (width - 4) / natural
    x = (width - font.width(text, size)) / 2
    y = (height - size * 0.7) / 2
    content = b"/Tx BMC q BT 0 g /F1 %.2f Tf 1 0 0 1 %.2f %.2f Tm %s Tj ET Q EMC" % (
        size,
        x,
        y,
        font.encode(text),
    )
    stream = generic.StreamObject(
        {
            pdf_name("/Type"): pdf_name("/XObject"),
            pdf_name("/Subtype"): pdf_name("/Form"),
            pdf_name("/BBox"): generic.ArrayObject(
                [generic.FloatObject(v) for v in (0, 0, round(width, 2), round(height, 2))]
            ),
            pdf_name("/Resources"): generic.DictionaryObject(
                {
                    pdf_name("/Font"): generic.DictionaryObject(
                        {pdf_name("/F1"): font.reference(writer)}
                    )
                }
            ),
        },
        stream_data=content,
    )
    return writer.add_object(stream)


def fill_number_fields(pdf: bytes, number: str, date: str, fonts: Fonts) -> bytes:
    """One incremental update that writes the number and the date into their fields."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    found = _fields(writer.root)
    if set(found) != set(FIELDS):
        add_number_fields(writer)
        found = _fields(writer.root)
    for name, text in ((NUMBER_FIELD, number), (DATE_FIELD, date)):
        ref = found[name]
        field = ref.get_object()
        x1, y1, x2, y2 = (float(v) for v in field["/Rect"])
        field[pdf_name("/V")] = generic.TextStringObject(text)
        field[pdf_name("/AP")] = generic.DictionaryObject(
            {pdf_name("/N"): _appearance(writer, fonts.regular, text, x2 - x1, y2 - y1)}
        )
        writer.mark_update(ref)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def field_placements(reader: PdfFileReader) -> dict[str, Placement]:
    """Each widget's page and rectangle, by field name."""
    found: dict[str, Placement] = {}
    count = int(reader.root["/Pages"]["/Count"])
    for index in range(count):
        page_ref, _ = reader.find_page_for_modification(index)
        for annot_ref in page_ref.get_object().get("/Annots", []):
            annot = annot_ref.get_object()
            name = annot.get("/T")
            if name is None and "/Parent" in annot:
                name = annot["/Parent"].get("/T")
            if name is None or "/Rect" not in annot:
                continue
            x1, y1, x2, y2 = (round(float(v), 2) for v in annot["/Rect"])
            found[str(name)] = Placement(index, (x1, y1, x2, y2))
    return found
