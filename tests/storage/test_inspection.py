"""Uploads are judged by their bytes: real files are built here and handed to the inspection."""

from __future__ import annotations

import io
import stat
import struct
import unicodedata
import urllib.parse
import zipfile
import zlib

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.problems import InvalidInput
from services.storage.objects.inspection import (
    EXTENSIONS,
    HEAD_SIZE,
    MEDIA_TYPES,
    FileKind,
    RejectedFile,
    check_matches,
    clean_file_name,
    content_disposition,
    declared_kind,
    inspect_ole2,
    inspect_xml,
    inspect_zip,
    needs_full_inspection,
    sniff_head,
)

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
TIFF_LE = b"II*\x00\x08\x00\x00\x00"
TIFF_BE = b"MM\x00*\x00\x00\x00\x08"

CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
)
WORD_DOCUMENT = (
    b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    b"<w:body><w:p><w:r><w:t>C\xc3\xb4ng v\xc4\x83n</w:t></w:r></w:p></w:body></w:document>"
)
WORKBOOK = (
    b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<sheets><sheet name="S1" sheetId="1"/></sheets></workbook>'
)


def rejected_reason(excinfo: pytest.ExceptionInfo[RejectedFile]) -> str:
    return excinfo.value.reason


# --- builders --------------------------------------------------------------------------------


def build_zip(
    entries: dict[str, bytes] | list[tuple[str | zipfile.ZipInfo, bytes]],
    compression: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    buffer = io.BytesIO()
    items = entries.items() if isinstance(entries, dict) else entries
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in items:
            archive.writestr(name, content)
    return buffer.getvalue()


def build_docx(extra: dict[str, bytes] | None = None) -> bytes:
    return build_zip(
        {
            "[Content_Types].xml": CONTENT_TYPES,
            "_rels/.rels": b"<Relationships/>",
            "word/document.xml": WORD_DOCUMENT,
            "word/_rels/document.xml.rels": b"<Relationships/>",
            **(extra or {}),
        }
    )


def build_xlsx() -> bytes:
    return build_zip(
        {
            "[Content_Types].xml": CONTENT_TYPES,
            "_rels/.rels": b"<Relationships/>",
            "xl/workbook.xml": WORKBOOK,
            "xl/worksheets/sheet1.xml": b"<worksheet/>",
        }
    )


def build_odf(media_type: bytes) -> bytes:
    # ODF wants "mimetype" first and stored, so it can be read at a fixed offset.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", media_type, compress_type=zipfile.ZIP_STORED)
        archive.writestr(
            "content.xml", b"<office:document-content/>", compress_type=zipfile.ZIP_DEFLATED
        )
        archive.writestr("META-INF/manifest.xml", b"<manifest:manifest/>")
    return buffer.getvalue()


def patch_entry(
    data: bytes,
    name: str,
    *,
    flag_bits: int | None = None,
    file_size: int | None = None,
    crc: int | None = None,
) -> bytes:
    """Rewrite an entry's flags, declared size or CRC in both its local and central headers."""
    patched = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        local = archive.getinfo(name).header_offset
    central = data.find(b"PK\x01\x02")
    while central != -1:
        name_length = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46 : central + 46 + name_length] == name.encode():
            if flag_bits is not None:
                struct.pack_into("<H", patched, local + 6, flag_bits)
                struct.pack_into("<H", patched, central + 8, flag_bits)
            if file_size is not None:
                struct.pack_into("<I", patched, local + 22, file_size)
                struct.pack_into("<I", patched, central + 24, file_size)
            if crc is not None:
                struct.pack_into("<I", patched, local + 14, crc)
                struct.pack_into("<I", patched, central + 16, crc)
            return bytes(patched)
        central = data.find(b"PK\x01\x02", central + 46)
    raise AssertionError(f"no central directory record for {name}")


ENDOFCHAIN = 0xFFFFFFFE
FREESECT = 0xFFFFFFFF
FATSECT = 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF


def directory_entry(
    name: str,
    entry_type: int,
    *,
    left: int = NOSTREAM,
    right: int = NOSTREAM,
    child: int = NOSTREAM,
) -> bytes:
    encoded = (name + "\x00").encode("utf-16-le")
    entry = bytearray(128)
    entry[: len(encoded)] = encoded
    struct.pack_into("<HBB", entry, 64, len(encoded), entry_type, 1)
    struct.pack_into("<III", entry, 68, left, right, child)
    struct.pack_into("<IQ", entry, 116, ENDOFCHAIN, 0)
    return bytes(entry)


def build_cfb(
    root_streams: list[str],
    *,
    storage: tuple[str, list[str]] | None = None,
    sector_shift: int = 9,
    directory_next: int = ENDOFCHAIN,
) -> bytes:
    """A minimal Compound File: header, one FAT sector (0), one directory sector (1).

    Root's children are chained through right siblings; `storage` adds a sub-storage holding
    its own streams. Streams are empty (start ENDOFCHAIN), which [MS-CFB] allows."""
    sector_size = 1 << sector_shift
    entries = [b""]  # the root, filled in below
    root_children = [*root_streams, *([storage[0]] if storage else [])]
    first_child = 1 if root_children else NOSTREAM
    for index, name in enumerate(root_streams):
        is_last = index == len(root_children) - 1
        entries.append(directory_entry(name, 2, right=NOSTREAM if is_last else len(entries) + 1))
    if storage is not None:
        storage_number = len(entries)
        entries.append(directory_entry(storage[0], 1, child=storage_number + 1))
        for index, name in enumerate(storage[1]):
            is_last = index == len(storage[1]) - 1
            next_entry = NOSTREAM if is_last else len(entries) + 1
            entries.append(directory_entry(name, 2, right=next_entry))
    entries[0] = directory_entry("Root Entry", 5, child=first_child)
    directory = b"".join(entries)
    assert len(directory) <= sector_size
    directory += b"\x00" * (sector_size - len(directory))

    header = bytearray(512)
    header[:8] = bytes.fromhex("d0cf11e0a1b11ae1")
    major = 3 if sector_shift == 9 else 4
    struct.pack_into("<HHHHH", header, 24, 0x3E, major, 0xFFFE, sector_shift, 6)
    directory_sector_count = 0 if major == 3 else 1
    struct.pack_into("<IIII", header, 40, directory_sector_count, 1, 1, 0)
    struct.pack_into("<IIIII", header, 56, 4096, ENDOFCHAIN, 0, ENDOFCHAIN, 0)
    struct.pack_into("<109I", header, 76, 0, *([FREESECT] * 108))
    header_sector = bytes(header) + b"\x00" * (sector_size - 512)

    fat = [FATSECT, directory_next] + [FREESECT] * (sector_size // 4 - 2)
    fat_sector = struct.pack(f"<{sector_size // 4}I", *fat)
    return header_sector + fat_sector + directory


# --- the error -------------------------------------------------------------------------------


def test_rejected_file_is_an_invalid_input_answered_with_422() -> None:
    error = RejectedFile("Tệp rỗng.", "The file is empty.", reason="empty")

    assert isinstance(error, InvalidInput)
    assert (error.status, error.code) == (422, "file-rejected")
    assert (error.title_vi, error.title_en) == ("Tệp không được chấp nhận", "File rejected")
    assert error.reason == "empty"
    assert error.extensions == {"reason": "empty"}


def test_every_kind_has_a_media_type_and_an_extension() -> None:
    assert set(MEDIA_TYPES) == set(FileKind)
    assert set(EXTENSIONS.values()) == set(FileKind)
    assert FileKind.DOCX.value == "docx"
    assert EXTENSIONS[".jpg"] is EXTENSIONS[".jpeg"] is FileKind.JPEG


# --- sniffing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (PDF, FileKind.PDF),
        (b"\x00junk from a scanner\r\n" * 40 + PDF, FileKind.PDF),
        (bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 504, FileKind.DOC),
        (build_docx(), FileKind.ZIP),
        (build_zip([("a.pdf", PDF)], zipfile.ZIP_STORED), FileKind.ZIP),
        (PNG, FileKind.PNG),
        (JPEG, FileKind.JPEG),
        (TIFF_LE, FileKind.TIFF),
        (TIFF_BE, FileKind.TIFF),
        (b'\xef\xbb\xbf \r\n<?xml version="1.0"?><a/>', FileKind.XML),
        ("<văn_bản/>".encode(), FileKind.XML),
        (b"\n<edXML:envelope/>", FileKind.XML),
    ],
    ids=[
        "pdf",
        "pdf-after-junk",
        "ole2",
        "docx-is-zip-family",
        "zip-holding-a-pdf",
        "png",
        "jpeg",
        "tiff-le",
        "tiff-be",
        "xml-bom-declaration",
        "xml-vietnamese-root",
        "xml-prefixed-root",
    ],
)
def test_magic_bytes_name_the_kind(head: bytes, expected: FileKind) -> None:
    assert sniff_head(head[:HEAD_SIZE]) is expected


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"plain text, not a document",
        b"x" * 1100 + PDF,
        b"< not xml",
        b"MZ\x90\x00\x03\x00\x00\x00",
    ],
    ids=["empty", "text", "pdf-too-far", "lt-then-space", "windows-exe"],
)
def test_unknown_bytes_have_no_kind(head: bytes) -> None:
    assert sniff_head(head) is None


@pytest.mark.parametrize("kind", list(FileKind))
def test_only_containers_need_full_inspection(kind: FileKind) -> None:
    images_and_pdf = {FileKind.PDF, FileKind.PNG, FileKind.JPEG, FileKind.TIFF}
    assert needs_full_inspection(kind) is (kind not in images_and_pdf)


# --- OLE2 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("streams", "expected"),
    [
        (["\x01CompObj", "WordDocument", "1Table"], FileKind.DOC),
        (["\x05SummaryInformation", "Workbook"], FileKind.XLS),
        (["Book"], FileKind.XLS),
    ],
    ids=["word-97", "excel-97", "excel-95"],
)
def test_compound_file_is_told_apart_by_its_root_streams(
    streams: list[str], expected: FileKind
) -> None:
    assert inspect_ole2(io.BytesIO(build_cfb(streams))) is expected


def test_compound_file_with_4096_byte_sectors_is_read() -> None:
    data = build_cfb(["WordDocument"], sector_shift=12)

    assert inspect_ole2(io.BytesIO(data)) is FileKind.DOC


def test_word_stream_inside_a_sub_storage_does_not_make_a_doc() -> None:
    # An embedded Word object lives in a sub-storage of some other compound file.
    data = build_cfb(["PowerPoint Document"], storage=("ObjectPool", ["WordDocument"]))

    with pytest.raises(RejectedFile) as excinfo:
        inspect_ole2(io.BytesIO(data))
    assert rejected_reason(excinfo) == "unknown-type"


def test_compound_file_that_is_both_word_and_excel_is_refused() -> None:
    with pytest.raises(RejectedFile) as excinfo:
        inspect_ole2(io.BytesIO(build_cfb(["WordDocument", "Workbook"])))
    assert rejected_reason(excinfo) == "unknown-type"


def test_directory_chain_that_loops_is_corrupt() -> None:
    data = build_cfb(["WordDocument"], directory_next=1)

    with pytest.raises(RejectedFile) as excinfo:
        inspect_ole2(io.BytesIO(data))
    assert rejected_reason(excinfo) == "corrupt"


def test_directory_tree_that_loops_is_corrupt() -> None:
    data = bytearray(build_cfb(["WordDocument", "1Table"]))
    # Entry 2 ("1Table") gets entry 1 as its right sibling: 1 -> 2 -> 1 -> ...
    struct.pack_into("<I", data, 512 + 512 + 2 * 128 + 72, 1)

    with pytest.raises(RejectedFile) as excinfo:
        inspect_ole2(io.BytesIO(bytes(data)))
    assert rejected_reason(excinfo) == "corrupt"


@pytest.mark.parametrize("length", [8, 600, 1030], ids=["magic-only", "no-directory", "cut"])
def test_truncated_compound_file_is_corrupt(length: int) -> None:
    data = build_cfb(["WordDocument"])[:length]

    with pytest.raises(RejectedFile) as excinfo:
        inspect_ole2(io.BytesIO(data))
    assert rejected_reason(excinfo) == "corrupt"


# --- ZIP family ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (build_docx(), FileKind.DOCX),
        (build_xlsx(), FileKind.XLSX),
        (build_odf(b"application/vnd.oasis.opendocument.text"), FileKind.ODT),
        (build_odf(b"application/vnd.oasis.opendocument.spreadsheet"), FileKind.ODS),
        (build_odf(b"application/vnd.oasis.opendocument.presentation"), FileKind.ZIP),
        (build_zip({"Công văn.pdf": PDF, "phụ lục/bảng.txt": b"1,2,3"}), FileKind.ZIP),
        (build_zip({}), FileKind.ZIP),
    ],
    ids=["docx", "xlsx", "odt", "ods", "odp-is-plain-zip", "zip", "empty-zip"],
)
def test_zip_family_is_told_apart_by_its_entries(data: bytes, expected: FileKind) -> None:
    assert inspect_zip(io.BytesIO(data)) is expected


def test_workbook_saved_by_openpyxl_is_xlsx() -> None:
    workbook = openpyxl.Workbook()
    workbook.active.append(["Số văn bản", "Trích yếu"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)

    assert inspect_zip(buffer) is FileKind.XLSX


def test_docx_with_an_embedded_workbook_is_accepted() -> None:
    # Every chart in Word embeds an XLSX; office files are not archives to be unpacked.
    data = build_docx({"word/embeddings/Microsoft_Excel_Worksheet.xlsx": build_xlsx()})

    assert inspect_zip(io.BytesIO(data)) is FileKind.DOCX


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    zeros = bytes(1 << 20)
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("zeros.bin", "w") as entry,
    ):
        for _ in range(200):
            entry.write(zeros)
    return buffer.getvalue()


def test_zip_bomb_is_refused(zip_bomb: bytes) -> None:
    assert len(zip_bomb) < 1 << 20

    with pytest.raises(RejectedFile) as excinfo:
        inspect_zip(io.BytesIO(zip_bomb))
    assert rejected_reason(excinfo) == "zip-bomb"


def test_zip_bomb_inside_a_nested_zip_is_refused(zip_bomb: bytes) -> None:
    data = build_zip([("inner.zip", zip_bomb)], zipfile.ZIP_STORED)

    with pytest.raises(RejectedFile) as excinfo:
        inspect_zip(io.BytesIO(data))
    assert rejected_reason(excinfo) == "zip-bomb"


def test_entry_that_declares_a_smaller_size_than_it_inflates_to_is_refused() -> None:
    # 10 MiB of zeros declared as 5000 bytes with the CRC of those 5000: the declared ratio
    # looks harmless and zipfile reads it cleanly; other extractors inflate all of it.
    honest = build_zip({"report.txt": bytes(10 << 20)})
    lying = patch_entry(honest, "report.txt", file_size=5000, crc=zlib.crc32(bytes(5000)))
    with zipfile.ZipFile(io.BytesIO(lying)) as archive:
        assert archive.read("report.txt") == bytes(5000)

    with pytest.raises(RejectedFile) as excinfo:
        inspect_zip(io.BytesIO(lying))
    assert rejected_reason(excinfo) == "zip-bomb"


def test_declared_total_above_the_limit_is_refused() -> None:
    data = build_zip({"a.txt": b"a" * 3000, "b.txt": b"b" * 3000})

    with pytest.raises(RejectedFile) as excinfo:
        inspect_zip(io.BytesIO(data), max_total_uncompressed=5000)
    assert rejected_reason(excinfo) == "zip-bomb"


def test_too_many_entries_are_refused() -> None:
    data = build_zip({f"{number}.txt": b"x" for number in range(4)})

    with pytest.raises(RejectedFile) as excinfo:
        inspect_zip(io.BytesIO(data), max_entries=3)
    assert rejected_reason(excinfo) == "zip-bomb"


def test_nested_archives_share_one_inflation_budget() -> None:
    # Each level alone is under 3 MB, but inflating both is 4.9 MB of work.
    inner = build_zip({"inner.bin": b"x" * 2_000_000}, zipfile.ZIP_STORED)
    outer = build_zip({"inner.zip": inner, "more.bin": b"y" * 900_000}, zipfile.ZIP_STORED)

    assert inspect_zip(io.BytesIO(outer), max_total_uncompressed=5_000_000) is FileKind.ZIP
    with pytest.raises(RejectedFile) as excinfo:
        inspect_zip(io.BytesIO(outer), max_total_uncompressed=3_000_000)
    assert rejected_reason(excinfo) == "zip-bomb"


@pytest.mark.parametrize(
    "name",
    ["../etc/passwd", "docs/../../etc/passwd", "/abs", "C:\\x", "C:x", "a\\..\\b", "a\x07b"],
)
def test_entry_with_an_unsafe_path_is_refused(name: str) -> None:
    data = build_zip([("ok.txt", b"ok"), (name, b"evil")])

    with pytest.raises(RejectedFile) as excinfo:
        inspect_zip(io.BytesIO(data))
    assert rejected_reason(excinfo) == "path-traversal"


def test_symlink_entry_is_refused() -> None:
    link = zipfile.ZipInfo("passwd")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    data = build_zip([(link, b"/etc/passwd")])

    with pytest.raises(RejectedFile) as excinfo:
        inspect_zip(io.BytesIO(data))
    assert rejected_reason(excinfo) == "path-traversal"


def test_docx_holding_an_unsafe_path_is_refused() -> None:
    data = build_docx({"../../word/evil.xml": b"<x/>"})

    with pytest.raises(RejectedFile) as excinfo:
        inspect_zip(io.BytesIO(data))
    assert rejected_reason(excinfo) == "path-traversal"


def test_zip_nested_one_level_is_accepted() -> None:
    inner = build_zip({"Công văn.pdf": PDF})
    outer = build_zip({"hồ sơ.zip": inner, "tờ trình.docx": build_docx()})

    assert inspect_zip(io.BytesIO(outer)) is FileKind.ZIP


def test_zip_nested_two_levels_is_refused() -> None:
    innermost = build_zip({"a.txt": b"a"})
    middle = build_zip({"b.zip": innermost})
    outer = build_zip({"c.zip": middle})

    with pytest.raises(RejectedFile) as excinfo:
        inspect_zip(io.BytesIO(outer))
    assert rejected_reason(excinfo) == "nested-archive"


def test_nested_archive_is_recognised_by_content_not_name() -> None:
    innermost = build_zip({"a.txt": b"a"})
    middle = build_zip({"harmless.dat": innermost})
    outer = build_zip({"also-harmless.bin": middle})

    with pytest.raises(RejectedFile) as excinfo:
        inspect_zip(io.BytesIO(outer))
    assert rejected_reason(excinfo) == "nested-archive"


def test_office_files_inside_a_nested_zip_are_accepted() -> None:
    inner = build_zip({"quyết định.docx": build_docx(), "số liệu.xlsx": build_xlsx()})
    outer = build_zip({"hồ sơ.zip": inner})

    assert inspect_zip(io.BytesIO(outer)) is FileKind.ZIP


def test_unsafe_path_inside_a_nested_zip_is_refused() -> None:
    inner = build_zip({"../../etc/cron.d/x": b"evil"})
    outer = build_zip({"inner.zip": inner})

    with pytest.raises(RejectedFile) as excinfo:
        inspect_zip(io.BytesIO(outer))
    assert rejected_reason(excinfo) == "path-traversal"


def test_encrypted_entry_in_an_office_file_is_refused() -> None:
    data = patch_entry(build_docx(), "word/document.xml", flag_bits=0x1)

    with pytest.raises(RejectedFile) as excinfo:
        inspect_zip(io.BytesIO(data))
    assert rejected_reason(excinfo) == "encrypted"


def test_encrypted_entry_in_a_plain_zip_is_accepted() -> None:
    data = patch_entry(build_zip({"mật.pdf": PDF, "a.txt": b"a"}), "mật.pdf", flag_bits=0x1)

    assert inspect_zip(io.BytesIO(data)) is FileKind.ZIP


def test_entry_whose_content_fails_its_crc_is_corrupt() -> None:
    data = bytearray(build_zip({"a.txt": b"hello world"}, zipfile.ZIP_STORED))
    data[data.index(b"hello")] = ord("j")

    with pytest.raises(RejectedFile) as excinfo:
        inspect_zip(io.BytesIO(bytes(data)))
    assert rejected_reason(excinfo) == "corrupt"


@pytest.mark.parametrize(
    "data",
    [b"PK\x03\x04 not really a zip", build_docx()[:-30], b""],
    ids=["garbage", "cut-central-directory", "empty"],
)
def test_damaged_zip_is_corrupt(data: bytes) -> None:
    with pytest.raises(RejectedFile) as excinfo:
        inspect_zip(io.BytesIO(data))
    assert rejected_reason(excinfo) == "corrupt"


# --- XML -------------------------------------------------------------------------------------


def test_plain_xml_is_accepted() -> None:
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<edXML:envelope xmlns:edXML="http://www.e-doc.vn/Schema/">'
        "<trichYeu>Về việc triển khai Nghị định 30/2020/NĐ-CP</trichYeu>"
        "</edXML:envelope>"
    )

    inspect_xml(io.BytesIO(document.encode()))  # does not raise


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>
"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<foo>&xxe;</foo>
"""

EXTERNAL_DTD = b'<!DOCTYPE note SYSTEM "http://attacker.example/note.dtd"><note/>'


@pytest.mark.parametrize(
    "document",
    [BILLION_LAUGHS, XXE, EXTERNAL_DTD],
    ids=["billion-laughs", "xxe", "external-dtd"],
)
def test_xml_with_a_doctype_is_refused(document: bytes) -> None:
    with pytest.raises(RejectedFile) as excinfo:
        inspect_xml(io.BytesIO(document))
    assert rejected_reason(excinfo) == "xml-entities"


@pytest.mark.parametrize(
    "document",
    [b"<a><b></a>", b"<a>&undeclared;</a>", b"<a/><b/>", b""],
    ids=["mismatched-tags", "undeclared-entity", "two-roots", "empty"],
)
def test_malformed_xml_is_corrupt(document: bytes) -> None:
    with pytest.raises(RejectedFile) as excinfo:
        inspect_xml(io.BytesIO(document))
    assert rejected_reason(excinfo) == "corrupt"


def test_xml_above_the_size_limit_is_refused() -> None:
    document = b"<a>" + b"x" * 2000 + b"</a>"

    with pytest.raises(RejectedFile) as excinfo:
        inspect_xml(io.BytesIO(document), max_bytes=1000)
    assert rejected_reason(excinfo) == "too-large"


# --- what the client claims ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file_name", "content_type", "expected"),
    [
        ("a.bin", "application/pdf", FileKind.PDF),
        ("a.bin", "Application/PDF; charset=binary", FileKind.PDF),
        ("a.bin", "text/xml; charset=utf-8", FileKind.XML),
        ("a.bin", "image/jpg", FileKind.JPEG),
        ("a.bin", "application/x-zip-compressed", FileKind.ZIP),
        # An office file labelled by its container: the extension is the better claim.
        ("Tờ trình.docx", "application/zip", FileKind.DOCX),
        ("Bảng lương.ods", "application/x-zip-compressed", FileKind.ODS),
        ("hồ sơ.zip", "application/zip", FileKind.ZIP),
        ("Báo cáo.DOCX", "application/octet-stream", FileKind.DOCX),
        ("scan.TIF", None, FileKind.TIFF),
        ("bảng.xlsx", "application/pdf", FileKind.PDF),
        ("C:\\Users\\a\\ảnh.jpeg", "", FileKind.JPEG),
        ("readme", None, None),
        ("virus.exe", "application/x-msdownload", None),
    ],
)
def test_declared_kind_prefers_a_known_content_type_over_the_extension(
    file_name: str, content_type: str | None, expected: FileKind | None
) -> None:
    assert declared_kind(file_name, content_type) is expected


def test_pdf_bytes_declared_as_docx_are_refused() -> None:
    actual = sniff_head(PDF)
    assert actual is not None

    with pytest.raises(RejectedFile) as excinfo:
        check_matches(declared_kind("Tờ trình.docx", None), actual)
    assert rejected_reason(excinfo) == "type-mismatch"
    assert excinfo.value.detail_vi == "Nội dung tệp là PDF nhưng tệp được khai báo là DOCX."
    assert excinfo.value.detail_en == "The file content is PDF but the file was declared as DOCX."


@pytest.mark.parametrize("declared", [None, FileKind.XLSX])
def test_matching_or_absent_claim_is_accepted(declared: FileKind | None) -> None:
    check_matches(declared, FileKind.XLSX)  # does not raise


# --- file names ------------------------------------------------------------------------------


def test_decomposed_vietnamese_name_is_stored_composed() -> None:
    composed = "Công văn số 12.pdf"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed

    assert clean_file_name(decomposed) == composed


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Quyết định.pdf \n", "Quyết định.pdf"),
        ("C:\\Users\\Văn thư\\Tờ trình.docx", "Tờ trình.docx"),
        ("/home/vanthu/Báo cáo quý I.xlsx", "Báo cáo quý I.xlsx"),
        ("x" * 251 + ".pdf", "x" * 251 + ".pdf"),
    ],
    ids=["whitespace", "windows-path", "posix-path", "255-characters"],
)
def test_file_name_keeps_only_its_last_component(raw: str, expected: str) -> None:
    assert clean_file_name(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        ".",
        "..",
        "hồ sơ/..",
        "folder/",
        "báo cáo\x00.pdf",
        "bao\tcao.pdf",
        "hoá đơn\u202efdp.exe",
        "x\u200b.pdf",
        "x" * 252 + ".pdf",
    ],
    ids=[
        "empty",
        "blank",
        "dot",
        "dot-dot",
        "ends-in-dot-dot",
        "directory",
        "nul",
        "tab",
        "right-to-left-override",
        "zero-width-space",
        "256-characters",
    ],
)
def test_unusable_file_name_is_refused(raw: str) -> None:
    with pytest.raises(RejectedFile) as excinfo:
        clean_file_name(raw)
    assert rejected_reason(excinfo) == "bad-name"


@pytest.mark.parametrize(
    ("file_name", "inline", "expected"),
    [
        (
            'Tờ trình "gấp".pdf',
            False,
            'attachment; filename="To trinh _gap_.pdf"; '
            "filename*=UTF-8''T%E1%BB%9D%20tr%C3%ACnh%20%22g%E1%BA%A5p%22.pdf",
        ),
        (
            "Quyết định số 15-QĐ-UBND.pdf",
            True,
            'inline; filename="Quyet dinh so 15-QD-UBND.pdf"; '
            "filename*=UTF-8''Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh%20s%E1%BB%91%2015-Q%C4%90-UBND.pdf",
        ),
        (
            "a!#$&+^`|~b (1)\\100%.pdf",
            False,
            'attachment; filename="a!#$&+^`|~b (1)_100_.pdf"; '
            "filename*=UTF-8''a!#$&+^`|~b%20%281%29%5C100%25.pdf",
        ),
        (
            "report.pdf",
            False,
            "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf",
        ),
    ],
    ids=["quotes-and-diacritics", "inline-with-d-stroke", "attr-chars", "ascii"],
)
def test_content_disposition_carries_both_names(
    file_name: str, inline: bool, expected: str
) -> None:
    assert content_disposition(file_name, inline=inline) == expected


_ATTR_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$&+-.^_`|~%")


@given(st.text(max_size=300))
def test_cleaned_names_are_safe_and_survive_content_disposition(raw: str) -> None:
    try:
        cleaned = clean_file_name(raw)
    except RejectedFile:
        return

    assert cleaned
    assert "/" not in cleaned
    assert "\\" not in cleaned
    assert all(unicodedata.category(char) not in {"Cc", "Cf"} for char in cleaned)
    assert cleaned == unicodedata.normalize("NFC", cleaned)
    header = content_disposition(cleaned)
    fallback = header.split('filename="', 1)[1].split('"; filename*=', 1)[0]
    assert all(" " <= char <= "~" and char not in '"\\' for char in fallback)
    encoded = header.rsplit("filename*=UTF-8''", 1)[1]
    assert set(encoded) <= _ATTR_CHARS
    assert urllib.parse.unquote(encoded, errors="strict") == cleaned
