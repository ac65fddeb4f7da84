"""Applying import files to the real database: the generated province (200 agencies, 20,000
people), the same files again, a file with 1,000 changes, concurrent positions, bad rows and bad
files. What a test imports is removed from the test database when it ends."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import random
import uuid
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import delete, func, select, update

from services.cli import main as qlvb
from services.common.db import Database
from services.identity.audit.service import Actor
from services.identity.imports.apply import ApplyReport, apply_agencies, apply_people
from services.identity.imports.parsing import (
    ImportFileRejected,
    PersonRow,
    parse_agencies,
    parse_people,
)
from services.identity.keycloak_sync.tables import keycloak_account, person_platform_role
from services.identity.tables import (
    agency,
    agency_succession,
    agency_version,
    audit_event,
    delegation,
    department,
    membership,
    outbox,
    person,
    processed_event,
)
from services.identity.tenancy import enter_tenant
from tests.identity.conftest import new_code
from tests.identity.province_files import generated_province

ACTOR = Actor(subject="tests", username="tests:import")
UNKNOWN = "999.99.99.Z97"  # well formed, never registered
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
AGENCY_HEADER = ["code", "name", "short_name", "level", "parent_code", "address", "phone", "email"]


# --- helpers (also used by test_keycloak_sync) ----------------------------------------------


def csv_bytes(rows: Iterable[Iterable[object]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def person_cells(row: PersonRow, **changes: Any) -> list[object]:
    """A parsed row written back as a file's cells (with changes)."""
    cells = {
        "username": row.username,
        "full_name": row.full_name,
        "email": row.email,
        "phone": row.phone,
        "title": row.title,
        "agency_code": row.agency_code,
        "department": row.department,
        "position": row.position,
        "roles": ", ".join(sorted(role.value for role in row.roles)),
    } | changes
    return [cells[name] for name in PEOPLE_HEADER]


async def purge(db: Database, agency_codes: Iterable[str], usernames: Iterable[str]) -> None:
    """Removes imported agencies and people with everything written about them (the test
    database is expendable; the registry itself never deletes)."""
    codes, names = list(agency_codes), list(usernames)
    async with db.transaction(None) as conn:
        agency_ids = list(
            (await conn.execute(select(agency.c.id).where(agency.c.code102.in_(codes)))).scalars()
        )
        person_ids = list(
            (await conn.execute(select(person.c.id).where(person.c.username.in_(names)))).scalars()
        )
        for tenant in agency_ids:
            await enter_tenant(conn, tenant)
            for table in (membership, delegation, department, audit_event, outbox, processed_event):
                await conn.execute(delete(table).where(table.c.tenant_id == tenant))
        for table in (person_platform_role, keycloak_account):
            await conn.execute(delete(table).where(table.c.person_id.in_(person_ids)))
        await conn.execute(delete(person).where(person.c.id.in_(person_ids)))
        await conn.execute(update(agency).where(agency.c.id.in_(agency_ids)).values(parent_id=None))
        # Other tests of the same run may have reorganised an imported agency or hung agencies
        # under it: those links go too, or the agency rows cannot.
        await conn.execute(
            update(agency).where(agency.c.parent_id.in_(agency_ids)).values(parent_id=None)
        )
        await conn.execute(
            update(agency).where(agency.c.successor_id.in_(agency_ids)).values(successor_id=None)
        )
        await conn.execute(
            delete(agency_succession).where(
                agency_succession.c.predecessor_id.in_(agency_ids)
                | agency_succession.c.successor_id.in_(agency_ids)
            )
        )
        await conn.execute(delete(agency_version).where(agency_version.c.agency_id.in_(agency_ids)))
        await conn.execute(delete(agency).where(agency.c.id.in_(agency_ids)))


async def audit_count(db: Database, tenants: Iterable[uuid.UUID], action: str = "%") -> int:
    total = 0
    async with db.transaction(None, read_only=True) as conn:
        for tenant in tenants:
            await enter_tenant(conn, tenant)
            total += (
                await conn.execute(
                    select(func.count())
                    .select_from(audit_event)
                    .where(audit_event.c.tenant_id == tenant, audit_event.c.action.like(action))
                )
            ).scalar_one()
    return total


async def agency_ids(db: Database, codes: Iterable[str]) -> dict[str, uuid.UUID]:
    async with db.transaction(None, read_only=True) as conn:
        rows = await conn.execute(
            select(agency.c.code102, agency.c.id).where(agency.c.code102.in_(list(codes)))
        )
        return {r.code102: r.id for r in rows}


# --- the generated province ------------------------------------------------------------------


class Province:
    """The generated province under a level-1 code and a username prefix of this run's own:
    test runs that overlap (on a shared machine) then never touch each other's agencies and
    people. The files are the generated ones with those two substitutions."""

    def __init__(self, level1: str) -> None:
        agencies_csv, people_xlsx = generated_province()
        self.level1 = level1
        self.prefix = f"p{uuid.uuid4().hex[:6]}."
        self.agencies_csv = agencies_csv.replace(b".H41", f".{level1}".encode())
        generated = parse_people(people_xlsx, "can-bo.xlsx").rows
        workbook = openpyxl.Workbook(write_only=True)
        sheet = workbook.create_sheet("Danh sách cán bộ")
        sheet.append(PEOPLE_HEADER)
        for row in generated:
            sheet.append(
                person_cells(
                    row,
                    username=self.prefix + row.username,
                    email=self.prefix + row.email,
                    agency_code=self.code(row.agency_code),
                )
            )
        out = io.BytesIO()
        workbook.save(out)
        self.people_xlsx = out.getvalue()
        self.agencies = parse_agencies(self.agencies_csv, "co-quan.csv")
        self.people = parse_people(self.people_xlsx, "can-bo.xlsx")
        self.codes = [row.code for row in self.agencies.rows]
        self.usernames = sorted({row.username for row in self.people.rows})
        self.first_agencies: ApplyReport | None = None
        self.first_people: ApplyReport | None = None
        self.ids: dict[str, uuid.UUID] = {}

    def code(self, generated: str) -> str:
        return generated.replace(".H41", f".{self.level1}")


async def unused_level1(db: Database) -> str:
    """A level-1 code (letter, two digits) no agency in the test database has."""
    async with db.transaction(None, read_only=True) as conn:
        used = set(
            (await conn.execute(select(func.right(agency.c.code102, 3)).distinct())).scalars()
        )
    free = [f"{letter}{n:02d}" for letter in "PQRSTUVW" for n in range(100)]
    return random.SystemRandom().choice([code for code in free if code not in used])


@pytest.fixture(scope="module")
async def province() -> AsyncIterator[Province]:
    db = Database.from_url(os.environ["QLVB_IDENTITY_DATABASE_URL"], pool_size=2)
    generated = Province(await unused_level1(db))
    try:
        generated.first_agencies = await apply_agencies(db, generated.agencies, ACTOR)
        generated.first_people = await apply_people(db, generated.people, ACTOR)
        generated.ids = await agency_ids(db, generated.codes)
        yield generated
    finally:
        await purge(db, generated.codes, generated.usernames)
        await db.dispose()


async def test_the_generated_province_is_imported_whole(
    province: Province, identity_db: Database
) -> None:
    agencies, people = province.first_agencies, province.first_people
    assert agencies is not None
    assert people is not None
    assert (agencies.applied, agencies.created, agencies.error_count) == (True, {"agency": 200}, 0)
    assert people.applied
    assert people.error_count == 0
    assert people.created["person"] == 20_000
    assert people.created["membership"] == 20_000
    async with identity_db.transaction(None, read_only=True) as conn:
        stored = (
            await conn.execute(
                select(func.count())
                .select_from(person)
                .where(person.c.username.in_(province.usernames))
            )
        ).scalar_one()
        tree = dict(
            (
                await conn.execute(
                    select(agency.c.code102, agency.c.parent_id).where(
                        agency.c.code102.in_(province.codes)
                    )
                )
            ).all()
        )
    assert stored == 20_000
    root, finance = province.code("000.00.00.H41"), province.code("000.00.03.H41")
    forestry, agriculture = province.code("000.01.06.H41"), province.code("000.00.06.H41")
    assert tree[root] is None
    assert tree[finance] == province.ids[root]  # Sở Tài chính under the People's Committee
    assert tree[forestry] == province.ids[agriculture]  # Chi cục Kiểm lâm under its Sở


async def test_every_change_of_the_import_is_audited(
    province: Province, identity_db: Database
) -> None:
    people = province.first_people
    assert people is not None
    # One record per agency, person, department and membership created.
    assert await audit_count(identity_db, province.ids.values(), "%.created") == (
        200 + people.changes
    )
    finance = province.ids[province.code("000.00.03.H41")]
    async with identity_db.transaction(finance, read_only=True) as conn:
        actions = dict(
            (
                await conn.execute(
                    select(audit_event.c.action, func.count()).group_by(audit_event.c.action)
                )
            ).all()
        )
        actors = set((await conn.execute(select(audit_event.c.actor_username))).scalars())
    assert set(actions) == {
        "agency.created",
        "person.created",
        "department.created",
        "membership.created",
    }
    assert actions["person.created"] == actions["membership.created"] == 200
    assert actors == {"tests:import"}


async def test_importing_the_same_files_again_changes_nothing(
    province: Province, identity_db: Database
) -> None:
    before = await audit_count(identity_db, province.ids.values())

    agencies = await apply_agencies(identity_db, province.agencies, ACTOR)
    people = await apply_people(identity_db, province.people, ACTOR)

    assert (agencies.changes, agencies.unchanged) == (0, 200)
    assert (people.changes, people.unchanged, people.error_count) == (0, 20_000, 0)
    assert await audit_count(identity_db, province.ids.values()) == before


async def test_a_file_with_1000_changes_changes_exactly_those(
    province: Province, identity_db: Database
) -> None:
    rows = province.people.rows
    # 500 people renamed, 500 others given other roles: every 20th line, then the next one.
    renamed = {rows[i].username for i in range(0, 20_000, 40)}
    promoted = {rows[i].username for i in range(20, 20_000, 40)}
    cells = [PEOPLE_HEADER]
    for row in rows:
        if row.username in renamed:
            cells.append(person_cells(row, full_name=row.full_name + " Hai"))
        elif row.username in promoted:
            cells.append(person_cells(row, roles="văn thư, quản trị"))
        else:
            cells.append(person_cells(row))
    changed = parse_people(csv_bytes(cells), "thay-doi.csv")
    before = await audit_count(identity_db, province.ids.values())
    try:
        preview = await apply_people(identity_db, changed, ACTOR, dry_run=True)
        assert await audit_count(identity_db, province.ids.values()) == before

        applied = await apply_people(identity_db, changed, ACTOR)

        expected = {"person": 500, "membership": 500}
        assert (preview.created, preview.updated, preview.applied) == ({}, expected, False)
        assert (applied.created, applied.updated, applied.applied) == ({}, expected, True)
        assert applied.unchanged == 19_000
        assert await audit_count(identity_db, province.ids.values()) == before + 1_000
        async with identity_db.transaction(None, read_only=True) as conn:
            names = dict(
                (
                    await conn.execute(
                        select(person.c.username, person.c.full_name).where(
                            person.c.username.in_(sorted(renamed))
                        )
                    )
                ).all()
            )
        assert all(name.endswith(" Hai") for name in names.values())
        assert len(names) == 500
    finally:
        # Back to the generated province, for the other tests of this module.
        await apply_people(identity_db, province.people, ACTOR)


# --- smaller files ---------------------------------------------------------------------------


@pytest.fixture
async def little_province(identity_db: Database) -> AsyncIterator[dict[str, Any]]:
    """Three fresh agencies (a root and two children) and a username prefix."""
    root, first, second = new_code(), new_code(), new_code()
    prefix = f"imp{uuid.uuid4().hex[:8]}."
    agencies = csv_bytes(
        [
            AGENCY_HEADER,
            # Children listed before their parent: applied parents first.
            [first, "Sở Thử nghiệm Một", "STN1", "sở", root, "", "", ""],
            [second, "Sở Thử nghiệm Hai", "STN2", "sở", root, "", "0912 345 678", ""],
            [root, "Ủy ban nhân dân tỉnh Thử nghiệm", "UBND", "tỉnh", "", "Số 1", "", ""],
        ]
    )
    report = await apply_agencies(identity_db, parse_agencies(agencies, "a.csv"), ACTOR)
    assert report.created == {"agency": 3}, report.errors
    data = {"codes": [root, first, second], "prefix": prefix, "usernames": []}
    try:
        yield data
    finally:
        await purge(identity_db, data["codes"], data["usernames"])


def little_people(data: dict[str, Any], rows: list[list[object]]) -> bytes:
    data["usernames"].extend(str(r[0]) for r in rows)
    return csv_bytes([PEOPLE_HEADER, *rows])


async def test_a_username_on_two_lines_holds_two_positions(
    little_province: dict[str, Any], identity_db: Database
) -> None:
    root, first, _ = little_province["codes"]
    username = little_province["prefix"] + "annv"
    email = f"{username}@test.qlvb.vn"
    rows: list[list[object]] = [
        [username, "Nguyễn Văn An", email, "", "", root, "Văn phòng", "Phó Chánh VP", "văn thư"],
        [username, "Nguyễn Văn An", email, "", "", first, "", "Chánh Thanh tra", "lãnh đạo"],
    ]
    people = parse_people(little_people(little_province, rows), "p.csv")

    report = await apply_people(identity_db, people, ACTOR)
    again = await apply_people(identity_db, people, ACTOR)

    assert report.created == {"person": 1, "membership": 2, "department": 1}
    assert again.changes == 0
    ids = await agency_ids(identity_db, [root, first])
    async with identity_db.transaction(ids[first], read_only=True) as conn:
        roles = (
            await conn.execute(
                select(membership.c.roles)
                .join(person, person.c.id == membership.c.person_id)
                .where(person.c.username == username)
            )
        ).scalar_one()
    assert roles == ["leader"]


async def test_a_persons_details_must_agree_on_each_of_their_lines(
    little_province: dict[str, Any],
) -> None:
    root, first, _ = little_province["codes"]
    username = little_province["prefix"] + "binhtt"
    email = f"{username}@test.qlvb.vn"
    rows: list[list[object]] = [
        [username, "Trần Thị Bình", email, "", "", root, "", "", "chuyên viên"],
        [username, "Trần Thị Bính", email, "", "", first, "", "", "chuyên viên"],
        [username, "Trần Thị Bình", email, "", "", root, "", "", "văn thư"],
    ]

    report = parse_people(little_people(little_province, rows), "p.csv")

    assert [(e.line, e.column) for e in report.errors] == [(3, "full_name"), (4, "username")]
    assert "dòng 2" in report.errors[0].reason_vi


async def test_a_dry_run_reports_every_bad_row_and_writes_nothing(
    little_province: dict[str, Any], identity_db: Database, demo_province: object
) -> None:
    root, first, _ = little_province["codes"]
    p = little_province["prefix"]
    ids = await agency_ids(identity_db, [root])
    async with identity_db.transaction(None) as conn:
        await conn.execute(
            update(agency).where(agency.c.code102 == first).values(status="inactive")
        )
    rows: list[list[object]] = [
        [p + "ok", "Lê Văn Ổn", f"{p}ok@test.qlvb.vn", "", "", root, "", "", "chuyên viên"],
        [p + "nocode", "Lê Văn Mã", f"{p}m@test.qlvb.vn", "", "", UNKNOWN, "", "", "văn thư"],
        [p + "gone", "Lê Văn Giải", f"{p}g@test.qlvb.vn", "", "", first, "", "", "văn thư"],
        [p + "mail", "Lê Văn Thư", "vanthu@demo.qlvb.vn", "", "", root, "", "", "văn thư"],
        [p + "role", "Lê Văn Vai", f"{p}r@test.qlvb.vn", "", "", root, "", "", "giám đốc"],
    ]  # fmt: skip
    people = parse_people(little_people(little_province, rows), "p.csv")
    before = await audit_count(identity_db, ids.values())

    preview = await apply_people(identity_db, people, ACTOR, dry_run=True)
    applied = await apply_people(identity_db, people, ACTOR)

    assert [(e.line, e.column) for e in preview.errors] == [
        (3, "agency_code"),
        (4, "agency_code"),
        (5, "email"),
        (6, "roles"),
    ]
    assert UNKNOWN in preview.errors[0].reason_en
    assert "no longer active" in preview.errors[1].reason_en
    assert "vanthu" in preview.errors[2].reason_en
    assert not applied.applied
    assert applied.error_count == 4
    assert await audit_count(identity_db, ids.values()) == before
    async with identity_db.transaction(None, read_only=True) as conn:
        written = (
            await conn.execute(select(person.c.id).where(person.c.username == p + "ok"))
        ).first()
    assert written is None


async def test_agency_rows_against_the_registry_are_checked(
    little_province: dict[str, Any], identity_db: Database
) -> None:
    root, first, _ = little_province["codes"]
    good = new_code()
    little_province["codes"].append(good)
    rows = [
        AGENCY_HEADER,
        # The root under its own child: a cycle only with the registry.
        [root, "Ủy ban nhân dân tỉnh Thử nghiệm", "UBND", "tỉnh", first, "", "", ""],
        ["K97.01.99", "Cơ quan chỉ có mã QĐ 20", "CQ", "other", root, "", "", ""],
        [new_code(), "Cơ quan con của cơ quan lạ", "CQ", "other", "999.99.98.Z97", "", "", ""],
        [good, "Cơ quan hợp lệ", "CQ", "other", root, "", "", ""],
    ]

    report = await apply_agencies(identity_db, parse_agencies(csv_bytes(rows), "a.csv"), ACTOR)

    assert [(e.line, e.column) for e in report.errors] == [
        (2, "parent_code"),
        (3, "code"),
        (4, "parent_code"),
    ]
    # The good row is what would have been written, had the file had no bad row.
    assert (report.applied, report.created) == (False, {"agency": 1})
    assert await agency_ids(identity_db, [good]) == {}


async def test_blank_optional_cells_keep_what_is_stored(
    little_province: dict[str, Any], identity_db: Database
) -> None:
    root, _, second = little_province["codes"]
    rows = [
        AGENCY_HEADER,
        [root, "Ủy ban nhân dân tỉnh Thử nghiệm", "UBND", "tỉnh", "", "", "", ""],
        [second, "Sở Thử nghiệm Hai (đổi tên)", "STN2", "sở", "", "", "", ""],
    ]

    report = await apply_agencies(identity_db, parse_agencies(csv_bytes(rows), "a.csv"), ACTOR)

    assert (report.updated, report.unchanged) == ({"agency": 1}, 1)
    async with identity_db.transaction(None, read_only=True) as conn:
        stored = (
            await conn.execute(
                select(agency.c.name, agency.c.phone, agency.c.parent_id).where(
                    agency.c.code102 == second
                )
            )
        ).one()
    ids = await agency_ids(identity_db, [root])
    assert stored == ("Sở Thử nghiệm Hai (đổi tên)", "0912345678", ids[root])


# --- bad files, through the command line ------------------------------------------------------


def test_a_file_in_windows_1258_is_rejected_by_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "can-bo.csv"
    text = "username,full_name,email,agency_code,roles\r\nannv,Lê Văn Đông,a@b.vn,X,văn thư\r\n"
    path.write_bytes(text.encode("cp1258"))

    status = qlvb(["import-people", str(path), "--dry-run"])

    assert status == 2
    assert "Windows-1258" in capsys.readouterr().err


def test_a_file_without_required_columns_is_rejected() -> None:
    data = csv_bytes([["username", "full_name"], ["annv", "Nguyễn Văn An"]])

    with pytest.raises(ImportFileRejected) as rejected:
        parse_people(data, "p.csv")

    assert rejected.value.status == 400
    assert rejected.value.reason == "columns"
    assert "agency_code" in rejected.value.detail_en


async def test_100k_rows_of_garbage_are_rejected_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], identity_db: Database
) -> None:
    path = tmp_path / "rac.csv"
    garbage = [
        [f"#{i}?", "x", "không-phải-thư", "abc", "", "???", "", "", "ma thuật"]
        for i in range(100_000)
    ]
    path.write_bytes(csv_bytes([PEOPLE_HEADER, *garbage]))
    async with identity_db.transaction(None, read_only=True) as conn:
        before = (await conn.execute(select(func.count()).select_from(person))).scalar_one()

    status = await asyncio.to_thread(qlvb, ["import-people", str(path)])

    assert status == 2
    assert "50.000" in capsys.readouterr().err
    async with identity_db.transaction(None, read_only=True) as conn:
        after = (await conn.execute(select(func.count()).select_from(person))).scalar_one()
    assert after == before


def test_garbage_rows_under_the_limit_are_each_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "rac.csv"
    garbage = [[f"#{i}?", "x", "sai", "", "", "???", "", "", "ma thuật"] for i in range(2_000)]
    path.write_bytes(csv_bytes([PEOPLE_HEADER, *garbage]))

    status = qlvb(["import-people", str(path)])

    out = capsys.readouterr().out
    assert status == 1
    assert f"{path}:2 [Tên đăng nhập]" in out  # the template's header, as the file shows it
    assert "more errors" in out
    assert "changed nothing" in out


async def test_the_command_applies_a_file_with_a_progress_line(
    little_province: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = little_province["codes"][0]
    p = little_province["prefix"]
    rows: list[list[object]] = [
        [f"{p}u{i}", "Phạm Văn Tiến", f"{p}u{i}@test.qlvb.vn", "", "", root, "", "", "chuyên viên"]
        for i in range(50)
    ]
    path = tmp_path / "can-bo.csv"
    path.write_bytes(little_people(little_province, rows))

    status = await asyncio.to_thread(qlvb, ["import-people", str(path)])

    captured = capsys.readouterr()
    assert status == 0
    assert "Người: 50/50 (100%)" in captured.err
    assert "created {'person': 50, 'membership': 50}" in captured.out
