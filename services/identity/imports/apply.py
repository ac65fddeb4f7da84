"""Applies parsed import files (parsing.py) to the database, idempotently.

Agencies are matched by code, people by username, memberships by person and agency, departments
by name within their agency. What the file says and the database already holds is left alone,
so importing the same file twice changes nothing the second time; only what differs is written,
each change with its audit record (audit/service.py) in the same transaction.

A file is applied whole or not at all: the rows are first checked against the database too (an
unknown or inactive agency, an e-mail address of another person, a parent link that closes a
cycle with the registry), and a file with any bad row, found by the parser or here, writes
nothing. A dry run does all of this in a read-only transaction and reports every bad row with
its line and reason, and what an apply would change.

Blank optional cells keep what is stored (a file without phone numbers erases none); an import
adds and corrects, it never ends memberships or disables people missing from the file."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Callable, Iterable
from typing import Any, Literal

import msgspec
from sqlalchemy import Row, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.db import Database
from services.identity.agencies import service as agencies
from services.identity.agencies.codes import is_valid_code102
from services.identity.agencies.schemas import AgencyCreate, AgencyUpdate
from services.identity.audit.service import Actor, record, snapshot
from services.identity.imports.parsing import (
    MAX_REPORTED_ERRORS,
    AgencyReport,
    AgencyRow,
    PeopleReport,
    PersonRow,
    RowError,
    row_error,
)
from services.identity.tables import agency, department, membership, person
from services.identity.tenancy import enter_tenant
from services.identity.transactions import writing

# Called with (rows done, rows in all) as the apply goes; the CLI draws its progress line.
Progress = Callable[[int, int], None]
# Rows written per statement when inserting in bulk.
_BATCH = 1_000


class ApplyReport(msgspec.Struct, kw_only=True):
    kind: Literal["agencies", "people"]
    dry_run: bool
    # True when the changes were written: not a dry run, and no bad row.
    applied: bool
    total_lines: int
    errors: list[RowError]
    error_count: int
    # What was (or, in a dry run, would be) written, by entity: agency, person, membership,
    # department.
    created: dict[str, int]
    updated: dict[str, int]
    # Rows that change nothing.
    unchanged: int

    @property
    def changes(self) -> int:
        return sum(self.created.values()) + sum(self.updated.values())


class _Errors:
    def __init__(self, parsed: list[RowError], parsed_count: int) -> None:
        self.items = list(parsed)
        self.count = parsed_count

    def add(self, line: int, column: str | None, vi: str, en: str) -> None:
        self.count += 1
        if len(self.items) < MAX_REPORTED_ERRORS:
            self.items.append(row_error(line, column, vi, en))

    def sorted(self) -> list[RowError]:
        return sorted(self.items, key=lambda e: e.line)


def _agency_refs(rows: Iterable[Row[Any]]) -> dict[str, Row[Any]]:
    """The registry by either code: QCVN 102 and, where recorded, QĐ 20."""
    refs: dict[str, Row[Any]] = {}
    for row in rows:
        refs[row.code102] = row
        if row.code_qd20:
            refs[row.code_qd20] = row
    return refs


def _unknown_agency(errors: _Errors, line: int, column: str, code: str) -> None:
    errors.add(
        line,
        column,
        f"Không có cơ quan mã «{code}» trong danh mục (hãy nhập tệp cơ quan trước).",
        f"No agency with code “{code}” is registered (import the agencies file first).",
    )


def _inactive_agency(errors: _Errors, line: int, column: str, found: Row[Any]) -> None:
    errors.add(
        line,
        column,
        f"Cơ quan «{found.name}» ({found.code102}) đã ngừng hoạt động (sáp nhập, chia tách "
        "hoặc giải thể).",
        f"The agency “{found.name}” ({found.code102}) is no longer active (merged, split or "
        "dissolved).",
    )


# --- agencies ------------------------------------------------------------------------------


class _AgencyPlan(msgspec.Struct, kw_only=True):
    # New agencies, parents before children, each with its parent's code (or None).
    creates: list[AgencyRow]
    # Existing agency id -> its changed fields.
    updates: list[tuple[AgencyRow, uuid.UUID, dict[str, Any]]]
    unchanged: int


def _agency_changes(row: AgencyRow, found: Row[Any], parent_id: uuid.UUID | None) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name in ("name", "short_name", "level"):
        if getattr(row, name) != getattr(found, name):
            changes[name] = getattr(row, name)
    if row.parent_code is not None and parent_id != found.parent_id:
        changes["parent_id"] = parent_id
    for name in ("address", "phone", "email"):
        value = getattr(row, name)
        if value and value != getattr(found, name):
            changes[name] = value
    return changes


async def _plan_agencies(
    conn: AsyncConnection, report: AgencyReport, errors: _Errors
) -> _AgencyPlan:
    registry = (await conn.execute(select(agency))).all()
    refs = _agency_refs(registry)
    in_file = {row.code: row for row in report.rows}
    code_of = {r.id: r.code102 for r in registry}
    # Where each agency will hang once the file is applied: the registry's links with the
    # file's over them (a row without a parent keeps the registry's).
    parent_code: dict[str, str | None] = {
        r.code102: code_of.get(r.parent_id) if r.parent_id else None for r in registry
    }
    bad: set[int] = set()
    for row in report.rows:
        found = refs.get(row.code)
        if found is None and not is_valid_code102(row.code):
            errors.add(
                row.line,
                "code",
                f"Cơ quan mới «{row.code}» cần mã định danh theo QCVN 102:2016 (AAA.BB.CC.XNN); "
                "mã QĐ 20 chỉ dùng để chỉ cơ quan đã có.",
                f"A new agency “{row.code}” needs a QCVN 102:2016 code (AAA.BB.CC.XNN); QĐ 20 "
                "codes only name agencies already registered.",
            )
            bad.add(row.line)
            continue
        own = found.code102 if found is not None else row.code
        if row.parent_code is None:
            parent_code.setdefault(own, None)
            continue
        parent = refs.get(row.parent_code)
        if parent is None and row.parent_code not in in_file:
            _unknown_agency(errors, row.line, "parent_code", row.parent_code)
            bad.add(row.line)
        elif parent is not None and parent.status != agencies.ACTIVE:
            _inactive_agency(errors, row.line, "parent_code", parent)
            bad.add(row.line)
        else:
            parent_code[own] = parent.code102 if parent is not None else row.parent_code
    for row in report.rows:
        if row.line in bad:
            continue
        own = refs[row.code].code102 if row.code in refs else row.code
        seen = {own}
        code = parent_code.get(own)
        while code is not None and code not in seen:
            seen.add(code)
            code = parent_code.get(code)
        # Only rows on a cycle are reported: a row that merely hangs below one is not at fault.
        if code == own:
            errors.add(
                row.line,
                "parent_code",
                f"Cơ quan cấp trên «{row.parent_code}» tạo vòng lặp với danh mục hiện có.",
                f"The parent “{row.parent_code}” closes a cycle with the registry.",
            )
            bad.add(row.line)
    creates: list[AgencyRow] = []
    updates: list[tuple[AgencyRow, uuid.UUID, dict[str, Any]]] = []
    unchanged = 0
    ids = {r.code102: r.id for r in registry}
    for row in report.rows:
        found = refs.get(row.code)
        if row.line in bad:
            continue
        if found is None:
            creates.append(row)
            continue
        changes = _agency_changes(row, found, ids.get(parent_code.get(found.code102) or ""))
        if not changes:
            unchanged += 1
        elif found.status != agencies.ACTIVE:
            _inactive_agency(errors, row.line, "code", found)
        else:
            updates.append((row, found.id, changes))
    return _AgencyPlan(creates=_parents_first(creates), updates=updates, unchanged=unchanged)


def _parents_first(rows: list[AgencyRow]) -> list[AgencyRow]:
    by_code = {row.code: row for row in rows}
    done: list[AgencyRow] = []
    placed: set[str] = set()

    def place(row: AgencyRow) -> None:
        if row.code in placed:
            return
        placed.add(row.code)  # cycles were refused above; this only guards the walk
        parent = by_code.get(row.parent_code or "")
        if parent is not None:
            place(parent)
        done.append(row)

    for row in rows:
        place(row)
    return done


async def apply_agencies(
    db: Database,
    report: AgencyReport,
    actor: Actor,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ApplyReport:
    errors = _Errors(report.errors, report.error_count)

    def result(plan: _AgencyPlan, applied: bool) -> ApplyReport:
        return ApplyReport(
            kind="agencies",
            dry_run=dry_run,
            applied=applied,
            total_lines=report.total_lines,
            errors=errors.sorted(),
            error_count=errors.count,
            created={"agency": len(plan.creates)} if plan.creates else {},
            updated={"agency": len(plan.updates)} if plan.updates else {},
            unchanged=plan.unchanged,
        )

    if dry_run:
        async with db.transaction(None, read_only=True) as conn:
            return result(await _plan_agencies(conn, report, errors), False)
    async with writing(db, None) as conn:
        await _lock_imports(conn)
        await agencies.lock_tree(conn)
        plan = await _plan_agencies(conn, report, errors)
        if errors.count:
            return result(plan, False)
        total = len(plan.creates) + len(plan.updates)
        done = 0
        ids = {r.code102: r.id for r in (await conn.execute(select(agency))).all()}
        refs = _agency_refs((await conn.execute(select(agency))).all())
        for row in plan.creates:
            parent = refs.get(row.parent_code) if row.parent_code else None
            created = await agencies.create(
                conn,
                actor,
                AgencyCreate(
                    code=row.code,
                    name=row.name,
                    short_name=row.short_name,
                    level=row.level,
                    parent_id=parent.id if parent is not None else ids.get(row.parent_code or ""),
                    address=row.address,
                    phone=row.phone,
                    email=row.email,
                ),
            )
            ids[created.code] = created.id
            done += 1
            if progress is not None:
                progress(done, total)
        for _, agency_id, changes in plan.updates:
            await agencies.correct(conn, actor, agency_id, AgencyUpdate(**changes))
            done += 1
            if progress is not None:
                progress(done, total)
        return result(plan, True)


async def _lock_imports(conn: AsyncConnection) -> None:
    """Imports wait for each other: each plans against what the previous one wrote."""
    await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('identity.import'))"))


# --- people --------------------------------------------------------------------------------


def _name_key(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def _short_name(name: str) -> str:
    """A department's short name from its full name: the initials ("Phòng Kế hoạch - Tài
    chính" -> "PKHTC"); the agency admin corrects it through the departments API if need be."""
    return "".join(word[0].upper() for word in name.split() if word[0].isalnum())[:30] or "PB"


class _PersonChange(msgspec.Struct, kw_only=True):
    row: PersonRow  # the person's first line
    tenant: uuid.UUID  # the agency whose audit trail records the person's change
    found: Row[Any] | None
    values: dict[str, Any]


class _MembershipChange(msgspec.Struct, kw_only=True):
    username: str
    department: str  # the department's name key, or "" for none / keep
    found: Row[Any] | None
    values: dict[str, Any]


class _TenantPlan(msgspec.Struct, kw_only=True):
    # Departments to create: name key -> name as first written.
    departments: dict[str, str]
    department_ids: dict[str, uuid.UUID]
    memberships: list[_MembershipChange]


class _PeoplePlan(msgspec.Struct, kw_only=True):
    people: list[_PersonChange]
    tenants: dict[uuid.UUID, _TenantPlan]
    unchanged: int

    def counts(self) -> tuple[dict[str, int], dict[str, int]]:
        created: dict[str, int] = {}
        updated: dict[str, int] = {}

        def add(counts: dict[str, int], entity: str, n: int) -> None:
            if n:
                counts[entity] = counts.get(entity, 0) + n

        add(created, "person", sum(1 for p in self.people if p.found is None))
        add(updated, "person", sum(1 for p in self.people if p.found is not None))
        for t in self.tenants.values():
            add(created, "department", len(t.departments))
            add(created, "membership", sum(1 for m in t.memberships if m.found is None))
            add(updated, "membership", sum(1 for m in t.memberships if m.found is not None))
        return created, updated


async def _plan_people(conn: AsyncConnection, report: PeopleReport, errors: _Errors) -> _PeoplePlan:
    refs = _agency_refs((await conn.execute(select(agency))).all())
    rows: list[tuple[PersonRow, Row[Any]]] = []
    for row in report.rows:
        found_agency = refs.get(row.agency_code)
        if found_agency is None:
            _unknown_agency(errors, row.line, "agency_code", row.agency_code)
        elif found_agency.status != agencies.ACTIVE:
            _inactive_agency(errors, row.line, "agency_code", found_agency)
        else:
            rows.append((row, found_agency))
    usernames = sorted({row.username for row, _ in rows})
    emails = sorted({row.email for row, _ in rows})
    existing = {
        r.username: r
        for r in (await conn.execute(select(person).where(person.c.username.in_(usernames))))
    }
    email_owners = {
        r.email: r.username
        for r in await conn.execute(
            select(person.c.email, person.c.username).where(person.c.email.in_(emails))
        )
    }
    # One membership per person and agency: two codes of one agency (QCVN 102 and QĐ 20)
    # on two lines of one username name the same membership.
    first_line: dict[tuple[str, uuid.UUID], int] = {}
    people: dict[str, _PersonChange] = {}
    by_tenant: dict[uuid.UUID, list[PersonRow]] = {}
    for row, found_agency in rows:
        key = (row.username, found_agency.id)
        if key in first_line:
            errors.add(
                row.line,
                "agency_code",
                f"Dòng {first_line[key]} đã giao chức vụ tại cơ quan này cho «{row.username}».",
                f"Line {first_line[key]} already gives “{row.username}” a position in this agency.",
            )
            continue
        first_line[key] = row.line
        owner = email_owners.get(row.email)
        if owner is not None and owner != row.username:
            errors.add(
                row.line,
                "email",
                f"Thư điện tử «{row.email}» đã được dùng cho người khác («{owner}»).",
                f"The email address “{row.email}” is already used by another person (“{owner}”).",
            )
            continue
        if row.username not in people:
            found = existing.get(row.username)
            values = _person_values(row, found)
            people[row.username] = _PersonChange(
                row=row, tenant=found_agency.id, found=found, values=values
            )
        by_tenant.setdefault(found_agency.id, []).append(row)
    tenants: dict[uuid.UUID, _TenantPlan] = {}
    changed_lines: set[int] = set()
    person_ids = {u: r.id for u, r in existing.items()}
    for tenant, tenant_rows in sorted(by_tenant.items()):
        await enter_tenant(conn, tenant)
        held = {
            m.person_id: m
            for m in await conn.execute(
                select(membership).where(membership.c.tenant_id == tenant, membership.c.active)
            )
        }
        units = {
            _name_key(d.name): d.id
            for d in await conn.execute(
                select(department.c.id, department.c.name).where(department.c.active)
            )
        }
        plan = _TenantPlan(departments={}, department_ids=units, memberships=[])
        for row in tenant_rows:
            department_key = _name_key(row.department)
            if department_key and department_key not in units:
                plan.departments.setdefault(department_key, row.department)
            pid = person_ids.get(row.username)
            found = held.get(pid) if pid is not None else None
            values = _membership_values(row, found, units.get(department_key))
            if values or found is None:
                plan.memberships.append(
                    _MembershipChange(
                        username=row.username,
                        department=department_key,
                        found=found,
                        values=values,
                    )
                )
                changed_lines.add(row.line)
        tenants[tenant] = plan
    changed_people = [p for p in people.values() if p.found is None or p.values]
    changed_lines.update(p.row.line for p in changed_people)
    unchanged = sum(len(r) for r in by_tenant.values()) - len(changed_lines)
    return _PeoplePlan(people=changed_people, tenants=tenants, unchanged=unchanged)


def _person_values(row: PersonRow, found: Row[Any] | None) -> dict[str, Any]:
    wanted = {"full_name": row.full_name, "email": row.email, "phone": row.phone}
    wanted["title"] = row.title
    if found is None:
        return wanted
    return {
        name: value
        for name, value in wanted.items()
        # Blank optional cells keep what is stored.
        if value != getattr(found, name) and (value or name in ("full_name", "email"))
    }


def _membership_values(
    row: PersonRow, found: Row[Any] | None, department_id: uuid.UUID | None
) -> dict[str, Any]:
    roles = sorted(role.value for role in row.roles)
    if found is None:
        return {"position": row.position, "roles": roles}
    values: dict[str, Any] = {}
    if sorted(found.roles) != roles:
        values["roles"] = roles
    if row.position and row.position != found.position:
        values["position"] = row.position
    if row.department and (department_id is None or department_id != found.department_id):
        # A department this import creates has no id yet (None here, filled in when written).
        values["department_id"] = department_id
    return values


async def apply_people(
    db: Database,
    report: PeopleReport,
    actor: Actor,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ApplyReport:
    errors = _Errors(report.errors, report.error_count)

    def result(plan: _PeoplePlan, applied: bool) -> ApplyReport:
        created, updated = plan.counts()
        return ApplyReport(
            kind="people",
            dry_run=dry_run,
            applied=applied,
            total_lines=report.total_lines,
            errors=errors.sorted(),
            error_count=errors.count,
            created=created,
            updated=updated,
            unchanged=plan.unchanged,
        )

    if dry_run:
        async with db.transaction(None, read_only=True) as conn:
            return result(await _plan_people(conn, report, errors), False)
    async with writing(db, None) as conn:
        await _lock_imports(conn)
        plan = await _plan_people(conn, report, errors)
        if errors.count:
            return result(plan, False)
        await _write_people(conn, plan, actor, progress, len(report.rows))
        return result(plan, True)


async def _write_people(
    conn: AsyncConnection,
    plan: _PeoplePlan,
    actor: Actor,
    progress: Progress | None,
    total: int,
) -> None:
    # People are global rows (no tenant): written first, in bulk; their audit records go to
    # the agency of their first line, below, with that agency's other records.
    person_ids: dict[str, uuid.UUID] = {}
    audits: dict[uuid.UUID, list[tuple[str, str, uuid.UUID, Any, Any]]] = {}
    new = [p for p in plan.people if p.found is None]
    for start in range(0, len(new), _BATCH):
        batch = new[start : start + _BATCH]
        inserted = await conn.execute(
            insert(person).returning(*person.c),
            [{"id": uuid.uuid4(), "username": p.row.username, **p.values} for p in batch],
        )
        for change, row in zip(batch, inserted, strict=True):
            person_ids[row.username] = row.id
            audits.setdefault(change.tenant, []).append(
                ("person.created", "person", row.id, None, snapshot(row))
            )
    for change in plan.people:
        if change.found is None:
            continue
        assert change.found is not None
        after = (
            await conn.execute(
                update(person)
                .where(person.c.id == change.found.id)
                .values(**change.values, updated_at=func.now())
                .returning(*person.c)
            )
        ).one()
        audits.setdefault(change.tenant, []).append(
            ("person.updated", "person", after.id, snapshot(change.found), snapshot(after))
        )
    existing = {
        r.username: r.id
        for r in await conn.execute(
            select(person.c.id, person.c.username).where(
                person.c.username.in_(
                    {m.username for t in plan.tenants.values() for m in t.memberships}
                    - person_ids.keys()
                )
            )
        )
    }
    person_ids.update(existing)
    done = 0
    for tenant in sorted(plan.tenants.keys() | audits.keys()):
        await enter_tenant(conn, tenant)
        tenant_plan = plan.tenants.get(tenant)
        for action, entity, entity_id, before, after in audits.get(tenant, []):
            await record(conn, tenant, actor, action, entity, entity_id, before=before, after=after)
        if tenant_plan is None:
            continue
        units = dict(tenant_plan.department_ids)
        for key, name in tenant_plan.departments.items():
            row = (
                await conn.execute(
                    insert(department)
                    .values(
                        tenant_id=tenant,
                        id=uuid.uuid4(),
                        name=name,
                        short_name=_short_name(name),
                    )
                    .returning(*department.c)
                )
            ).one()
            units[key] = row.id
            await record(
                conn, tenant, actor, "department.created", "department", row.id,
                before=None, after=snapshot(row),
            )  # fmt: skip
        creates = [m for m in tenant_plan.memberships if m.found is None]
        if creates:
            inserted = await conn.execute(
                insert(membership).returning(*membership.c),
                [
                    {
                        "tenant_id": tenant,
                        "id": uuid.uuid4(),
                        "person_id": person_ids[m.username],
                        "department_id": units.get(m.department) if m.department else None,
                        **m.values,
                    }
                    for m in creates
                ],
            )
            for row in inserted:
                await record(
                    conn, tenant, actor, "membership.created", "membership", row.id,
                    before=None, after=snapshot(row),
                )  # fmt: skip
        for m in tenant_plan.memberships:
            if m.found is None:
                continue
            values = dict(m.values)
            if "department_id" in values:
                values["department_id"] = units[m.department]
            after = (
                await conn.execute(
                    update(membership)
                    .where(membership.c.tenant_id == tenant, membership.c.id == m.found.id)
                    .values(**values, updated_at=func.now())
                    .returning(*membership.c)
                )
            ).one()
            await record(
                conn, tenant, actor, "membership.updated", "membership", after.id,
                before=snapshot(m.found), after=snapshot(after),
            )  # fmt: skip
        done += len(tenant_plan.memberships)
        if progress is not None:
            progress(min(done, total), total)
    if progress is not None:
        progress(total, total)
