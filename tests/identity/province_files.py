"""A generated province for import tests: 200 agencies (CSV) and 20,000 people (XLSX).

Deterministic content (a seeded generator): Nghệ An (H41) after the 2025 reform, with the
provincial People's Committee, its line departments, a few units under them, and 176 communes
and wards, each with a leader, deputies, clerks, an administrator and departments of
specialists. Valid throughout: every file parses without a row error."""

from __future__ import annotations

import csv
import functools
import io
import random
import unicodedata

import openpyxl

PROVINCE = "Nghệ An"
LEVEL1 = "H41"
MAIL_DOMAIN = "nghean.gov.vn"
PEOPLE = 20_000

AGENCY_HEADER = (
    "code",
    "name",
    "short_name",
    "level",
    "parent_code",
    "address",
    "phone",
    "email",
)
PEOPLE_HEADER = (
    "STT",  # row number, as Vietnamese spreadsheets have; not a known column, so ignored
    "Tên đăng nhập",
    "Họ và tên",
    "Thư điện tử",
    "Điện thoại",
    "Chức danh",
    "Mã cơ quan",
    "Phòng ban",
    "Chức vụ",
    "Vai trò",
)

# (code level-2 part, name, short name, slug for the mail address)
DEPARTMENTS = (
    ("01", "Văn phòng Ủy ban nhân dân tỉnh", "VPUBND", "vpubnd"),
    ("02", "Sở Nội vụ", "SNV", "snv"),
    ("03", "Sở Tài chính", "STC", "stc"),
    ("04", "Sở Tư pháp", "STP", "stp"),
    ("05", "Sở Công Thương", "SCT", "sct"),
    ("06", "Sở Nông nghiệp và Môi trường", "SNNMT", "snnmt"),
    ("07", "Sở Xây dựng", "SXD", "sxd"),
    ("08", "Sở Giáo dục và Đào tạo", "SGDĐT", "sgddt"),
    ("09", "Sở Y tế", "SYT", "syt"),
    ("10", "Sở Văn hóa, Thể thao và Du lịch", "SVHTTDL", "svhttdl"),
    ("11", "Sở Khoa học và Công nghệ", "SKHCN", "skhcn"),
    ("12", "Sở Dân tộc và Tôn giáo", "SDTTG", "sdttg"),
    ("13", "Thanh tra tỉnh", "TTT", "thanhtra"),
    ("14", "Sở Ngoại vụ", "SNGV", "sngv"),
    ("15", "Ban Quản lý Khu kinh tế Đông Nam", "BQLKKT", "bqlkkt"),
    ("16", "Văn phòng Đoàn đại biểu Quốc hội và Hội đồng nhân dân tỉnh", "VPĐĐBQH", "vpddbqh"),
    ("17", "Đài Phát thanh và Truyền hình tỉnh", "ĐPTTH", "dptth"),
)
# (level-3 part, parent's level-2 part, name, short name, slug)
UNITS = (
    ("01", "02", "Ban Thi đua - Khen thưởng", "BTĐKT", "btdkt"),
    ("01", "05", "Trung tâm Xúc tiến Thương mại", "TTXTTM", "ttxttm"),
    ("01", "06", "Chi cục Kiểm lâm", "CCKL", "cckl"),
    ("02", "06", "Chi cục Thủy lợi", "CCTL", "cctl"),
    ("01", "08", "Trường Trung học phổ thông Huỳnh Thúc Kháng", "THPTHTK", "thpthtk"),
    ("01", "09", "Chi cục Dân số", "CCDS", "ccds"),
)
# Communes keep the codes of their former districts (level-2 parts 21..31): 11 x 16 = 176.
FORMER_DISTRICTS = tuple(f"{n:02d}" for n in range(21, 32))
COMMUNES_PER_DISTRICT = 16

PLACE_FIRST = (
    "An", "Bình", "Diễn", "Đông", "Hưng", "Hòa", "Hồng", "Kim", "Long", "Minh", "Nghĩa",
    "Ngọc", "Phú", "Quang", "Quỳnh", "Sơn", "Tân", "Thanh", "Thịnh", "Thuận", "Vĩnh", "Xuân",
)  # fmt: skip
PLACE_SECOND = (
    "Châu", "Đức", "Giang", "Hải", "Hợp", "Khánh", "Lâm", "Lộc", "Lương", "Lĩnh", "Phong",
    "Phúc", "Sơn", "Thành", "Thọ", "Tiến", "Trung", "Yên",
)  # fmt: skip
STREETS = ("Lê Hồng Phong", "Trường Thi", "Quang Trung", "Nguyễn Thị Minh Khai", "Phan Đăng Lưu")

FAMILY = (
    "Nguyễn", "Nguyễn", "Nguyễn", "Trần", "Lê", "Lê", "Phạm", "Hoàng", "Phan", "Vũ", "Võ",
    "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Đinh", "Thái", "Chu",
)  # fmt: skip
MIDDLE_MALE = ("Văn", "Hữu", "Đức", "Minh", "Quốc", "Xuân", "Đình", "Công", "Thanh", "Ngọc")
MIDDLE_FEMALE = ("Thị", "Thị", "Thu", "Ngọc", "Thanh", "Hồng", "Minh", "Phương", "Mai")
GIVEN_MALE = (
    "An", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hiếu", "Hùng", "Huy", "Khánh", "Long",
    "Minh", "Nam", "Phong", "Quân", "Quang", "Sơn", "Tâm", "Thắng", "Trung", "Tuấn", "Vinh",
)  # fmt: skip
GIVEN_FEMALE = (
    "Anh", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hiền", "Hoa", "Hương", "Lan", "Linh",
    "Mai", "Nga", "Ngân", "Nhung", "Oanh", "Phương", "Quyên", "Thảo", "Trang", "Vân", "Yến",
)  # fmt: skip

DEPARTMENT_UNITS = {
    "province": ("Phòng Tổng hợp", "Phòng Kinh tế", "Phòng Văn hóa - Xã hội"),
    "department": ("Văn phòng", "Phòng Kế hoạch - Tài chính", "Phòng Nghiệp vụ", "Thanh tra"),
    "other": ("Phòng Hành chính - Tổng hợp", "Phòng Nghiệp vụ"),
    "commune": ("Văn phòng HĐND và UBND", "Phòng Kinh tế", "Phòng Văn hóa - Xã hội"),
}
LEADER_POSITIONS = {
    "province": ("Chủ tịch", "Phó Chủ tịch"),
    "department": ("Giám đốc", "Phó Giám đốc"),
    "other": ("Thủ trưởng", "Phó Thủ trưởng"),
    "commune": ("Chủ tịch", "Phó Chủ tịch"),
}
TITLES = ("Chuyên viên", "Chuyên viên", "Chuyên viên chính", "Cán sự", "Chuyên viên cao cấp")


def _ascii(text: str) -> str:
    bare = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in bare if not unicodedata.combining(ch)).lower()


def _agencies(rng: random.Random) -> list[dict[str, str]]:
    province_code = f"000.00.00.{LEVEL1}"
    agencies = [
        {
            "code": province_code,
            "name": f"Ủy ban nhân dân tỉnh {PROVINCE}",
            "short_name": "UBND",
            "level": "province",
            "parent_code": "",
            "slug": "ubnd",
        }
    ]
    for part, name, short_name, slug in DEPARTMENTS:
        agencies.append(
            {
                "code": f"000.00.{part}.{LEVEL1}",
                "name": name if "tỉnh" in name else f"{name} tỉnh {PROVINCE}",
                "short_name": short_name,
                "level": "department",
                "parent_code": province_code,
                "slug": slug,
            }
        )
    for part, parent, name, short_name, slug in UNITS:
        agencies.append(
            {
                "code": f"000.{part}.{parent}.{LEVEL1}",
                "name": name,
                "short_name": short_name,
                "level": "other",
                "parent_code": f"000.00.{parent}.{LEVEL1}",
                "slug": slug,
            }
        )
    places = [f"{a} {b}" for a in PLACE_FIRST for b in PLACE_SECOND if a != b]
    rng.shuffle(places)
    for index, (district, commune) in enumerate(
        (d, c) for d in FORMER_DISTRICTS for c in range(1, COMMUNES_PER_DISTRICT + 1)
    ):
        place = places[index]
        kind = "phường" if index % 11 == 0 else "xã"
        agencies.append(
            {
                "code": f"000.{commune:02d}.{district}.{LEVEL1}",
                "name": f"Ủy ban nhân dân {kind} {place}",
                "short_name": "UBND",
                "level": "commune",
                "parent_code": province_code,
                "slug": ("p" if kind == "phường" else "x") + _ascii(place).replace(" ", ""),
            }
        )
    for agency in agencies:
        agency["address"] = (
            f"Số {rng.randint(1, 300)} đường {rng.choice(STREETS)}, tỉnh {PROVINCE}"
            if agency["level"] != "commune"
            else f"{agency['name'].removeprefix('Ủy ban nhân dân ')}, tỉnh {PROVINCE}"
        )
        agency["phone"] = f"0238 3{rng.randint(0, 999_999):06d}"
        agency["email"] = f"{agency.pop('slug')}@{MAIL_DOMAIN}"
    return agencies


def _agencies_csv(agencies: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(AGENCY_HEADER)
    for agency in agencies:
        writer.writerow([agency[key] for key in AGENCY_HEADER])
    return out.getvalue().encode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a BOM


def _staff_sizes(agencies: list[dict[str, str]]) -> list[int]:
    base = {"province": 300, "department": 200, "other": 50, "commune": 90}
    sizes = [base[a["level"]] for a in agencies]
    for index in range(len(sizes)):  # the rest go to the first communes, one each
        if sum(sizes) == PEOPLE:
            break
        if agencies[index]["level"] == "commune":
            sizes[index] += 1
    assert sum(sizes) == PEOPLE
    return sizes


def _name(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE_MALE)} {rng.choice(GIVEN_MALE)}"
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE_FEMALE)} {rng.choice(GIVEN_FEMALE)}"


def _phone(rng: random.Random) -> str | int | None:
    number = f"09{rng.randint(0, 99_999_999):08d}"
    style = rng.random()
    if style < 0.1:
        return None
    if style < 0.12:
        return int(number)  # typed as a number: Excel dropped the 0, 9 digits remain
    if style < 0.4:
        return f"{number[:4]} {number[4:7]} {number[7:]}"
    if style < 0.5:
        return f"{number[:4]}.{number[4:7]}.{number[7:]}"
    return number


def _people(rng: random.Random, agencies: list[dict[str, str]]) -> list[list[object]]:
    used: dict[str, int] = {}
    people: list[list[object]] = []
    for agency, size in zip(agencies, _staff_sizes(agencies), strict=True):
        level = agency["level"]
        leader, deputy = LEADER_POSITIONS[level]
        units = DEPARTMENT_UNITS[level]
        for index in range(size):
            full_name = _name(rng)
            family, *middle, given = _ascii(full_name).split()
            base = given + family[0] + "".join(m[0] for m in middle)
            used[base] = used.get(base, 0) + 1
            username = base if used[base] == 1 else f"{base}{used[base]}"
            department, position, title = "", "", rng.choice(TITLES)
            if index == 0:
                position, roles = leader, "Lãnh đạo"
            elif index <= 2:
                position, roles = deputy, "Phó lãnh đạo"
            elif index <= 4:
                department, position, roles = units[0], "Văn thư", "Văn thư"
                title = "Cán sự"
            elif index == 5:
                department, roles = units[0], "Chuyên viên; Quản trị"
            else:
                department = units[index % len(units)]
                if index < 6 + len(units):
                    position, roles = "Trưởng phòng", "Trưởng phòng, chuyên viên"
                else:
                    roles = "Chuyên viên"
            people.append(
                [
                    len(people) + 1,
                    username,
                    full_name,
                    f"{username}@{MAIL_DOMAIN}",
                    _phone(rng),
                    title,
                    agency["code"],
                    department,
                    position,
                    roles,
                ]
            )
    return people


def _people_xlsx(people: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Danh sách cán bộ")
    sheet.append(PEOPLE_HEADER)
    for person in people:
        sheet.append(person)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@functools.cache
def generated_province() -> tuple[bytes, bytes]:
    """(agencies as CSV, people as XLSX); the same content on every call."""
    rng = random.Random(20250701)
    agencies = _agencies(rng)
    assert len(agencies) == 200
    return _agencies_csv(agencies), _people_xlsx(_people(rng, agencies))
