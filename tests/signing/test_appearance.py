"""The visible signatures as Appendix I lays them out, checked the way a reader sees them:
pages rendered by pdftoppm, text extracted by pdftotext, fonts listed by pdffonts."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from PIL import Image, ImageChops

from services.docs.signing import (
    DocumentSigner,
    LeaderAppearance,
    Pkcs12Key,
    Placement,
    SignatureLevel,
    SignatureRequest,
    SignedDocument,
    TextStampAppearance,
    attachment_stamp,
    top_right_box,
)
from services.docs.signing.appearance import leader_layout
from services.docs.signing.pdf import sha256_hex
from tests.signing.conftest import Poppler
from tests.signing.documents import A4, LEADER_BOX, draft_pdf

PAGE_HEIGHT = A4[3]


def crop(page: Image.Image, box: tuple[float, float, float, float], dpi: int = 72) -> Image.Image:
    """The part of a rendered page under a box in PDF coordinates (at 72 dpi, 1 px = 1 pt)."""
    k = dpi / 72
    x1, y1, x2, y2 = box
    return page.crop(
        (round(x1 * k), round((PAGE_HEIGHT - y2) * k), round(x2 * k), round((PAGE_HEIGHT - y1) * k))
    )


def pixels(region: Image.Image) -> list[tuple[int, int, int]]:
    data = region.convert("RGB").tobytes()
    return [(data[i], data[i + 1], data[i + 2]) for i in range(0, len(data), 3)]


def count(region: Image.Image, test: Callable[[tuple[int, int, int]], bool]) -> int:
    return sum(1 for pixel in pixels(region) if test(pixel))


def top_dark_row(region: Image.Image) -> int:
    width = region.width
    dark = [i // width for i, p in enumerate(pixels(region)) if is_dark(p)]
    return min(dark)


def is_blue(p: tuple[int, int, int]) -> bool:
    return p[2] > 120 and p[2] > p[0] + 60 and p[2] > p[1] + 40


def is_red(p: tuple[int, int, int]) -> bool:
    return p[0] > 150 and p[0] > p[1] + 80 and p[0] > p[2] + 80


def is_dark(p: tuple[int, int, int]) -> bool:
    return max(p) < 90


def lines(text: str) -> list[str]:
    return [
        unicodedata.normalize("NFC", line.strip()) for line in text.splitlines() if line.strip()
    ]


async def test_leader_block_text_reads_back_exactly_with_diacritics(
    signed_in_turn: tuple[bytes, list[SignedDocument]], poppler: Poppler
) -> None:
    _, signed = signed_in_turn

    text = lines(poppler.text(signed[-1].data, page=2))

    assert "TM. ỦY BAN NHÂN DÂN" in text
    assert "CHỦ TỊCH" in text
    assert "Nguyễn Văn Bình" in text


async def test_stamp_fonts_are_embedded_subsets_with_unicode_maps(
    signed_in_turn: tuple[bytes, list[SignedDocument]], poppler: Poppler
) -> None:
    _, signed = signed_in_turn

    fonts = [line.split() for line in poppler.fonts(signed[-1].data).splitlines()[2:]]
    liberation = [f for f in fonts if "LiberationSerif" in f[0]]

    assert liberation
    # name, type "CID TrueType", encoding, emb, sub, uni, object, generation
    assert all(f[1:3] == ["CID", "TrueType"] for f in liberation)
    assert all(f[-5:-2] == ["yes", "yes", "yes"] for f in liberation)


async def test_signature_and_seal_are_drawn_in_their_boxes(
    signed_in_turn: tuple[bytes, list[SignedDocument]], poppler: Poppler
) -> None:
    finalised, signed = signed_in_turn
    before = crop(poppler.render(finalised, page=2), LEADER_BOX)
    after_leader = crop(poppler.render(signed[1].data, page=2), LEADER_BOX)
    after_seal = poppler.render(signed[2].data, page=2)

    assert count(before, lambda p: p != (255, 255, 255)) == 0
    assert count(after_leader, is_blue) > 200  # the handwritten signature, blue
    assert count(after_leader, is_dark) > 200  # the authority, position and name, black
    assert count(after_leader, is_red) == 0
    assert count(crop(after_seal, LEADER_BOX), is_red) > 500  # the red seal over it


async def test_seal_covers_the_left_third_of_the_signature_image(
    signed_in_turn: tuple[bytes, list[SignedDocument]],
    poppler: Poppler,
    leader_appearance: LeaderAppearance,
) -> None:
    _, signed = signed_in_turn
    page = poppler.render(signed[2].data, page=2)
    width = LEADER_BOX[2] - LEADER_BOX[0]
    height = LEADER_BOX[3] - LEADER_BOX[1]
    ix1, iy1, ix2, iy2 = leader_layout(leader_appearance, width, height).image
    x0, y0 = LEADER_BOX[0], LEADER_BOX[1]
    third = (ix2 - ix1) / 3
    left_third = (x0 + ix1, y0 + iy1, x0 + ix1 + third, y0 + iy2)
    right_part = (x0 + ix1 + third + 3, y0 + iy1, x0 + ix2, y0 + iy2)

    assert count(crop(page, left_third), is_red) > 200
    assert count(crop(page, right_part), is_red) == 0
    assert count(crop(page, right_part), is_blue) > 100


async def sign_attachment(
    signer: DocumentSigner, key: Pkcs12Key, pdf: bytes, stamp: TextStampAppearance
) -> SignedDocument:
    box = top_right_box(A4, stamp, "2026-01-01T00:00:00+07:00")
    return await signer.sign(
        pdf,
        expected_sha256=sha256_hex(pdf),
        key=key,
        request=SignatureRequest(
            field_name="con-dau-phu-luc",
            appearance=stamp,
            level=SignatureLevel.B_T,
            placement=Placement(0, box),
            closes_document=True,
        ),
    )


async def test_attachment_stamp_shows_number_and_signing_time_at_top_right(
    signer: DocumentSigner, keys: dict[str, Pkcs12Key], poppler: Poppler
) -> None:
    pdf = draft_pdf(pages=1)
    stamp = attachment_stamp("15/QĐ-UBND")

    signed = await sign_attachment(signer, keys["agency"], pdf, stamp)
    box = top_right_box(A4, stamp, signed.signed_at.isoformat())
    text = lines(poppler.text(signed.data, page=1))
    before = poppler.render(pdf, page=1)
    after = poppler.render(signed.data, page=1)

    assert text[:2] == ["15/QĐ-UBND", signed.signed_at.isoformat()]
    assert signed.signed_at.isoformat().endswith("+07:00")
    assert box[2] > A4[2] - 40  # right edge near the page's right margin
    assert box[3] > A4[3] - 40  # top edge near the page's top margin
    assert count(crop(after, box), is_dark) > 100  # black text, no image
    assert count(crop(after, box), is_red) == 0
    outside = Image.new("L", after.size, 255)
    outside.paste(
        0, tuple(round(v) for v in (box[0], PAGE_HEIGHT - box[3], box[2], PAGE_HEIGHT - box[1]))
    )
    changed = ImageChops.difference(before, after).convert("L")
    assert ImageChops.multiply(changed, outside).getbbox() is None  # nothing else moved


async def test_diacritics_are_drawn_not_dropped(
    signer: DocumentSigner, keys: dict[str, Pkcs12Key], poppler: Poppler
) -> None:
    pdf = draft_pdf(pages=1)
    accented = TextStampAppearance(lines=("ỦY BAN NHÂN DÂN TỈNH HƯNG YÊN",))
    plain = TextStampAppearance(lines=("UY BAN NHAN DAN TINH HUNG YEN",))

    with_marks = await sign_attachment(signer, keys["agency"], pdf, accented)
    without = await sign_attachment(signer, keys["agency"], pdf, plain)
    box = top_right_box(A4, accented, "")

    rendered_marks = crop(poppler.render(with_marks.data, page=1, dpi=300), box, dpi=300)
    rendered_plain = crop(poppler.render(without.data, page=1, dpi=300), box, dpi=300)
    assert lines(poppler.text(with_marks.data, page=1))[0] == "ỦY BAN NHÂN DÂN TỈNH HƯNG YÊN"
    # The marks above Ủ, Â, Ỉ, Ư and Ê reach above the capitals of the plain line.
    assert top_dark_row(rendered_marks) < top_dark_row(rendered_plain)
