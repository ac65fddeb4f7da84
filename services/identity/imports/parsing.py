"""Parses bulk-import files of agencies and people (CSV or XLSX) into typed, validated rows.

A problem with the whole file (format, encoding, columns, size) raises `ImportFileRejected`. A
problem with one row becomes a `RowError` naming its line (the header is line 1) with a reason in
Vietnamese and English, so an administrator can fix every row in one pass; rows with errors are
left out of the report's `rows`. Applying the rows to the database is done elsewhere.

Files are read row by row and every limit is checked while reading, so a huge or hostile file
costs bounded time and memory: reading stops at the first row over `max_rows`, and at most
`MAX_REPORTED_ERRORS` errors are kept (the rest are counted)."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import unicodedata
import zipfile
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Generic, Literal, Protocol, TypeAlias, TypeVar

import msgspec
import openpyxl  # type: ignore[import-untyped]

from services.common.auth.principal import Role
from services.common.problems import InvalidInput
from services.identity.agencies.codes import is_valid_code102, is_valid_code_qd20

DEFAULT_MAX_ROWS = 50_000
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
MAX_REPORTED_ERRORS = 1_000
# An XLSX is a zip, and openpyxl holds a workbook's shared strings in memory: a small file could
# inflate to gigabytes. The inflated limit is this many times max_bytes; the generated 20,000
# people (tests/identity/province_files.py) are 1.2 MiB inflating to 12 MiB.
_XLSX_MAX_INFLATION = 10
# The data ends at this many blank rows in a row: a sheet formatted down to row 1,048,576 has a
# million empty rows that would otherwise all be parsed.
_MAX_BLANK_RUN = 10_000

RejectReason = Literal[
    "format", "encoding", "malformed", "empty", "columns", "too-many-rows", "too-large", "workbook"
]


class ImportFileRejected(InvalidInput):
    """The file as a whole cannot be imported; none of its rows is reported."""

    code = "import-file-rejected"
    title_vi = "Tệp nhập dữ liệu không được chấp nhận"
    title_en = "Import file rejected"

    def __init__(self, reason: RejectReason, detail_vi: str, detail_en: str) -> None:
        super().__init__(detail_vi, detail_en, reason=reason)
        self.reason: RejectReason = reason


class AgencyRow(msgspec.Struct, frozen=True):
    line: int
    code: str
    name: str
    short_name: str
    level: str
    parent_code: str | None
    address: str = ""
    phone: str = ""
    email: str = ""


class PersonRow(msgspec.Struct, frozen=True):
    line: int
    username: str
    full_name: str
    email: str
    phone: str
    title: str
    agency_code: str
    department: str
    position: str
    roles: frozenset[Role]


class RowError(msgspec.Struct, frozen=True):
    line: int
    column: str | None  # the column's key (`email`), kept for API clients that match on it
    reason_vi: str
    reason_en: str
    # The column's Vietnamese header in the import template ("Thư điện tử"): what the person
    # fixing the file sees in their spreadsheet.
    column_label: str | None = None


T = TypeVar("T")


class ParseReport(msgspec.Struct, Generic[T], frozen=True):
    rows: list[T]
    errors: list[RowError]
    # Data rows read (blank rows not counted); the lines with errors are the ones not in `rows`.
    total_lines: int
    # Every error found, including those beyond MAX_REPORTED_ERRORS left out of `errors`.
    error_count: int


AgencyReport: TypeAlias = ParseReport[AgencyRow]
PeopleReport: TypeAlias = ParseReport[PersonRow]


def parse_agencies(
    data: bytes,
    file_name: str,
    *,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> AgencyReport:
    return _parse(data, file_name, _AGENCY_COLUMNS, _AgencyChecks(), max_rows, max_bytes)


def parse_people(
    data: bytes,
    file_name: str,
    *,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> PeopleReport:
    return _parse(data, file_name, _PEOPLE_COLUMNS, _PersonChecks(), max_rows, max_bytes)


# --- columns -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Column:
    key: str
    label: str  # the Vietnamese header of the template
    required: bool  # the file must have this column (its cells may still be optional)
    aliases: tuple[str, ...] = ()


_AGENCY_COLUMNS = (
    _Column("code", "Mã định danh", required=True),
    _Column("name", "Tên cơ quan", required=True),
    _Column("short_name", "Tên viết tắt", required=True),
    _Column("level", "Cấp", required=True),
    _Column("parent_code", "Mã cơ quan cấp trên", required=False),
    _Column("address", "Địa chỉ", required=False),
    _Column("phone", "Điện thoại", required=False, aliases=("Số điện thoại",)),
    _Column("email", "Thư điện tử", required=False),
)

_PEOPLE_COLUMNS = (
    _Column("username", "Tên đăng nhập", required=True),
    _Column("full_name", "Họ và tên", required=True, aliases=("Họ tên",)),
    _Column("email", "Thư điện tử", required=True),
    _Column("phone", "Điện thoại", required=False, aliases=("Số điện thoại",)),
    _Column("title", "Chức danh", required=False),
    _Column("agency_code", "Mã cơ quan", required=True),
    _Column("department", "Phòng ban", required=False),
    _Column("position", "Chức vụ", required=False),
    _Column("roles", "Vai trò", required=True),
)


# A key names the same column, with the same header, in both templates (email, phone).
_COLUMN_LABELS = {c.key: c.label for c in (*_AGENCY_COLUMNS, *_PEOPLE_COLUMNS)}


def row_error(line: int, column: str | None, reason_vi: str, reason_en: str) -> RowError:
    """An error on one line, in one column (by key) or in the whole row (None)."""
    label = _COLUMN_LABELS.get(column) if column is not None else None
    return RowError(line, column, reason_vi, reason_en, column_label=label)


def _header_key(text: str) -> str:
    # "Mã định danh (*)", "Short Name" and "short_name" name their columns too: templates mark
    # required columns with an asterisk.
    folded = unicodedata.normalize("NFC", text.casefold())
    return re.sub(r"[\s_*]+|\(\*\)", "", folded)


# --- cells ---------------------------------------------------------------------------------

# Excel and text copied from Word leave byte order marks and zero-width characters in cells.
_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060"))


def _clean(text: str) -> str:
    """NFC, without invisible characters, surrounding or repeated white space."""
    return " ".join(unicodedata.normalize("NFC", text).translate(_INVISIBLE).split())


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        # A number typed in Excel is stored as a float: a phone 912345678 reads as 912345678.0.
        value = int(value)
    return _clean(value if isinstance(value, str) else str(value))


def _number(n: int, *, vi: bool) -> str:
    return f"{n:,}".replace(",", ".") if vi else f"{n:,}"


# --- reading files -------------------------------------------------------------------------

_Record: TypeAlias = tuple[int, Sequence[object]]
_Records: TypeAlias = Generator[_Record, None, None]

_ZIP_MAGIC = b"PK\x03\x04"
# Excel 97-2003 files and password-protected XLSX files are OLE2 compound documents.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SAVE_AS_CSV_VI = "Hãy mở tệp trong Excel và lưu lại với kiểu “CSV UTF-8 (Comma delimited)”."
_SAVE_AS_CSV_EN = "Open it in Excel and save it again as “CSV UTF-8 (Comma delimited)”."


def _records(data: bytes, file_name: str, max_bytes: int) -> _Records:
    """Every row of the file, header first, with its 1-based line number."""
    if len(data) > max_bytes:
        size, limit = len(data) / 2**20, max_bytes / 2**20
        raise ImportFileRejected(
            "too-large",
            f"Tệp lớn {size:.1f} MiB, vượt giới hạn {limit:.1f} MiB.",
            f"The file is {size:.1f} MiB, over the limit of {limit:.1f} MiB.",
        )
    if not data.removeprefix(codecs.BOM_UTF8).strip():
        raise ImportFileRejected("empty", "Tệp rỗng.", "The file is empty.")
    extension = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if extension == "csv":
        if data.startswith((_ZIP_MAGIC, _OLE_MAGIC)):
            raise ImportFileRejected(
                "format",
                "Tệp có đuôi .csv nhưng là bảng tính Excel. " + _SAVE_AS_CSV_VI,
                "The file is named .csv but is an Excel workbook. " + _SAVE_AS_CSV_EN,
            )
        return _csv_records(data)
    if extension == "xlsx":
        if data.startswith(_OLE_MAGIC):
            raise ImportFileRejected(
                "workbook",
                "Tệp là bảng tính Excel 97-2003 (.xls) hoặc có đặt mật khẩu. "
                "Hãy bỏ mật khẩu và lưu lại dưới dạng Excel Workbook (.xlsx).",
                "The file is an Excel 97-2003 (.xls) or password-protected workbook. "
                "Remove the password and save it as an Excel Workbook (.xlsx).",
            )
        if not data.startswith(_ZIP_MAGIC):
            raise _not_a_workbook()
        return _xlsx_records(data, max_bytes)
    raise ImportFileRejected(
        "format",
        f"Không nhận dạng được tệp «{file_name}»: chỉ nhận tệp .csv hoặc .xlsx.",
        f"Unknown file type “{file_name}”: only .csv and .xlsx files are accepted.",
    )


def _csv_records(data: bytes) -> _Records:
    # Excel's "Unicode Text" is UTF-16, whose ASCII characters decode as valid UTF-8 with NULs.
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in data[:4096]:
        raise ImportFileRejected(
            "encoding",
            "Tệp được lưu bằng bảng mã UTF-16 (Unicode Text), không phải UTF-8. " + _SAVE_AS_CSV_VI,
            "The file is encoded in UTF-16 (Unicode Text), not UTF-8. " + _SAVE_AS_CSV_EN,
        )
    # Decoded lazily, chunk by chunk, as the rows are read: a file over max_rows is never decoded
    # to its end. "utf-8-sig" drops the BOM that Excel writes.
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    try:
        header = text.readline()
    except UnicodeDecodeError:
        raise _not_utf8(data) from None
    # Vietnamese Excel writes ";" between cells (the decimal separator is ","); sniff the header.
    delimiter = ";" if header.count(";") > header.count(",") else ","
    reader = csv.reader(itertools.chain([header], text), delimiter=delimiter)
    line = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError:
            raise _not_utf8(data) from None
        except csv.Error as exc:
            raise ImportFileRejected(
                "malformed",
                f"Không đọc được tệp CSV ở dòng {reader.line_num}.",
                f"The CSV file cannot be read at line {reader.line_num}: {exc}.",
            ) from None
        yield line, cells
        line = reader.line_num + 1  # a quoted cell may span several lines


# Bytes that Windows-1258 uses for Vietnamese only: Ă ă Đ đ Ơ ơ Ư ư and the five tone marks.
_VIETNAMESE_1258 = frozenset(b"\xc3\xe3\xd0\xf0\xd5\xf5\xdd\xfd\xcc\xec\xd2\xde\xf2")


def _not_utf8(data: bytes) -> ImportFileRejected:
    try:
        data.decode("utf-8")
        position = 0
    except UnicodeDecodeError as exc:
        position = exc.start
    line = data.count(b"\n", 0, position) + 1
    sample = data[:65536]
    if any(byte in _VIETNAMESE_1258 for byte in sample):
        encoding_vi, encoding_en = (
            "Windows-1258 (tiếng Việt ANSI)",
            "Windows-1258 (Vietnamese ANSI)",
        )
    else:
        encoding_vi = encoding_en = "Windows-1252 (ANSI)"
    return ImportFileRejected(
        "encoding",
        f"Tệp không phải UTF-8 (lỗi từ dòng {line}); có vẻ được lưu bằng bảng mã {encoding_vi}. "
        + _SAVE_AS_CSV_VI,
        f"The file is not UTF-8 (from line {line}); it looks encoded in {encoding_en}. "
        + _SAVE_AS_CSV_EN,
    )


def _not_a_workbook() -> ImportFileRejected:
    return ImportFileRejected(
        "workbook",
        "Tệp không phải là bảng tính Excel (.xlsx) hợp lệ.",
        "The file is not a valid Excel workbook (.xlsx).",
    )


def _xlsx_records(data: bytes, max_bytes: int) -> _Records:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            inflated = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _not_a_workbook() from None
    if inflated > max_bytes * _XLSX_MAX_INFLATION:
        raise ImportFileRejected(
            "too-large",
            "Bảng tính quá lớn khi giải nén.",
            "The workbook is too large once decompressed.",
        )
    # openpyxl raises many kinds of errors on a damaged workbook (zip, XML, KeyError on a missing
    # part, ValueError on a bad cell); each means the same to the user.
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise _not_a_workbook() from None
    try:
        if not workbook.worksheets:
            raise _not_a_workbook()
        sheet = workbook.worksheets[0]
        # Read-only mode trusts the sheet's declared dimensions, which some generators get wrong.
        sheet.reset_dimensions()
        rows = sheet.iter_rows(values_only=True)
        line = 0
        while True:
            try:
                cells: tuple[object, ...] = next(rows)
            except StopIteration:
                return
            except Exception:
                raise _not_a_workbook() from None
            line += 1  # openpyxl yields empty rows for rows missing from the sheet
            yield line, cells
    finally:
        workbook.close()


def _header(records: _Records, columns: tuple[_Column, ...]) -> dict[str, tuple[int, str]]:
    """Each known column's key -> (its position, its header as written in the file)."""
    by_name = {_header_key(name): c for c in columns for name in (c.key, c.label, *c.aliases)}
    first = next(records, None)
    if first is None:
        raise ImportFileRejected("empty", "Tệp rỗng.", "The file is empty.")
    found: dict[str, tuple[int, str]] = {}
    for position, cell in enumerate(first[1]):
        header = _cell_text(cell)
        column = by_name.get(_header_key(header))
        if column is None:
            continue  # extra columns (notes, row numbers) are allowed and ignored
        if column.key in found:
            raise ImportFileRejected(
                "columns",
                f"Cột «{column.label}» xuất hiện hai lần («{found[column.key][1]}» và «{header}»).",
                f"Column “{column.key}” appears twice (“{found[column.key][1]}” and “{header}”).",
            )
        found[column.key] = (position, header)
    missing = [c for c in columns if c.required and c.key not in found]
    if missing:
        raise ImportFileRejected(
            "columns",
            "Thiếu cột: "
            + ", ".join(f"«{c.label}» ({c.key})" for c in missing)
            + ". Dòng đầu tiên của tệp phải là dòng tiêu đề.",
            "Missing columns: "
            + ", ".join(f"“{c.key}” ({c.label})" for c in missing)
            + ". The first line of the file must be the header.",
        )
    return found


def _data_rows(records: _Records, max_rows: int) -> _Records:
    count = 0
    blank_run = 0
    for line, cells in records:
        if not any(_cell_text(cell) for cell in cells):
            blank_run += 1
            if blank_run >= _MAX_BLANK_RUN:
                break
            continue
        blank_run = 0
        count += 1
        if count > max_rows:
            raise ImportFileRejected(
                "too-many-rows",
                f"Tệp có hơn {_number(max_rows, vi=True)} dòng dữ liệu; hãy chia thành nhiều tệp.",
                f"The file has more than {_number(max_rows, vi=False)} data rows; split it.",
            )
        yield line, cells
    if count == 0:
        raise ImportFileRejected(
            "empty",
            "Tệp chỉ có dòng tiêu đề, không có dòng dữ liệu nào.",
            "The file has a header but no data rows.",
        )


# --- checking rows -------------------------------------------------------------------------


@dataclass(slots=True)
class _Row:
    """One data row being checked: its cleaned cells and the errors found so far."""

    line: int
    values: dict[str, str]
    headers: dict[str, tuple[int, str]]
    errors: list[RowError] = field(default_factory=list)

    def header(self, key: str) -> str:
        return self.headers[key][1] if key in self.headers else key

    def fail(self, key: str | None, reason_vi: str, reason_en: str) -> None:
        self.errors.append(row_error(self.line, key, reason_vi, reason_en))

    def text(self, key: str, *, required: bool = False, max_length: int | None = None) -> str:
        value = self.values.get(key, "")
        if required and not value:
            self.fail(key, f"Thiếu «{self.header(key)}».", f"“{self.header(key)}” is empty.")
        elif max_length is not None and len(value) > max_length:
            self.fail(
                key,
                f"«{self.header(key)}» dài quá {max_length} ký tự.",
                f"“{self.header(key)}” is longer than {max_length} characters.",
            )
        return value


def _is_agency_code(code: str) -> bool:
    # The code regexes use \d, which also matches non-ASCII digits such as "０".
    return code.isascii() and (is_valid_code102(code) or is_valid_code_qd20(code))


def _check_agency_code(row: _Row, key: str, code: str) -> bool:
    if _is_agency_code(code):
        return True
    row.fail(
        key,
        f"«{code}» không đúng dạng mã định danh (QCVN 102:2016, vd 000.00.00.H41, "
        "hoặc QĐ 20/2020/QĐ-TTg, vd H41.01).",
        f"“{code}” is not an agency code (QCVN 102:2016, e.g. 000.00.00.H41, "
        "or QĐ 20/2020/QĐ-TTg, e.g. H41.01).",
    )
    return False


_PHONE = re.compile(r"\+?[0-9]{9,15}")
_PHONE_SEPARATORS = str.maketrans("", "", " .-()")


def _phone(row: _Row, key: str) -> str:
    raw = row.text(key)
    phone = raw.translate(_PHONE_SEPARATORS)
    if not phone or _PHONE.fullmatch(phone):
        return phone
    reason_vi = f"Số điện thoại «{raw}» không hợp lệ: cần 9 đến 15 chữ số, có thể có + ở đầu."
    reason_en = f"Phone “{raw}” is invalid: it needs 9 to 15 digits, optionally after a +."
    if phone.isascii() and phone.isdigit():
        # The number is not corrected: a 0 may have been lost, or a digit; only the user knows.
        reason_vi += " Nếu Excel đã bỏ số 0 ở đầu, hãy định dạng cột là Văn bản (Text)."
        reason_en += " If Excel dropped a leading 0, format the column as Text."
    row.fail(key, reason_vi, reason_en)
    return phone


_EMAIL = re.compile(r"[a-z0-9._%+'-]+@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


def _email(row: _Row, key: str, *, required: bool) -> str | None:
    """The lower-cased address, or None when it is empty or invalid."""
    value = row.text(key, required=required).lower()
    if not value:
        return None
    if len(value) <= 254 and _EMAIL.fullmatch(value):
        return value
    row.fail(
        key,
        f"Thư điện tử «{value}» không hợp lệ.",
        f"Email address “{value}” is invalid.",
    )
    return None


def _duplicate(row: _Row, key: str, value: str, first_line: int) -> None:
    row.fail(
        key,
        f"«{value}» trùng với dòng {first_line}.",
        f"“{value}” already appears on line {first_line}.",
    )


class _ErrorLog:
    """Keeps the first MAX_REPORTED_ERRORS errors and counts the rest."""

    def __init__(self) -> None:
        self.kept: list[RowError] = []
        self.count = 0
        self.first_omitted_line = 0

    def add(self, errors: list[RowError]) -> None:
        for error in errors:
            self.count += 1
            if len(self.kept) < MAX_REPORTED_ERRORS:
                self.kept.append(error)
            elif not self.first_omitted_line or error.line < self.first_omitted_line:
                self.first_omitted_line = error.line

    def report(self) -> list[RowError]:
        errors = sorted(self.kept, key=lambda error: error.line)
        omitted = self.count - len(self.kept)
        if omitted:
            line = self.first_omitted_line
            errors.append(
                RowError(
                    line,
                    None,
                    f"Còn {_number(omitted, vi=True)} lỗi khác không được liệt kê (từ dòng {line})."
                    " Hãy sửa các lỗi trên rồi nhập lại.",
                    f"{_number(omitted, vi=False)} more errors are not listed (from line {line})."
                    " Fix the errors above and import again.",
                )
            )
        return errors


class _Checks(Protocol[T]):
    def check(self, row: _Row) -> T | None: ...

    def finish(self, rows: list[T], log: _ErrorLog) -> list[T]:
        """Checks across rows, once all are read; returns the rows still without errors."""
        ...


def _parse(
    data: bytes,
    file_name: str,
    columns: tuple[_Column, ...],
    checks: _Checks[T],
    max_rows: int,
    max_bytes: int,
) -> ParseReport[T]:
    records = _records(data, file_name, max_bytes)
    try:
        headers = _header(records, columns)
        log = _ErrorLog()
        rows: list[T] = []
        total = 0
        for line, cells in _data_rows(records, max_rows):
            total += 1
            values = {
                key: _cell_text(cells[position]) if position < len(cells) else ""
                for key, (position, _) in headers.items()
            }
            row = _Row(line, values, headers)
            checked = checks.check(row)
            log.add(row.errors)
            if checked is not None and not row.errors:
                rows.append(checked)
        rows = checks.finish(rows, log)
    finally:
        records.close()
    return ParseReport(rows=rows, errors=log.report(), total_lines=total, error_count=log.count)


# --- agencies ------------------------------------------------------------------------------

# Short names go into document symbols (123/QĐ-UBND): ASCII capitals, digits, Đ and "-".
_SHORT_NAME = re.compile(r"[A-Z0-9Đ](?:[A-Z0-9Đ-]{0,18}[A-Z0-9Đ])?")
_LEVEL_SLUG = re.compile(r"[a-z][a-z0-9_-]{0,29}")
_LEVEL_LABELS = {
    "tỉnh": "province",
    "sở": "department",
    "sở ban ngành": "department",
    "huyện": "district",
    "xã": "commune",
    "phường": "commune",
    "đặc khu": "commune",
}


def _level(row: _Row) -> str:
    raw = row.text("level", required=True)
    key = " ".join(raw.casefold().replace(",", " ").split())
    level = _LEVEL_LABELS.get(key, key)
    if raw and not _LEVEL_SLUG.fullmatch(level):
        row.fail(
            "level",
            f"Cấp «{raw}» không hợp lệ: dùng tỉnh, sở, huyện, xã, phường, đặc khu, hoặc mã "
            "chữ thường như province, department, district, commune, other.",
            f"Level “{raw}” is invalid: use a lower-case slug such as province, department, "
            "district, commune, other (or the Vietnamese labels).",
        )
    return level


class _AgencyChecks:
    def __init__(self) -> None:
        self.first_line: dict[str, int] = {}  # code -> the line it first appears on
        self.parents: dict[str, str] = {}  # code -> parent code, for the first line of each code

    def check(self, row: _Row) -> AgencyRow | None:
        code = row.text("code", required=True)
        first = bool(code) and _check_agency_code(row, "code", code)
        if first and code in self.first_line:
            _duplicate(row, "code", code, self.first_line[code])
            first = False
        elif first:
            self.first_line[code] = row.line
        name = row.text("name", required=True, max_length=300)
        short_name = row.text("short_name", required=True)
        if short_name and not _SHORT_NAME.fullmatch(short_name):
            row.fail(
                "short_name",
                f"Tên viết tắt «{short_name}» chỉ được gồm chữ in hoa không dấu, Đ, chữ số và "
                "dấu '-', tối đa 20 ký tự (vd UBND, STC).",
                f"Short name “{short_name}” may hold only capital letters, Đ, digits and '-', "
                "at most 20 characters (e.g. UBND, STC).",
            )
        level = _level(row)
        parent = row.text("parent_code") or None
        if parent is not None and parent == code:
            row.fail(
                "parent_code",
                "Cơ quan không thể là cấp trên của chính nó.",
                "An agency cannot be its own parent.",
            )
        elif parent is not None and _check_agency_code(row, "parent_code", parent) and first:
            self.parents[code] = parent
        address = row.text("address", max_length=500)
        phone = _phone(row, "phone")
        email = _email(row, "email", required=False)
        if row.errors:
            return None
        return AgencyRow(
            line=row.line,
            code=code,
            name=name,
            short_name=short_name,
            level=level,
            parent_code=parent,
            address=address,
            phone=phone,
            email=email or "",
        )

    def finish(self, rows: list[AgencyRow], log: _ErrorLog) -> list[AgencyRow]:
        in_cycles = self._report_cycles(log)
        return [row for row in rows if row.line not in in_cycles]

    def _report_cycles(self, log: _ErrorLog) -> set[int]:
        """Reports every line of every cycle of parent links; returns those lines."""
        walked: dict[str, int] = {}  # code -> the walk that reached it first
        in_cycles: set[int] = set()
        for walk, start in enumerate(self.parents):
            path: list[str] = []
            code: str | None = start
            while code is not None and code not in walked:
                walked[code] = walk
                path.append(code)
                code = self.parents.get(code)
            if code is None or walked[code] != walk:
                continue  # reached a root, or a code already walked from another start
            cycle = path[path.index(code) :]
            lines = [self.first_line[c] for c in cycle]
            chain = " → ".join([*cycle, cycle[0]])
            line_list = ", ".join(map(str, lines))
            log.add(
                [
                    row_error(
                        line,
                        "parent_code",
                        f"Quan hệ cấp trên tạo vòng lặp: {chain} (các dòng {line_list}).",
                        f"Parent links form a cycle: {chain} (lines {line_list}).",
                    )
                    for line in lines
                ]
            )
            in_cycles.update(lines)
        return in_cycles


# --- people --------------------------------------------------------------------------------

_USERNAME = re.compile(r"[a-z0-9._-]{3,64}")


def _fold(text: str) -> str:
    """Lower case without diacritics or separators: "Phó Lãnh Đạo" -> "pho lanh dao"."""
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.replace("_", " ").replace("-", " ").split())


_ROLE_LABELS_VI = {
    "văn thư": Role.CLERK,
    "chuyên viên": Role.SPECIALIST,
    "trưởng phòng": Role.DEPARTMENT_HEAD,
    "phó lãnh đạo": Role.DEPUTY_LEADER,
    "lãnh đạo": Role.LEADER,
    "quản trị": Role.AGENCY_ADMIN,
}
_ROLES = {_fold(role.value): role for role in Role} | {
    _fold(label): role for label, role in _ROLE_LABELS_VI.items()
}


def _roles(row: _Row) -> frozenset[Role]:
    raw = row.text("roles", required=True)
    names = [name for name in re.split(r"[,;]", raw) if name.strip()]
    roles = {_ROLES.get(_fold(name)) for name in names}
    unknown = [name.strip() for name in names if _fold(name) not in _ROLES]
    if unknown or (raw and not names):
        shown = ", ".join(f"«{name}»" for name in unknown) or f"«{raw}»"
        row.fail(
            "roles",
            f"Vai trò không xác định: {shown}. Dùng: " + "; ".join(_ROLE_LABELS_VI) + ".",
            f"Unknown role: {shown}. Use: " + ", ".join(role.value for role in Role) + ".",
        )
    return frozenset(role for role in roles if role is not None)


class _PersonChecks:
    """A username may appear on several lines, one per agency it holds a position in
    (kiêm nhiệm): each line adds a membership, and the person's own details (name, e-mail,
    phone, title) must then be the same on every line."""

    def __init__(self) -> None:
        self.username_lines: dict[str, int] = {}
        # username -> (the line its details were first read from, those details)
        self.person_details: dict[str, tuple[int, tuple[str, str, str, str]]] = {}
        self.membership_lines: dict[tuple[str, str], int] = {}
        self.email_lines: dict[str, tuple[int, str]] = {}  # email -> (first line, username)

    def check(self, row: _Row) -> PersonRow | None:
        username = row.text("username", required=True).lower()
        # The agency's cell as written: a username repeats only with another agency.
        agency_key = row.values.get("agency_code", "")
        valid_username = bool(username) and bool(_USERNAME.fullmatch(username))
        if username and not valid_username:
            row.fail(
                "username",
                f"Tên đăng nhập «{username}» không hợp lệ: 3 đến 64 ký tự a-z, 0-9, '.', '_', '-'.",
                f"Username “{username}” is invalid: 3 to 64 characters a-z, 0-9, '.', '_', '-'.",
            )
        elif (username, agency_key) in self.membership_lines:
            _duplicate(row, "username", username, self.membership_lines[username, agency_key])
        elif username:
            self.username_lines.setdefault(username, row.line)
            self.membership_lines[username, agency_key] = row.line
        full_name = row.text("full_name", required=True, max_length=200)
        email = _email(row, "email", required=True)
        if email is not None and email in self.email_lines:
            first_line, owner = self.email_lines[email]
            if owner != username:
                _duplicate(row, "email", email, first_line)
        elif email is not None:
            self.email_lines[email] = (row.line, username)
        phone = _phone(row, "phone")
        title = row.text("title", max_length=300)
        agency_code = row.text("agency_code", required=True)
        if agency_code:
            _check_agency_code(row, "agency_code", agency_code)
        department = row.text("department", max_length=300)
        position = row.text("position", max_length=300)
        roles = _roles(row)
        if valid_username and email is not None and not row.errors:
            self._same_person(row, username, (full_name, email, phone, title))
        if row.errors or email is None:
            return None
        return PersonRow(
            line=row.line,
            username=username,
            full_name=full_name,
            email=email,
            phone=phone,
            title=title,
            agency_code=agency_code,
            department=department,
            position=position,
            roles=roles,
        )

    def _same_person(self, row: _Row, username: str, details: tuple[str, str, str, str]) -> None:
        line, first = self.person_details.setdefault(username, (row.line, details))
        if first == details:
            return
        for key, mine, theirs in zip(
            ("full_name", "email", "phone", "title"), details, first, strict=True
        ):
            if mine != theirs:
                row.fail(
                    key,
                    f"«{row.header(key)}» khác với dòng {line} của cùng tên đăng nhập «{username}»"
                    " (thông tin cá nhân phải giống nhau trên mọi dòng của một người).",
                    f"“{row.header(key)}” differs from line {line} of the same username "
                    f"“{username}” (a person's details must be the same on each of their lines).",
                )

    def finish(self, rows: list[PersonRow], log: _ErrorLog) -> list[PersonRow]:
        return rows
