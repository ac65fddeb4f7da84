"""Parsing bulk-import files of agencies and people: real CSV and XLSX files built here."""

from __future__ import annotations

import csv
import io
import random
import string
import unicodedata
import zipfile
from collections.abc import Iterable

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.common.auth.principal import Role
from services.common.problems import InvalidInput
from services.identity.imports.parsing import (
    MAX_REPORTED_ERRORS,
    ImportFileRejected,
    RowError,
    parse_agencies,
    parse_people,
)
from tests.identity.province_files import generated_province

AGENCY_HEADER_VI = [
    "Mã định danh",
    "Tên cơ quan",
    "Tên viết tắt",
    "Cấp",
    "Mã cơ quan cấp trên",
    "Địa chỉ",
    "Điện thoại",
    "Thư điện tử",
]
AGENCY_HEADER = ["code", "name", "short_name", "level", "parent_code"]
PEOPLE_HEADER = [
    "username",
    "full_name",
    "email",
    "phone",
    "title",
    "agency_code",
    "department",
    "position",
    "roles",
]
PROVINCE = "000.00.00.H41"
FINANCE = "000.00.03.H41"


def csv_text(rows: Iterable[Iterable[object]], delimiter: str = ",") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerows(rows)
    return out.getvalue()


def csv_bytes(rows: Iterable[Iterable[object]], delimiter: str = ",") -> bytes:
    return csv_text(rows, delimiter).encode()


def xlsx_bytes(rows: Iterable[Iterable[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def agency(code: str, parent: str = "", name: str = "Cơ quan", short: str = "CQ") -> list[str]:
    return [code, name, short, "other", parent]


def person(
    username: str,
    *,
    email: str | None = None,
    phone: object = "",
    agency_code: str = FINANCE,
    roles: str = "chuyên viên",
) -> list[object]:
    email = email if email is not None else f"{username}@nghean.gov.vn"
    return [username, "Nguyễn Văn An", email, phone, "Chuyên viên", agency_code, "", "", roles]


def rejected(excinfo: pytest.ExceptionInfo[ImportFileRejected]) -> str:
    """What the user reads, both languages."""
    return excinfo.value.detail_vi + " | " + excinfo.value.detail_en


def errors_on(errors: list[RowError], line: int) -> list[RowError]:
    return [error for error in errors if error.line == line]


# --- valid files ---------------------------------------------------------------------------


def test_agencies_with_vietnamese_headers_and_semicolons_parse() -> None:
    data = csv_bytes(
        [
            AGENCY_HEADER_VI,
            [PROVINCE, "Ủy ban nhân dân tỉnh Nghệ An", "UBND", "Tỉnh", "", "", "", ""],
            [
                FINANCE,
                "  Sở Tài chính   tỉnh Nghệ An ",
                "STC",
                "Sở, ban, ngành",
                PROVINCE,
                "Số 1 đường Trường Thi, Vinh",
                "0238 3844.123",
                "STC@NGHEAN.GOV.VN",
            ],
            ["000.46.24.H41", "Ủy ban nhân dân xã Tiên Lương", "UBND", "xã", PROVINCE, "", "", ""],
            ["H41.01", "Sở Ngoại vụ", "SNGV", "department", PROVINCE, "", "", ""],
        ],
        delimiter=";",
    )

    report = parse_agencies(data, "co-quan.csv")

    assert report.errors == []
    assert report.total_lines == 4
    assert [(r.line, r.code, r.level, r.parent_code) for r in report.rows] == [
        (2, PROVINCE, "province", None),
        (3, FINANCE, "department", PROVINCE),
        (4, "000.46.24.H41", "commune", PROVINCE),
        (5, "H41.01", "department", PROVINCE),
    ]
    finance = report.rows[1]
    assert finance.name == "Sở Tài chính tỉnh Nghệ An"
    assert finance.phone == "02383844123"
    assert finance.email == "stc@nghean.gov.vn"


def test_cells_are_nfc_normalised() -> None:
    decomposed = unicodedata.normalize("NFD", "Sở Tài chính")
    data = csv_bytes([AGENCY_HEADER, [FINANCE, decomposed, "STC", "department", ""]])

    report = parse_agencies(data, "a.csv")

    assert report.rows[0].name == unicodedata.normalize("NFC", "Sở Tài chính")


def test_utf8_bom_is_accepted() -> None:
    data = "\ufeff".encode() + csv_bytes([AGENCY_HEADER, agency(PROVINCE)])

    report = parse_agencies(data, "a.csv")

    assert report.errors == []
    assert report.rows[0].code == PROVINCE


def test_english_headers_match_ignoring_case_spaces_and_extra_columns() -> None:
    data = csv_bytes(
        [
            ["STT", " Code ", "NAME", "Short Name", "level", "Ghi chú"],
            ["1", PROVINCE, "Ủy ban nhân dân tỉnh", "UBND", "Province", "tỉnh mới"],
        ]
    )

    report = parse_agencies(data, "a.CSV")

    assert report.errors == []
    assert report.rows[0].short_name == "UBND"
    assert report.rows[0].level == "province"
    assert report.rows[0].parent_code is None


def test_people_from_xlsx_with_vietnamese_headers() -> None:
    data = xlsx_bytes(
        [
            [
                "Tên đăng nhập",
                "Họ và tên",
                "Thư điện tử",
                "Điện thoại",
                "Chức danh",
                "Mã cơ quan",
                "Phòng ban",
                "Chức vụ",
                "Vai trò",
            ],
            [
                "AnNV",
                "Nguyễn Văn An",
                "annv@nghean.gov.vn",
                "0912 345 678",
                "Chuyên viên chính",
                FINANCE,
                "Phòng Ngân sách",
                "Trưởng phòng",
                "trưởng phòng; chuyên viên",
            ],
        ]
    )

    report = parse_people(data, "can-bo.xlsx")

    assert report.errors == []
    assert report.rows[0].username == "annv"
    assert report.rows[0].phone == "0912345678"
    assert report.rows[0].department == "Phòng Ngân sách"
    assert report.rows[0].roles == {Role.DEPARTMENT_HEAD, Role.SPECIALIST}


def test_blank_lines_are_skipped_and_lines_keep_their_numbers() -> None:
    text = csv_text(
        [
            [*AGENCY_HEADER, "address"],
            [*agency(PROVINCE), "Số 1\nđường Lê Hồng Phong"],  # a cell over two lines
            [],
            ["", "", "", "", ""],
            agency("bad code"),
        ]
    )

    report = parse_agencies(text.encode(), "a.csv")

    assert report.rows[0].address == "Số 1 đường Lê Hồng Phong"
    assert report.total_lines == 2
    assert [error.line for error in report.errors] == [6]


def test_generated_province_parses_without_errors() -> None:
    agencies_csv, people_xlsx = generated_province()

    agencies = parse_agencies(agencies_csv, "co-quan.csv")
    people = parse_people(people_xlsx, "can-bo.xlsx")

    assert agencies.errors == []
    assert people.errors == []
    assert len(agencies.rows) == agencies.total_lines == 200
    assert len(people.rows) == people.total_lines == 20_000
    codes = {row.code for row in agencies.rows}
    assert {row.agency_code for row in people.rows} <= codes
    assert {row.parent_code for row in agencies.rows} - {None} <= codes


@settings(max_examples=40, deadline=None)
@given(
    names=st.lists(
        st.lists(
            st.text(alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậềểễếệờởỡớợĐƯƠ,;\"'-",
                    min_size=1, max_size=8),
            min_size=1,
            max_size=5,
        ).map(" ".join),
        min_size=1,
        max_size=8,
    ),
    delimiter=st.sampled_from([",", ";"]),
    xlsx=st.booleans(),
)  # fmt: skip
def test_written_agencies_parse_back_equal(names: list[str], delimiter: str, xlsx: bool) -> None:
    rows = [agency(f"000.00.{i:02d}.H41", name=name) for i, name in enumerate(names, start=1)]
    table = [AGENCY_HEADER_VI[:5], *rows]
    data = xlsx_bytes(table) if xlsx else csv_bytes(table, delimiter)

    report = parse_agencies(data, "a.xlsx" if xlsx else "a.csv")

    assert report.errors == []
    assert [(r.code, r.name) for r in report.rows] == [(row[0], row[1]) for row in rows]


# --- whole-file rejections -----------------------------------------------------------------

_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def windows_1258(text: str) -> bytes:
    """Encodes as Windows-1258 does: precomposed base letters, tone marks as combining marks."""
    out = b""
    for char in text:
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", char)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONE_MARKS))
            out += (base + "".join(c for c in parts if c in _TONE_MARKS)).encode("cp1258")
    return out


def test_windows_1258_file_is_rejected_naming_the_encoding() -> None:
    text = csv_text([AGENCY_HEADER_VI, [FINANCE, "Sở Tài chính tỉnh Nghệ An", "STC", "sở"]], ";")

    with pytest.raises(ImportFileRejected) as excinfo:
        parse_agencies(windows_1258(text), "a.csv")

    assert excinfo.value.reason == "encoding"
    assert "Windows-1258" in excinfo.value.detail_vi
    assert "Windows-1258" in excinfo.value.detail_en
    assert "UTF-8" in excinfo.value.detail_vi


def test_windows_1252_file_is_rejected_naming_the_encoding() -> None:
    data = csv_bytes([AGENCY_HEADER, agency(FINANCE, name="Café")]).replace(b"\xc3\xa9", b"\xe9")

    with pytest.raises(ImportFileRejected) as excinfo:
        parse_agencies(data, "a.csv")

    assert excinfo.value.reason == "encoding"
    assert "Windows-1252" in rejected(excinfo)
    assert "dòng 2" in excinfo.value.detail_vi


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_file_is_rejected(encoding: str) -> None:
    data = csv_text([AGENCY_HEADER, agency(FINANCE, name="Sở Tài chính")]).encode(encoding)

    with pytest.raises(ImportFileRejected) as excinfo:
        parse_agencies(data, "a.csv")

    assert excinfo.value.reason == "encoding"
    assert "UTF-16" in excinfo.value.detail_vi


def test_rejection_is_an_invalid_input_problem() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        parse_agencies(b"", "a.csv")

    assert excinfo.value.status == 400
    assert excinfo.value.code == "import-file-rejected"


def test_missing_columns_are_named() -> None:
    data = csv_bytes([["Mã định danh", "Tên cơ quan"], [PROVINCE, "Ủy ban nhân dân tỉnh"]])

    with pytest.raises(ImportFileRejected) as excinfo:
        parse_agencies(data, "a.csv")

    assert excinfo.value.reason == "columns"
    message = rejected(excinfo)
    for name in ("Tên viết tắt", "short_name", "Cấp", "level"):
        assert name in message
    assert "Mã định danh" not in excinfo.value.detail_vi


def test_a_column_given_twice_is_rejected() -> None:
    data = csv_bytes([[*AGENCY_HEADER, "Mã định danh"], [*agency(PROVINCE), PROVINCE]])

    with pytest.raises(ImportFileRejected) as excinfo:
        parse_agencies(data, "a.csv")

    assert excinfo.value.reason == "columns"


@pytest.mark.parametrize(
    ("data", "file_name", "reason"),
    [
        (b"", "a.csv", "empty"),
        (b"\xef\xbb\xbf \r\n", "a.csv", "empty"),
        (b"code,name,short_name,level\r\n\r\n", "a.csv", "empty"),
        (b"code,name\r\n", "a.txt", "format"),
        (b"code,name\r\n", "danh-sach", "format"),
        (b"PK\x03\x04rest", "a.csv", "format"),
        (b"code,name\r\n", "a.xlsx", "workbook"),
        (b"PK\x03\x04 not really a zip", "a.xlsx", "workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 old excel", "a.xlsx", "workbook"),
    ],
)
def test_unreadable_files_are_rejected(data: bytes, file_name: str, reason: str) -> None:
    with pytest.raises(ImportFileRejected) as excinfo:
        parse_agencies(data, file_name)

    assert excinfo.value.reason == reason
    assert excinfo.value.detail_vi
    assert excinfo.value.detail_en


def test_zip_that_is_not_a_workbook_is_rejected() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "xin chào")

    with pytest.raises(ImportFileRejected) as excinfo:
        parse_agencies(out.getvalue(), "a.xlsx")

    assert excinfo.value.reason == "workbook"


def test_workbook_saved_with_csv_name_is_rejected() -> None:
    data = xlsx_bytes([AGENCY_HEADER, agency(PROVINCE)])

    with pytest.raises(ImportFileRejected) as excinfo:
        parse_agencies(data, "a.csv")

    assert excinfo.value.reason == "format"
    assert "CSV UTF-8" in excinfo.value.detail_vi


def test_file_over_max_bytes_is_rejected() -> None:
    data = csv_bytes([AGENCY_HEADER, *(agency(PROVINCE) for _ in range(20))])

    with pytest.raises(ImportFileRejected) as excinfo:
        parse_agencies(data, "a.csv", max_bytes=len(data) - 1)

    assert excinfo.value.reason == "too-large"


def numbered_agencies(count: int) -> Iterable[list[str]]:
    for n in range(count):
        yield agency(f"{n // 100:03d}.{n % 100:02d}.01.H41", short="CQ")


def test_too_many_csv_rows_are_rejected_without_reading_the_rest() -> None:
    # Bytes that are not UTF-8 at the end: reading to the end would reject the encoding instead.
    data = csv_bytes([AGENCY_HEADER, *numbered_agencies(10_000)]) + b"\xff\xfe\xfa\r\n"

    with pytest.raises(ImportFileRejected) as excinfo:
        parse_agencies(data, "a.csv", max_rows=100)
    with pytest.raises(ImportFileRejected) as whole_file:
        parse_agencies(data, "a.csv", max_rows=20_000)

    assert excinfo.value.reason == "too-many-rows"
    assert "100" in excinfo.value.detail_vi
    assert whole_file.value.reason == "encoding"


def with_broken_sheet_end(data: bytes) -> bytes:
    """The workbook with malformed XML after the last row of its first sheet."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b"</sheetData>", b"<row><broken></sheetData>")
            target.writestr(item, content, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def test_too_many_xlsx_rows_are_rejected_without_reading_the_rest() -> None:
    data = with_broken_sheet_end(xlsx_bytes([AGENCY_HEADER, *numbered_agencies(10_000)]))

    with pytest.raises(ImportFileRejected) as excinfo:
        parse_agencies(data, "a.xlsx", max_rows=100)
    with pytest.raises(ImportFileRejected) as whole_file:
        parse_agencies(data, "a.xlsx", max_rows=20_000)

    assert excinfo.value.reason == "too-many-rows"
    assert whole_file.value.reason == "workbook"


def test_max_rows_counts_data_rows_only() -> None:
    data = csv_bytes([AGENCY_HEADER, *numbered_agencies(100), [], []])

    report = parse_agencies(data, "a.csv", max_rows=100)

    assert len(report.rows) == 100


# --- row errors ----------------------------------------------------------------------------


def test_garbage_errors_are_capped_and_counted() -> None:
    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits + " .@!?"
    garbage = (
        ["".join(rng.choices(alphabet, k=rng.randint(0, 12))) for _ in range(len(PEOPLE_HEADER))]
        for _ in range(100_000)
    )
    data = csv_bytes([PEOPLE_HEADER, *garbage])

    report = parse_people(data, "a.csv", max_rows=200_000)

    assert report.rows == []
    assert report.total_lines == 100_000
    assert len(report.errors) == MAX_REPORTED_ERRORS + 1
    assert report.error_count > 100_000
    summary = report.errors[-1]
    omitted = report.error_count - MAX_REPORTED_ERRORS
    assert summary.column is None
    assert f"{omitted:,}".replace(",", ".") in summary.reason_vi
    assert f"{omitted:,}" in summary.reason_en


def test_duplicate_code_is_reported_on_the_later_line_naming_the_first() -> None:
    data = csv_bytes([AGENCY_HEADER, agency(PROVINCE), agency(FINANCE), agency(PROVINCE)])

    report = parse_agencies(data, "a.csv")

    assert [r.line for r in report.rows] == [2, 3]
    [error] = report.errors
    assert (error.line, error.column) == (4, "code")
    assert "dòng 2" in error.reason_vi
    assert "line 2" in error.reason_en


def test_duplicate_username_and_email_are_reported() -> None:
    data = csv_bytes(
        [
            PEOPLE_HEADER,
            person("annv"),
            person("AnNV", email="khac@nghean.gov.vn"),
            person("binhtt", email="ANNV@nghean.gov.vn"),
        ]
    )

    report = parse_people(data, "a.csv")

    assert [r.line for r in report.rows] == [2]
    assert [(e.line, e.column) for e in report.errors] == [(3, "username"), (4, "email")]
    assert [e.column_label for e in report.errors] == ["Tên đăng nhập", "Thư điện tử"]
    assert all("dòng 2" in e.reason_vi for e in report.errors)


def test_parent_cycles_are_reported_on_every_line() -> None:
    a, b, c, d, e = (f"000.00.0{n}.H41" for n in range(1, 6))
    data = csv_bytes(
        [
            AGENCY_HEADER,
            agency(a, parent=b),
            agency(b, parent=a),
            agency(PROVINCE),
            agency(c, parent=d),
            agency(d, parent=e),
            agency(e, parent=c),
        ]
    )

    report = parse_agencies(data, "a.csv")

    assert [r.line for r in report.rows] == [4]
    assert [(error.line, error.column) for error in report.errors] == [
        (2, "parent_code"),
        (3, "parent_code"),
        (5, "parent_code"),
        (6, "parent_code"),
        (7, "parent_code"),
    ]
    assert "vòng" in report.errors[0].reason_vi
    assert "cycle" in report.errors[0].reason_en


def test_self_parent_is_an_error() -> None:
    data = csv_bytes([AGENCY_HEADER, agency(FINANCE, parent=FINANCE)])

    report = parse_agencies(data, "a.csv")

    assert report.rows == []
    [error] = report.errors
    assert (error.line, error.column) == (2, "parent_code")


def test_parent_outside_the_file_must_be_a_valid_code() -> None:
    data = csv_bytes(
        [AGENCY_HEADER, agency(FINANCE, parent=PROVINCE), agency("000.00.04.H41", parent="UBND")]
    )

    report = parse_agencies(data, "a.csv")

    assert [r.parent_code for r in report.rows] == [PROVINCE]
    assert [(e.line, e.column) for e in report.errors] == [(3, "parent_code")]


@pytest.mark.parametrize(
    "code",
    ["000.00.00.h41", "00.00.00.H41", "000.00.00.H4", "H41-01", "UBND", "０００.００.００.H41"],
)
def test_invalid_agency_code_is_a_row_error(code: str) -> None:
    data = csv_bytes([AGENCY_HEADER, agency(code)])

    report = parse_agencies(data, "a.csv")

    assert report.rows == []
    [error] = report.errors
    assert (error.line, error.column) == (2, "code")
    assert "QCVN 102" in error.reason_vi


def test_invalid_agency_code_of_a_person_is_a_row_error() -> None:
    data = csv_bytes([PEOPLE_HEADER, person("annv", agency_code="STC")])

    report = parse_people(data, "a.csv")

    assert [(e.line, e.column) for e in report.errors] == [(2, "agency_code")]


def test_every_problem_of_a_row_is_reported() -> None:
    data = csv_bytes(
        [
            [*AGENCY_HEADER, "email"],
            ["", "", "stc", "bộ", "", "không phải email"],
        ]
    )

    report = parse_agencies(data, "a.csv")

    assert [e.column for e in errors_on(report.errors, 2)] == [
        "code",
        "name",
        "short_name",
        "level",
        "email",
    ]
    assert "Thiếu «code»" in report.errors[0].reason_vi


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("username", "ab"),
        ("username", "nguyễn.an"),
        ("username", "an nv"),
        ("full_name", ""),
        ("email", "annv@"),
        ("email", "annv@nghean"),
        ("email", ""),
        ("phone", "09123"),
        ("phone", "0912-ABC-678"),
        ("roles", ""),
        ("roles", " ; , "),
    ],
)
def test_invalid_person_field_is_a_row_error(column: str, value: str) -> None:
    row = person("annv")
    row[PEOPLE_HEADER.index(column)] = value

    report = parse_people(csv_bytes([PEOPLE_HEADER, row]), "a.csv")

    assert report.rows == []
    assert [(e.line, e.column) for e in report.errors] == [(2, column)]


@pytest.mark.parametrize(
    ("cell", "roles"),
    [
        ("văn thư", {Role.CLERK}),
        ("VĂN THƯ; Chuyên Viên", {Role.CLERK, Role.SPECIALIST}),
        ("van thu, chuyen vien", {Role.CLERK, Role.SPECIALIST}),
        ("Trưởng phòng", {Role.DEPARTMENT_HEAD}),
        ("phó lãnh đạo", {Role.DEPUTY_LEADER}),
        ("Lãnh đạo", {Role.LEADER}),
        ("lanh dao; quan tri", {Role.LEADER, Role.AGENCY_ADMIN}),
        ("clerk, specialist", {Role.CLERK, Role.SPECIALIST}),
        ("department_head, Deputy_Leader, agency_admin", {
            Role.DEPARTMENT_HEAD, Role.DEPUTY_LEADER, Role.AGENCY_ADMIN,
        }),
        ("leader;", {Role.LEADER}),
    ],
)  # fmt: skip
def test_role_labels_are_matched(cell: str, roles: set[Role]) -> None:
    data = csv_bytes([PEOPLE_HEADER, person("annv", roles=cell)])

    report = parse_people(data, "a.csv")

    assert report.errors == []
    assert report.rows[0].roles == roles


@pytest.mark.parametrize("cell", ["văn thư; giám đốc", "lãnh đạo phòng", "admin"])
def test_unknown_role_is_a_row_error(cell: str) -> None:
    data = csv_bytes([PEOPLE_HEADER, person("annv", roles=cell)])

    report = parse_people(data, "a.csv")

    assert report.rows == []
    [error] = report.errors
    assert (error.line, error.column, error.column_label) == (2, "roles", "Vai trò")
    unknown = cell.split(";")[-1].strip()
    assert f"«{unknown}»" in error.reason_vi


def test_phone_stored_as_number_in_xlsx() -> None:
    data = xlsx_bytes(
        [
            PEOPLE_HEADER,
            person("annv", phone=912345678),
            person("binhtt", phone=12345678),
            person("chilt", phone=84912345678.0),
            person("dunglv", phone="+84 912.345.678"),
        ]
    )

    report = parse_people(data, "a.xlsx")

    assert [(r.username, r.phone) for r in report.rows] == [
        ("annv", "912345678"),
        ("chilt", "84912345678"),
        ("dunglv", "+84912345678"),
    ]
    [error] = report.errors
    assert (error.line, error.column) == (3, "phone")
    assert "12345678" in error.reason_vi
    assert "số 0" in error.reason_vi


@pytest.mark.parametrize(
    ("short_name", "valid"),
    [("UBND", True), ("SGDĐT", True), ("BQL-KKT", True), ("Stc", False), ("S T C", False),
     ("-STC", False), ("SỞTC", False), ("A" * 20, True), ("A" * 21, False)],
)  # fmt: skip
def test_short_name_fits_document_symbols(short_name: str, valid: bool) -> None:
    data = csv_bytes([AGENCY_HEADER, agency(FINANCE, short=short_name)])

    report = parse_agencies(data, "a.csv")

    assert bool(report.rows) is valid
    assert [e.column for e in report.errors] == ([] if valid else ["short_name"])


@pytest.mark.parametrize(
    ("cell", "level"),
    [("tỉnh", "province"), ("Sở", "department"), ("sở, ban, ngành", "department"),
     ("Huyện", "district"), ("xã", "commune"), ("phường", "commune"), ("Đặc khu", "commune"),
     ("other", "other"), ("public_service-unit", "public_service-unit")],
)  # fmt: skip
def test_levels_accept_vietnamese_labels_and_slugs(cell: str, level: str) -> None:
    row = agency(FINANCE)
    row[3] = cell

    report = parse_agencies(csv_bytes([AGENCY_HEADER, row]), "a.csv")

    assert report.errors == []
    assert report.rows[0].level == level


@pytest.mark.parametrize("cell", ["bộ", "cấp tỉnh", "1st", "quá-dài-" * 5])
def test_unknown_level_is_a_row_error(cell: str) -> None:
    row = agency(FINANCE)
    row[3] = cell

    report = parse_agencies(csv_bytes([AGENCY_HEADER, row]), "a.csv")

    assert [e.column for e in report.errors] == ["level"]


def test_workbook_inflating_far_beyond_its_size_is_rejected() -> None:
    workbook = io.BytesIO(xlsx_bytes([AGENCY_HEADER, agency(PROVINCE)]))
    out = io.BytesIO()
    with (
        zipfile.ZipFile(workbook) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            target.writestr(item.filename, source.read(item.filename))
        target.writestr("xl/media/padding.bin", bytes(50 * 2**20))
    data = out.getvalue()

    with pytest.raises(ImportFileRejected) as excinfo:
        parse_agencies(data, "a.xlsx", max_bytes=len(data))

    assert excinfo.value.reason == "too-large"


def test_data_ends_at_a_long_run_of_blank_rows() -> None:
    text = csv_text([AGENCY_HEADER, agency(PROVINCE)]) + "\r\n" * 10_000
    text += csv_text([agency(FINANCE)])

    report = parse_agencies(text.encode(), "a.csv")

    assert [row.code for row in report.rows] == [PROVINCE]
