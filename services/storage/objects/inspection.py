"""What an uploaded file really is, judged from its bytes, and whether it is safe to keep.

The client's file name and Content-Type are claims; the bytes decide. Containers (OLE2, ZIP and
XML) are read in full, because their real type, and the harm they can do, only show inside."""

from __future__ import annotations

import enum
import io
import posixpath
import re
import stat
import struct
import tempfile
import unicodedata
import urllib.parse
import zipfile
import zlib
from collections.abc import Callable, Generator
from contextlib import closing
from dataclasses import dataclass
from typing import IO, BinaryIO

# lxml ships no type information; only XMLParser and XMLSyntaxError are used, inside inspect_xml.
from lxml import etree  # type: ignore[import-untyped]

from services.common.problems import InvalidInput


class FileKind(enum.StrEnum):
    PDF = "pdf"
    DOC = "doc"
    DOCX = "docx"
    XLS = "xls"
    XLSX = "xlsx"
    ODT = "odt"
    ODS = "ods"
    PNG = "png"
    JPEG = "jpeg"
    TIFF = "tiff"
    ZIP = "zip"
    XML = "xml"


MEDIA_TYPES: dict[FileKind, str] = {
    FileKind.PDF: "application/pdf",
    FileKind.DOC: "application/msword",
    FileKind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    FileKind.XLS: "application/vnd.ms-excel",
    FileKind.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    FileKind.ODT: "application/vnd.oasis.opendocument.text",
    FileKind.ODS: "application/vnd.oasis.opendocument.spreadsheet",
    FileKind.PNG: "image/png",
    FileKind.JPEG: "image/jpeg",
    FileKind.TIFF: "image/tiff",
    FileKind.ZIP: "application/zip",
    FileKind.XML: "application/xml",
}

EXTENSIONS: dict[str, FileKind] = {
    ".pdf": FileKind.PDF,
    ".doc": FileKind.DOC,
    ".docx": FileKind.DOCX,
    ".xls": FileKind.XLS,
    ".xlsx": FileKind.XLSX,
    ".odt": FileKind.ODT,
    ".ods": FileKind.ODS,
    ".png": FileKind.PNG,
    ".jpg": FileKind.JPEG,
    ".jpeg": FileKind.JPEG,
    ".tif": FileKind.TIFF,
    ".tiff": FileKind.TIFF,
    ".zip": FileKind.ZIP,
    ".xml": FileKind.XML,
}

# Names that clients really send and that mean one of our kinds, beyond the canonical ones.
_MEDIA_TYPE_ALIASES: dict[str, FileKind] = {
    "text/xml": FileKind.XML,
    "image/jpg": FileKind.JPEG,
    "application/x-zip-compressed": FileKind.ZIP,
}

_KIND_BY_MEDIA_TYPE: dict[str, FileKind] = {
    **{media_type: kind for kind, media_type in MEDIA_TYPES.items()},
    **_MEDIA_TYPE_ALIASES,
}


class RejectedFile(InvalidInput):
    """An upload refused for what its bytes are; `reason` is a stable slug for clients and logs."""

    status = 422
    code = "file-rejected"
    title_vi = "Tệp không được chấp nhận"
    title_en = "File rejected"

    def __init__(self, detail_vi: str, detail_en: str, *, reason: str) -> None:
        super().__init__(detail_vi, detail_en, reason=reason)
        self.reason = reason


def _corrupt(format_name: str) -> RejectedFile:
    return RejectedFile(
        f"Tệp {format_name} bị hỏng hoặc không đọc được.",
        f"The {format_name} file is damaged or cannot be read.",
        reason="corrupt",
    )


# ---------------------------------------------------------------------------------------------
# Magic bytes

HEAD_SIZE = 8192

_OLE2_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
_ZIP_MAGIC = b"PK\x03\x04"
# Acrobat finds the header anywhere in the first 1024 bytes (PDF 1.7 Implementation note 13),
# and scanners and mail gateways do prepend junk, so a strict offset-0 check refuses real PDFs.
_PDF_HEADER_WINDOW = 1024 + len(b"%PDF-")
_XML_START = re.compile(rb"<(?:\?xml|[A-Za-z_:\x80-\xff])")


def sniff_head(head: bytes) -> FileKind | None:
    """The kind the leading bytes announce; OLE2 and ZIP name only their family (DOC, ZIP)."""
    # Magic at offset 0 first: a ZIP or OLE2 file may well hold "%PDF-" in its first kilobyte.
    if head.startswith(_OLE2_MAGIC):
        return FileKind.DOC
    if head.startswith(_ZIP_MAGIC):
        return FileKind.ZIP
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileKind.PNG
    if head.startswith(b"\xff\xd8\xff"):
        return FileKind.JPEG
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return FileKind.TIFF
    if _XML_START.match(head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")):
        return FileKind.XML
    if b"%PDF-" in head[:_PDF_HEADER_WINDOW]:
        return FileKind.PDF
    return None


_NEEDS_FULL_INSPECTION = frozenset(
    {
        FileKind.DOC,
        FileKind.XLS,
        FileKind.DOCX,
        FileKind.XLSX,
        FileKind.ODT,
        FileKind.ODS,
        FileKind.ZIP,
        FileKind.XML,
    }
)


def needs_full_inspection(kind: FileKind) -> bool:
    return kind in _NEEDS_FULL_INSPECTION


# ---------------------------------------------------------------------------------------------
# OLE2 / Compound File Binary ([MS-CFB])

_ENDOFCHAIN = 0xFFFFFFFE
_MAXREGSECT = 0xFFFFFFFA
_NOSTREAM = 0xFFFFFFFF
_HEADER_DIFAT_ENTRIES = 109
_DIRECTORY_ENTRY_SIZE = 128
_STORAGE, _STREAM, _ROOT = 1, 2, 5
_OLE2_NAME = "Office 97-2003"


@dataclass(frozen=True)
class _DirectoryEntry:
    name: str
    type: int
    left: int
    right: int
    child: int


class _CompoundFile:
    """Just enough of [MS-CFB] to list the streams at the root. Every chain and tree walk
    remembers what it visited, so a crafted file with loops is refused instead of spun on."""

    def __init__(self, file: IO[bytes]) -> None:
        self._file = file
        file.seek(0, io.SEEK_END)
        size = file.tell()
        file.seek(0)
        header = file.read(512)
        if len(header) < 512 or not header.startswith(_OLE2_MAGIC):
            raise _corrupt(_OLE2_NAME)
        major, byte_order, sector_shift = struct.unpack_from("<HHH", header, 26)
        # [MS-CFB] 2.2: version 3 uses 512-byte sectors, version 4 uses 4096-byte sectors.
        if byte_order != 0xFFFE or (major, sector_shift) not in {(3, 9), (4, 12)}:
            raise _corrupt(_OLE2_NAME)
        self._sector_size = 1 << sector_shift
        # The header occupies sector -1; a short last sector is tolerated, as readers do.
        self._sector_count = max(0, -(-(size - self._sector_size) // self._sector_size))
        fat_count, self._first_directory_sector = struct.unpack_from("<II", header, 44)
        first_difat_sector = struct.unpack_from("<I", header, 68)[0]
        header_difat = struct.unpack_from(f"<{_HEADER_DIFAT_ENTRIES}I", header, 76)
        self._fat_sectors = self._fat_locations(fat_count, header_difat, first_difat_sector)
        self._fat_cache: dict[int, bytes] = {}
        self._directory_sectors: list[int] = []

    def _read_at(self, offset: int, length: int) -> bytes:
        self._file.seek(offset)
        data = self._file.read(length)
        if len(data) != length:
            raise _corrupt(_OLE2_NAME)
        return data

    def _sector(self, number: int) -> bytes:
        if number >= self._sector_count:
            raise _corrupt(_OLE2_NAME)
        return self._read_at((number + 1) * self._sector_size, self._sector_size)

    def _fat_locations(
        self, fat_count: int, header_difat: tuple[int, ...], first_difat_sector: int
    ) -> list[int]:
        if fat_count > self._sector_count:
            raise _corrupt(_OLE2_NAME)
        locations = list(header_difat[: min(fat_count, _HEADER_DIFAT_ENTRIES)])
        per_sector = self._sector_size // 4
        visited: set[int] = set()
        difat_sector = first_difat_sector
        while len(locations) < fat_count:
            if difat_sector > _MAXREGSECT or difat_sector in visited:
                raise _corrupt(_OLE2_NAME)
            visited.add(difat_sector)
            values = struct.unpack(f"<{per_sector}I", self._sector(difat_sector))
            # The last slot of a DIFAT sector points to the next DIFAT sector ([MS-CFB] 2.5).
            locations.extend(values[:-1])
            difat_sector = values[-1]
        del locations[fat_count:]
        if any(location >= self._sector_count for location in locations):
            raise _corrupt(_OLE2_NAME)
        return locations

    def _next_sector(self, sector: int) -> int:
        per_sector = self._sector_size // 4
        index = sector // per_sector
        if index >= len(self._fat_sectors):
            raise _corrupt(_OLE2_NAME)
        fat = self._fat_cache.get(index)
        if fat is None:
            fat = self._fat_cache[index] = self._sector(self._fat_sectors[index])
        next_sector: int = struct.unpack_from("<I", fat, (sector % per_sector) * 4)[0]
        return next_sector

    def _chain(self, start: int) -> list[int]:
        chain: list[int] = []
        visited: set[int] = set()
        sector = start
        while sector != _ENDOFCHAIN:
            if sector > _MAXREGSECT or sector >= self._sector_count or sector in visited:
                raise _corrupt(_OLE2_NAME)
            visited.add(sector)
            chain.append(sector)
            sector = self._next_sector(sector)
        return chain

    def _entry(self, number: int) -> _DirectoryEntry:
        per_sector = self._sector_size // _DIRECTORY_ENTRY_SIZE
        position = number // per_sector
        if position >= len(self._directory_sectors):
            raise _corrupt(_OLE2_NAME)
        offset = (self._directory_sectors[position] + 1) * self._sector_size
        raw = self._read_at(
            offset + (number % per_sector) * _DIRECTORY_ENTRY_SIZE, _DIRECTORY_ENTRY_SIZE
        )
        name_length, entry_type = struct.unpack_from("<HB", raw, 64)
        left, right, child = struct.unpack_from("<III", raw, 68)
        # The stored length counts the UTF-16 terminator; 64 bytes hold at most 31 characters.
        if name_length > 64 or name_length % 2 or name_length < 2:
            raise _corrupt(_OLE2_NAME)
        name = raw[: name_length - 2].decode("utf-16-le", errors="replace")
        return _DirectoryEntry(name, entry_type, left, right, child)

    def root_stream_names(self) -> set[str]:
        """Upper-cased names of the streams directly under the root storage; [MS-CFB] 2.6.4
        compares names case-insensitively."""
        self._directory_sectors = self._chain(self._first_directory_sector)
        root = self._entry(0)
        if root.type != _ROOT:
            raise _corrupt(_OLE2_NAME)
        capacity = len(self._directory_sectors) * (self._sector_size // _DIRECTORY_ENTRY_SIZE)
        names: set[str] = set()
        visited: set[int] = set()
        pending = [root.child]
        while pending:
            number = pending.pop()
            if number == _NOSTREAM:
                continue
            if number in visited or number == 0 or number >= capacity:
                raise _corrupt(_OLE2_NAME)
            visited.add(number)
            entry = self._entry(number)
            if entry.type not in {_STORAGE, _STREAM}:
                raise _corrupt(_OLE2_NAME)
            if entry.type == _STREAM:
                names.add(entry.name.upper())
            # Siblings share the parent; children belong to a sub-storage and are not followed.
            pending += [entry.left, entry.right]
        return names


def inspect_ole2(file: BinaryIO) -> FileKind:
    """DOC or XLS, from the streams at the root of the compound file."""
    names = _CompoundFile(file).root_stream_names()
    # Word 97+ keeps its text in "WordDocument"; Excel 97+ uses "Workbook", Excel 5/95 "Book".
    # A file with both would open differently in each program, so it is refused too.
    is_word = "WORDDOCUMENT" in names
    is_excel = bool(names & {"WORKBOOK", "BOOK"})
    if is_word and not is_excel:
        return FileKind.DOC
    if is_excel and not is_word:
        return FileKind.XLS
    raise RejectedFile(
        "Tệp Office 97-2003 không phải văn bản Word hay bảng tính Excel.",
        "The Office 97-2003 file is neither a Word document nor an Excel workbook.",
        reason="unknown-type",
    )


# ---------------------------------------------------------------------------------------------
# ZIP and the formats built on it (OOXML, ODF)

_ZIP_NAME = "ZIP"
_CHUNK = 1 << 16
# Below this size a high ratio is harmless (a page of spaces deflates a thousandfold), so the
# ratio rule would only refuse honest files.
_RATIO_FLOOR = 1 << 20
# A nested archive is held in memory up to this size, then on disk.
_NESTED_IN_MEMORY = 8 << 20
# A plain ZIP may sit inside the uploaded ZIP, and nothing deeper (office files are leaves).
_MAX_ZIP_NESTING = 1
_MIMETYPE_MAX = 256
_ENCRYPTED_FLAG = 0x1
_DRIVE_LETTER = re.compile(r"[A-Za-z]:")
_ODF_MIMETYPES: dict[bytes, FileKind] = {
    b"application/vnd.oasis.opendocument.text": FileKind.ODT,
    b"application/vnd.oasis.opendocument.spreadsheet": FileKind.ODS,
}
_UNSAFE_CHARACTER_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


@dataclass
class _ZipRules:
    max_entries: int
    max_total_uncompressed: int
    max_ratio: int
    # Bytes still allowed to be inflated, shared by the upload and every archive inside it.
    budget: int


def _zip_bomb(detail_vi: str, detail_en: str) -> RejectedFile:
    return RejectedFile(detail_vi, detail_en, reason="zip-bomb")


def _has_unsafe_characters(text: str) -> bool:
    return any(unicodedata.category(char) in _UNSAFE_CHARACTER_CATEGORIES for char in text)


def _is_unsafe_entry_name(name: str) -> bool:
    return (
        not name
        or name.startswith("/")
        or "\\" in name
        or _DRIVE_LETTER.match(name) is not None
        or ".." in name.split("/")
        or _has_unsafe_characters(name)
    )


def _check_declared(entries: list[zipfile.ZipInfo], rules: _ZipRules) -> None:
    if len(entries) > rules.max_entries:
        raise _zip_bomb(
            f"Tệp ZIP có {len(entries)} mục, vượt giới hạn {rules.max_entries}.",
            f"The ZIP file has {len(entries)} entries, above the limit of {rules.max_entries}.",
        )
    total = 0
    for entry in entries:
        # orig_filename is the name before zipfile cuts it at a NUL byte.
        symlink = stat.S_ISLNK(entry.external_attr >> 16)
        if symlink or _is_unsafe_entry_name(entry.orig_filename):
            raise RejectedFile(
                f"Tệp ZIP chứa mục có đường dẫn không an toàn: {entry.orig_filename!r}.",
                f"The ZIP file holds an entry with an unsafe path: {entry.orig_filename!r}.",
                reason="path-traversal",
            )
        ratio_limit = rules.max_ratio * max(entry.compress_size, 1)
        if entry.file_size > _RATIO_FLOOR and entry.file_size > ratio_limit:
            raise _zip_bomb(
                f"Mục {entry.filename!r} trong tệp ZIP có tỉ lệ nén bất thường.",
                f"The ZIP entry {entry.filename!r} has an abnormal compression ratio.",
            )
        total += entry.file_size
    if total > rules.max_total_uncompressed:
        raise _zip_bomb(
            "Tổng dung lượng giải nén của tệp ZIP vượt giới hạn cho phép.",
            "The total uncompressed size of the ZIP file is above the allowed limit.",
        )


def _data_offset(file: IO[bytes], entry: zipfile.ZipInfo) -> int:
    # The local header may carry a different extra field than the central directory, so its
    # own lengths decide where the data starts (APPNOTE 4.3.7).
    if entry.header_offset < 0:
        raise _corrupt(_ZIP_NAME)
    file.seek(entry.header_offset)
    local_header = file.read(30)
    if len(local_header) != 30 or not local_header.startswith(_ZIP_MAGIC):
        raise _corrupt(_ZIP_NAME)
    name_length, extra_length = struct.unpack_from("<HH", local_header, 26)
    offset: int = entry.header_offset + 30 + name_length + extra_length
    return offset


def _entry_chunks(
    file: IO[bytes], archive: zipfile.ZipFile, entry: zipfile.ZipInfo
) -> Generator[bytes, None, None]:
    """The entry's content as it really inflates, whatever sizes its headers declare.

    zipfile stops at the declared size, so an entry that lies about it looks small and clean
    to Python while other extractors inflate all of it; hence the own reader for the two
    methods real uploads use."""
    if entry.compress_type not in {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}:
        # bzip2 and LZMA are rare in uploads; for them zipfile's own checks have to do.
        with archive.open(entry) as stream:
            while chunk := stream.read(_CHUNK):
                yield chunk
        return
    position = _data_offset(file, entry)
    remaining = entry.compress_size
    crc = 0

    def read_raw() -> bytes:
        nonlocal position, remaining
        file.seek(position)
        raw = file.read(min(_CHUNK, remaining))
        if not raw:
            raise _corrupt(_ZIP_NAME)
        position += len(raw)
        remaining -= len(raw)
        return raw

    if entry.compress_type == zipfile.ZIP_STORED:
        while remaining:
            chunk = read_raw()
            crc = zlib.crc32(chunk, crc)
            yield chunk
    else:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        while not inflater.eof:
            if inflater.unconsumed_tail:
                raw = inflater.unconsumed_tail
            elif remaining:
                raw = read_raw()
            else:
                raw = b""  # no input left; zlib may still hold output
            chunk = inflater.decompress(raw, _CHUNK)
            if not raw and not chunk:
                raise _corrupt(_ZIP_NAME)  # the stream ends before its final block
            crc = zlib.crc32(chunk, crc)
            yield chunk
    if crc != entry.CRC:
        raise _corrupt(_ZIP_NAME)


def _drain(
    file: IO[bytes],
    archive: zipfile.ZipFile,
    entry: zipfile.ZipInfo,
    rules: _ZipRules,
    sink: Callable[[bytes], object] | None = None,
) -> None:
    produced = 0
    with closing(_entry_chunks(file, archive, entry)) as chunks:
        for chunk in chunks:
            produced += len(chunk)
            rules.budget -= len(chunk)
            if produced > entry.file_size:
                raise _zip_bomb(
                    f"Mục {entry.filename!r} trong tệp ZIP khai báo sai kích thước.",
                    f"The ZIP entry {entry.filename!r} declares a false size.",
                )
            if rules.budget < 0:
                raise _zip_bomb(
                    "Tổng dung lượng giải nén của tệp ZIP vượt giới hạn cho phép.",
                    "The total uncompressed size of the ZIP file is above the allowed limit.",
                )
            if sink is not None:
                sink(chunk)
    if produced != entry.file_size:
        raise _corrupt(_ZIP_NAME)


def _read_small(
    file: IO[bytes], archive: zipfile.ZipFile, entry: zipfile.ZipInfo, limit: int
) -> bytes | None:
    """The entry's content if it inflates to at most `limit` bytes, else None."""
    content = b""
    with closing(_entry_chunks(file, archive, entry)) as chunks:
        for chunk in chunks:
            content += chunk
            if len(content) > limit:
                return None
    return content


class _NestedZipCatcher:
    """Sink for an entry's content that keeps it, spooled, only if it turns out to be a ZIP."""

    def __init__(self) -> None:
        self._prefix = b""
        self._decided = False
        self.spool: tempfile.SpooledTemporaryFile[bytes] | None = None

    def write(self, chunk: bytes) -> None:
        if self.spool is not None:
            self.spool.write(chunk)
        elif not self._decided:
            self._prefix += chunk
            if len(self._prefix) >= len(_ZIP_MAGIC):
                self._decided = True
                if self._prefix.startswith(_ZIP_MAGIC):
                    # Closed by __exit__; the catcher is the context manager around it.
                    self.spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115
                        max_size=_NESTED_IN_MEMORY
                    )
                    self.spool.write(self._prefix)
                self._prefix = b""

    def __enter__(self) -> _NestedZipCatcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.spool is not None:
            self.spool.close()


def _archive_kind(
    file: IO[bytes], archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo]
) -> FileKind:
    names = {entry.filename for entry in entries}
    if "[Content_Types].xml" in names:
        is_word = "word/document.xml" in names
        is_excel = "xl/workbook.xml" in names
        if is_word != is_excel:
            return FileKind.DOCX if is_word else FileKind.XLSX
    # ODF 1.2 part 3, 3.3: the package's media type is the content of its first entry.
    first = entries[0] if entries else None
    if first is not None and first.filename == "mimetype" and not first.flag_bits & _ENCRYPTED_FLAG:
        media_type = _read_small(file, archive, first, _MIMETYPE_MAX)
        if media_type is not None:
            return _ODF_MIMETYPES.get(media_type, FileKind.ZIP)
    return FileKind.ZIP


def _inspect_archive(file: IO[bytes], rules: _ZipRules, depth: int) -> FileKind:
    try:
        with zipfile.ZipFile(file) as archive:
            entries = archive.infolist()
            _check_declared(entries, rules)
            kind = _archive_kind(file, archive, entries)
            if kind is FileKind.ZIP and depth > _MAX_ZIP_NESTING:
                raise RejectedFile(
                    "Tệp ZIP chứa tệp nén lồng nhau quá một cấp.",
                    "The ZIP file holds archives nested more than one level deep.",
                    reason="nested-archive",
                )
            for entry in entries:
                if entry.flag_bits & _ENCRYPTED_FLAG:
                    if kind is not FileKind.ZIP:
                        raise RejectedFile(
                            f"Tệp {kind.name} có nội dung được mã hoá, không kiểm tra được.",
                            f"The {kind.name} file has encrypted content that cannot be checked.",
                            reason="encrypted",
                        )
                    continue  # a password-protected entry in a plain ZIP is opaque, and allowed
                # Office files are leaves: a chart in a DOCX embeds an XLSX, and that is normal.
                if kind is not FileKind.ZIP:
                    _drain(file, archive, entry, rules)
                    continue
                with _NestedZipCatcher() as catcher:
                    _drain(file, archive, entry, rules, catcher.write)
                    if catcher.spool is not None:
                        catcher.spool.seek(0)
                        _inspect_archive(catcher.spool, rules, depth + 1)
            return kind
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        ValueError,
        struct.error,
        zlib.error,
        NotImplementedError,
    ) as error:
        raise _corrupt(_ZIP_NAME) from error


def inspect_zip(
    file: BinaryIO,
    *,
    max_entries: int = 10_000,
    max_total_uncompressed: int = 1 << 30,
    max_ratio: int = 100,
) -> FileKind:
    """DOCX, XLSX, ODT, ODS or plain ZIP, after every entry has been inflated and checked.

    `max_total_uncompressed` bounds both what the headers declare and what is really inflated,
    across nested archives too, so it is also the bound on the work done here."""
    rules = _ZipRules(max_entries, max_total_uncompressed, max_ratio, max_total_uncompressed)
    return _inspect_archive(file, rules, depth=0)


# ---------------------------------------------------------------------------------------------
# XML


class _DoctypeFound(Exception):
    pass


class _RefuseDoctype:
    """lxml parser target that stops at a DOCTYPE before any of its declarations are read.

    Refusing DTDs outright closes entity expansion (billion laughs) and external entities
    (XXE) at once; no document this system exchanges needs one."""

    def doctype(self, name: object, public_id: object, system_url: object) -> None:
        raise _DoctypeFound

    def close(self) -> None:
        return None


def inspect_xml(file: BinaryIO, *, max_bytes: int = 50 << 20) -> None:
    """Refuse XML that is malformed, larger than `max_bytes` or carries a DOCTYPE."""
    # The target receives events instead of a tree being built, so memory stays flat.
    parser = etree.XMLParser(
        target=_RefuseDoctype(),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
    )
    read = 0
    try:
        while chunk := file.read(min(_CHUNK, max_bytes + 1 - read)):
            read += len(chunk)
            if read > max_bytes:
                raise RejectedFile(
                    f"Tệp XML lớn hơn giới hạn {max_bytes} byte.",
                    f"The XML file is larger than the limit of {max_bytes} bytes.",
                    reason="too-large",
                )
            parser.feed(chunk)
        parser.close()
    except _DoctypeFound as error:
        raise RejectedFile(
            "Tệp XML chứa khai báo DOCTYPE; hệ thống không nhận XML có DTD hay thực thể.",
            "The XML file has a DOCTYPE declaration; XML with a DTD or entities is not accepted.",
            reason="xml-entities",
        ) from error
    except etree.XMLSyntaxError as error:
        raise _corrupt("XML") from error


# ---------------------------------------------------------------------------------------------
# What the client claims


_ZIP_CONTAINED = frozenset({FileKind.DOCX, FileKind.XLSX, FileKind.ODT, FileKind.ODS})


def declared_kind(file_name: str, content_type: str | None) -> FileKind | None:
    """The kind the client claims: a known Content-Type first, else the file name extension."""
    last_component = re.split(r"[/\\]", file_name)[-1]
    by_extension = EXTENSIONS.get(posixpath.splitext(last_component)[1].lower())
    if content_type:
        media_type = content_type.split(";", 1)[0].strip().lower()
        kind = _KIND_BY_MEDIA_TYPE.get(media_type)
        # Browsers and mail clients often label office files by their container ("application/
        # zip" for a .docx); the extension then says more, and the bytes decide anyway.
        if kind is FileKind.ZIP and by_extension in _ZIP_CONTAINED:
            return by_extension
        if kind is not None:
            return kind
    return by_extension


def check_matches(declared: FileKind | None, actual: FileKind) -> None:
    if declared is None or declared is actual:
        return
    raise RejectedFile(
        f"Nội dung tệp là {actual.name} nhưng tệp được khai báo là {declared.name}.",
        f"The file content is {actual.name} but the file was declared as {declared.name}.",
        reason="type-mismatch",
    )


# ---------------------------------------------------------------------------------------------
# File names

_MAX_NAME_LENGTH = 255
# RFC 5987 3.2.1 attr-char, minus what urllib.parse.quote never encodes (ALPHA DIGIT "-._~").
_ATTR_CHAR_PUNCTUATION = "!#$&+^`|"
# Đ/đ is a letter of its own in Unicode, not D with a mark, so NFKD leaves it alone.
_ASCII_LOOKALIKES = str.maketrans({"đ": "d", "Đ": "D"})


def _bad_name(detail_vi: str, detail_en: str) -> RejectedFile:
    return RejectedFile(detail_vi, detail_en, reason="bad-name")


def clean_file_name(name: str) -> str:
    """The name to store: NFC, last path component only, nothing that can spoof or inject."""
    # macOS sends Vietnamese names decomposed (NFD); stored NFC they compare and sort as typed.
    name = unicodedata.normalize("NFC", name).strip()
    name = re.split(r"[/\\]", name)[-1].strip()
    if not name or name in {".", ".."}:
        raise _bad_name("Tên tệp trống hoặc không hợp lệ.", "The file name is empty or invalid.")
    if len(name) > _MAX_NAME_LENGTH:
        raise _bad_name(
            f"Tên tệp dài hơn {_MAX_NAME_LENGTH} ký tự.",
            f"The file name is longer than {_MAX_NAME_LENGTH} characters.",
        )
    # Cf holds the bidi overrides (U+202E) that make "gpj.exe" display as "exe.jpg".
    if _has_unsafe_characters(name):
        raise _bad_name(
            "Tên tệp chứa ký tự điều khiển.", "The file name contains control characters."
        )
    return name


def _ascii_fallback(file_name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", file_name.translate(_ASCII_LOOKALIKES))
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    # RFC 6266 appendix D: '%' is avoided too, as some agents percent-decode plain filename.
    return "".join(char if " " <= char <= "~" and char not in '"\\%' else "_" for char in stripped)


def content_disposition(file_name: str, *, inline: bool = False) -> str:
    """RFC 6266 header value: an ASCII filename for old agents, the exact one in filename*."""
    disposition = "inline" if inline else "attachment"
    encoded = urllib.parse.quote(file_name, safe=_ATTR_CHAR_PUNCTUATION)
    return f"{disposition}; filename=\"{_ascii_fallback(file_name)}\"; filename*=UTF-8''{encoded}"
