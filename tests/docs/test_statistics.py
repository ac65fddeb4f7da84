"""Statistics per agency, department and person, rolled up the agency tree (ADR 0018).

A province of 50 agencies is generated for this module: the agencies seeded into identity,
Keycloak accounts with memberships in some of them, and documents, assignments, outgoing
documents, recipients and seal signatures written straight into the docs tables (as the app
role, under each agency's row-level security). Every figure the API returns is compared with
figures computed here from the raw rows, by plain SQL and Python that share nothing with the
service's SQL functions."""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import statistics
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pypdf
import pytest
from sqlalchemy import insert, text

from devstack.bootstrap_keycloak import admin
from devstack.environment import REALM
from services.common.db import Database
from services.docs.calendar.workdays import WorkCalendar, load_calendar
from services.docs.deadlines.figures import overdue_figures
from services.docs.settings import load as load_docs
from services.docs.tables import assignment, document, outgoing, outgoing_recipient
from services.identity.agencies.seed import seed_province
from services.identity.settings import load as load_identity
from tests.docs.conftest import Docs

VN = ZoneInfo("Asia/Ho_Chi_Minh")
FIRST = dt.date(2025, 1, 1)
LAST = dt.date(2025, 4, 1)
MONTHS = [dt.date(2025, m, 1) for m in range(1, 5)]
# Generated rows fall a month either side of the period, so the edges are exercised.
DATA_START = dt.datetime(2024, 12, 1, tzinfo=VN)
DATA_END = dt.datetime(2025, 6, 1, tzinfo=VN)
AGENCIES = 50
DEPARTMENTS = ["Phòng Tổng hợp", "Phòng Hành chính - Tổ chức", "Phòng Kinh tế", ""]
PEOPLE = [
    ("nguyenvana", "Nguyễn Văn An"),
    ("tranthib", "Trần Thị Bình"),
    ("lequangc", "Lê Quang Cường"),
    ("phamthid", "Phạm Thị Dung"),
    ("hoangvane", "Hoàng Văn Em"),
]
# Agencies outside the platform: their recipients are reached through the national axis.
OUTSIDE_CODES = ["000.00.00.G22", "000.00.00.G09", "000.00.12.H26"]


# --------------------------------------------------------------------------- the province


@dataclass
class Province:
    root: uuid.UUID
    agencies: list[dict[str, Any]]  # id, code, name, parent (code)
    children: dict[uuid.UUID, list[uuid.UUID]]
    users: dict[str, str]  # role name in this module -> username
    secrets: list[str]  # subjects, senders and numbers of the child agencies' documents
    child_documents: dict[uuid.UUID, list[uuid.UUID]]  # agency -> incoming document ids
    child_outgoing: dict[uuid.UUID, list[uuid.UUID]]

    def ids(self) -> list[uuid.UUID]:
        return [uuid.UUID(a["id"]) for a in self.agencies]

    def subtree(self, root: uuid.UUID) -> list[uuid.UUID]:
        """`root` and everything under it, depth first, children in code order."""
        code = {uuid.UUID(a["id"]): a["code"] for a in self.agencies}
        found = [root]
        for child in sorted(self.children.get(root, []), key=code.__getitem__):
            found += self.subtree(child)
        return found

    @property
    def child(self) -> uuid.UUID:
        return self.children[self.root][0]

    @property
    def sibling(self) -> uuid.UUID:
        return self.children[self.root][1]

    @property
    def grandchild(self) -> uuid.UUID:
        return self.children[self.child][0]


def _code(r: random.Random, used: set[str]) -> str:
    # QCVN 102 codes in a range no real province uses (Z97: this module).
    while True:
        code = f"{r.randrange(1000):03d}.{r.randrange(100):02d}.{r.randrange(100):02d}.Z97"
        if code not in used:
            used.add(code)
            return code


def _tree(r: random.Random) -> tuple[list[dict[str, Any]], dict[uuid.UUID, list[uuid.UUID]]]:
    """A province, 7 line agencies or districts under it and 42 communes under those."""
    used: set[str] = set()
    root = {
        "id": str(uuid.uuid4()),
        "code": _code(r, used),
        "name": "Ủy ban nhân dân tỉnh Thử Nghiệm",
        "short_name": "UBND",
        "level": "province",
    }
    agencies = [root]
    children: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for i in range(7):
        middle = {
            "id": str(uuid.uuid4()),
            "code": _code(r, used),
            "name": f"Ủy ban nhân dân huyện Thử Nghiệm {i + 1}",
            "short_name": "UBND",
            "level": "district",
            "parent": root["code"],
        }
        agencies.append(middle)
        children[uuid.UUID(root["id"])].append(uuid.UUID(middle["id"]))
        for j in range(6):
            leaf = {
                "id": str(uuid.uuid4()),
                "code": _code(r, used),
                "name": f"Ủy ban nhân dân xã Thử Nghiệm {i + 1}.{j + 1}",
                "short_name": "UBND",
                "level": "commune",
                "parent": middle["code"],
            }
            agencies.append(leaf)
            children[uuid.UUID(middle["id"])].append(uuid.UUID(leaf["id"]))
    assert len(agencies) == AGENCIES
    return agencies, dict(children)


def _moment(r: random.Random) -> dt.datetime:
    span = (DATA_END - DATA_START).total_seconds()
    return DATA_START + dt.timedelta(seconds=r.randrange(int(span)))


def _deadline_end(deadline: dt.date) -> dt.datetime:
    return dt.datetime.combine(deadline + dt.timedelta(days=1), dt.time(), tzinfo=VN)


def _documents(
    r: random.Random, tenant: uuid.UUID, platform_codes: list[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Incoming documents with their assignments, and outgoing documents with recipients."""
    docs: list[dict[str, Any]] = []
    tasks: list[dict[str, Any]] = []
    sent: list[dict[str, Any]] = []
    recipients: list[dict[str, Any]] = []
    arrivals = [_moment(r) for _ in range(r.randrange(8, 30))]
    # The edges of a Vietnam month: 23:59:59 on 31 January is January, midnight is February.
    arrivals += [
        dt.datetime(2025, 1, 31, 23, 59, 59, tzinfo=VN),
        dt.datetime(2025, 2, 1, 0, 0, 0, tzinfo=VN),
    ]
    for arrived_at in arrivals:
        state = r.choice(
            [
                "waiting",
                "registered",
                "assigned",
                "processing",
                "completed",
                "completed",
                "returned",
            ]
        )
        doc_id = uuid.uuid4()
        registered_at = (
            None
            if state in ("waiting", "returned")
            else arrived_at + dt.timedelta(minutes=r.randrange(0, 3000))
        )
        docs.append(
            {
                "tenant_id": tenant,
                "id": doc_id,
                "direction": "incoming",
                "state": state,
                "source": r.choice(["electronic", "electronic", "paper"]),
                "arrived_at": arrived_at,
                "registered_at": registered_at,
                "sender_name": f"Sở Bí Mật {uuid.uuid4().hex[:8]}",
                "number_symbol": f"{r.randrange(1, 999)}/BM-{uuid.uuid4().hex[:6].upper()}",
                "doc_type": "CV",
                "issued_on": arrived_at.date(),
                "subject": f"Nội dung riêng của cơ quan {uuid.uuid4().hex}",
                "urgency": "normal",
                "confidentiality": "normal",
                "created_by": "generator",
                "completed_at": None,
            }
        )
        if registered_at is None or state == "registered":
            continue
        assigned_at = registered_at + dt.timedelta(minutes=r.randrange(0, 2000))
        completed_at = None
        if state == "completed":
            completed_at = assigned_at + dt.timedelta(minutes=r.randrange(30, 40 * 24 * 60))
            docs[-1]["completed_at"] = completed_at
        deadline = (
            None
            if r.random() < 0.1
            else assigned_at.astimezone(VN).date() + dt.timedelta(days=r.randrange(0, 16))
        )
        if completed_at is not None and deadline is not None and r.random() < 0.15:
            # Closed exactly when the deadline day ends (on time), or a second later (late).
            completed_at = _deadline_end(deadline) + dt.timedelta(seconds=r.choice([0, 1]))
            docs[-1]["completed_at"] = completed_at

        def task(
            role: str,
            person: tuple[str, str],
            *,
            at: dt.datetime,
            state: str,
            closed_at: dt.datetime | None,
            parent: uuid.UUID | None = None,
            deadline: dt.date | None = deadline,
            doc_id: uuid.UUID = doc_id,
        ) -> uuid.UUID:
            task_id = uuid.uuid4()
            tasks.append(
                {
                    "tenant_id": tenant,
                    "id": task_id,
                    "document_id": doc_id,
                    "parent_id": parent,
                    "role": role,
                    "assignee": person[0],
                    "assignee_name": person[1],
                    "department": r.choice(DEPARTMENTS),
                    "deadline": deadline,
                    "direction": "Đề nghị xử lý",
                    "assigned_by": "lanhdao",
                    "assigned_at": at,
                    "state": state,
                    "closed_at": closed_at,
                }
            )
            return task_id

        done = "completed" if completed_at else "open"
        lead_at = assigned_at
        parent = None
        if r.random() < 0.25:
            # A department head hands the lead on to one of the department's people.
            lead_at = assigned_at + dt.timedelta(minutes=r.randrange(1, 600))
            parent = task(
                "lead", r.choice(PEOPLE), at=assigned_at, state="reassigned", closed_at=lead_at
            )
        task(
            "lead", r.choice(PEOPLE), at=lead_at, state=done, closed_at=completed_at, parent=parent
        )
        for _ in range(r.randrange(0, 3)):
            task("cooperate", r.choice(PEOPLE), at=assigned_at, state=done, closed_at=completed_at)
        if r.random() < 0.4:
            task("inform", r.choice(PEOPLE), at=assigned_at, state=done, closed_at=completed_at)
    for number in range(1, r.randrange(4, 14)):
        out_id = uuid.uuid4()
        state = r.choice(["issued", "issued", "issued", "revoked", "draft", "approved"])
        issued = state in ("issued", "revoked")
        issued_at = _moment(r)
        sent.append(
            {
                "tenant_id": tenant,
                "id": out_id,
                "state": state,
                "internal": r.random() < 0.1,
                "doc_type": "CV",
                "subject": f"Văn bản đi riêng {uuid.uuid4().hex}",
                "drafter": "chuyenvien",
                "drafter_name": "Chuyên viên",
                "signer": "lanhdao",
                "signer_name": "Lãnh đạo",
                "urgency": "normal",
                "confidentiality": "normal",
                "issuer_abbr": "UBND",
                "number_year": issued_at.year if issued else None,
                "number": number if issued else None,
                "number_symbol": f"{number:02d}/UBND-VP" if issued else None,
                "issued_on": issued_at.astimezone(VN).date() if issued else None,
                "issued_at": issued_at if issued else None,
            }
        )
        codes = r.sample(platform_codes, 3) + OUTSIDE_CODES
        for code in r.sample(codes, r.randrange(0, 5)):
            recipients.append(
                {
                    "tenant_id": tenant,
                    "outgoing_id": out_id,
                    "code": code,
                    "name": f"Nơi nhận {code}",
                    "electronic": r.random() < 0.75,
                }
            )
    return docs, tasks, sent, recipients


async def _signatures(
    conn: Any, tenant: uuid.UUID, sent: list[dict[str, Any]], r: random.Random
) -> None:
    """Seal signatures on some issued documents; a leader's alone does not make it signed."""
    for row in sent:
        if row["number"] is None:
            continue
        kinds = r.choice([["leader", "seal"], ["leader"], [], ["leader", "seal"]])
        for kind in kinds:
            await conn.execute(
                text(
                    "INSERT INTO docs.outgoing_signature (tenant_id, id, outgoing_id, version,"
                    " kind, field_name, signer, signer_name, method, certificate_subject,"
                    " certificate_serial, certificate_issuer, certificate_sha256, level,"
                    " signed_at, object_id, file_name, sha256, size, placement, number_symbol,"
                    " dated) VALUES (:tenant, :id, :outgoing, 1, :kind, :field, 'lanhdao',"
                    " 'Lãnh đạo', 'pkcs12', 'CN=Thử', '01', 'CN=CA', :digest, 'B-T', now(),"
                    " :object, 'vb.pdf', :digest, 1000, '{}'::jsonb, :number, :dated)"
                ),
                {
                    "tenant": tenant,
                    "id": uuid.uuid4(),
                    "outgoing": row["id"],
                    "kind": kind,
                    "field": f"Sig{kind}",
                    "digest": "0" * 64,
                    "object": uuid.uuid4(),
                    "number": row["number_symbol"] if kind == "seal" else None,
                    "dated": row["issued_on"] if kind == "seal" else None,
                },
            )


def _membership(agency: dict[str, Any], roles: list[str]) -> str:
    return json.dumps(
        {"agency_id": agency["id"], "agency_code": agency["code"], "roles": roles},
        ensure_ascii=False,
    )


@pytest.fixture(scope="module")
def keycloak_users(keycloak: Any) -> Iterator[list[str]]:
    """Keycloak account ids made by this module, deleted after it."""
    made: list[str] = []
    yield made
    kc = admin(REALM)
    for user_id in made:
        kc.delete_user(user_id)


@pytest.fixture(scope="module")
async def generated(province: dict[str, Any], keycloak: Any, keycloak_users: list[str]) -> Province:
    """The generated province (after the demo one, which the docs fixtures need)."""
    r = random.Random()
    agencies, children = _tree(r)
    identity_db = Database.from_url(load_identity().database_url, pool_size=1)
    try:
        await seed_province(identity_db, {"agencies": agencies, "users": []})
        async with identity_db.transaction(None, read_only=True) as conn:
            platform_codes = [
                row.code102 for row in await conn.execute(text("SELECT code102 FROM agency"))
            ]
    finally:
        await identity_db.dispose()
    docs_db = Database.from_url(load_docs().database_url, pool_size=2)
    secrets: list[str] = []
    child_documents: dict[uuid.UUID, list[uuid.UUID]] = {}
    child_outgoing: dict[uuid.UUID, list[uuid.UUID]] = {}
    try:
        for agency in agencies:
            tenant = uuid.UUID(agency["id"])
            docs, tasks, sent, recipients = _documents(r, tenant, platform_codes)
            async with docs_db.transaction(tenant) as conn:
                await conn.execute(insert(document), docs)
                if tasks:
                    await conn.execute(insert(assignment), tasks)
                await conn.execute(insert(outgoing), sent)
                if recipients:
                    await conn.execute(insert(outgoing_recipient), recipients)
                await _signatures(conn, tenant, sent, r)
            if agency.get("parent"):
                secrets += [d["subject"] for d in docs] + [d["sender_name"] for d in docs]
                secrets += [d["number_symbol"] for d in docs] + [s["subject"] for s in sent]
                child_documents[tenant] = [d["id"] for d in docs]
                child_outgoing[tenant] = [s["id"] for s in sent]
    finally:
        await docs_db.dispose()

    kc = admin(REALM)
    by_id = {uuid.UUID(a["id"]): a for a in agencies}
    root = uuid.UUID(agencies[0]["id"])
    child = children[root][0]
    wanted = {
        "root_leader": (by_id[root], ["leader"]),
        "root_head": (by_id[root], ["department_head"]),
        "root_specialist": (by_id[root], ["specialist"]),
        "child_leader": (by_id[child], ["leader"]),
    }
    users: dict[str, str] = {}
    for role, (agency, roles) in wanted.items():
        username = f"t-stats-{uuid.uuid4().hex[:10]}"
        keycloak_users.append(
            kc.create_user(
                {
                    "username": username,
                    "email": f"{username}@test.qlvb.vn",
                    "emailVerified": True,
                    "firstName": "Thống",
                    "lastName": "Kê",
                    "enabled": True,
                    "attributes": {"membership": [_membership(agency, roles)]},
                    "credentials": [
                        {"type": "password", "value": keycloak.demo_password, "temporary": False}
                    ],
                }
            )
        )
        users[role] = username
    return Province(root, agencies, children, users, secrets, child_documents, child_outgoing)


@pytest.fixture(scope="module")
def tokens(generated: Province, keycloak: Any) -> dict[str, str]:
    # One login at a time (Keycloak refuses concurrent logins of one user); 5 minutes is enough.
    return {role: keycloak.token(username) for role, username in generated.users.items()}


async def _get(
    docs: Docs,
    tokens: dict[str, str],
    role: str,
    acting_in: uuid.UUID,
    path: str = "/api/v1/statistics",
    **params: Any,
) -> Any:
    return await docs.client.get(
        path,
        params={k: str(v) for k, v in params.items()},
        headers={"Authorization": f"Bearer {tokens[role]}", "X-Agency-Id": str(acting_in)},
    )


# --------------------------------------------------------------------------- the expectation


@dataclass
class Expected:
    received_electronic: int = 0
    received_paper: int = 0
    sent_electronic: int = 0
    sent_paper: int = 0
    sent_signed: int = 0
    recipients_electronic: int = 0
    recipients_paper: int = 0
    recipients_axis: int = 0
    completed: int = 0
    completed_late: int = 0
    open_at_end: int = 0
    overdue_at_end: int = 0
    days: list[int] = field(default_factory=list)

    def add(self, other: Expected, *, snapshots: bool = True) -> None:
        for name in self.__dataclass_fields__:
            if name == "days":
                self.days += other.days
            elif snapshots or name not in ("open_at_end", "overdue_at_end"):
                setattr(self, name, getattr(self, name) + getattr(other, name))


def _month(moment: dt.datetime | dt.date) -> dt.date:
    if isinstance(moment, dt.datetime):
        moment = moment.astimezone(VN).date()
    return moment.replace(day=1)


def _month_end(month: dt.date) -> dt.date:
    following = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


async def _raw(db: Database, tenant: uuid.UUID) -> dict[str, list[Any]]:
    queries = {
        "incoming": "SELECT id, source, state, arrived_at, registered_at FROM docs.document"
        " WHERE direction = 'incoming'",
        "outgoing": "SELECT id, state, internal, issued_on FROM docs.outgoing",
        "recipients": "SELECT outgoing_id, code, electronic FROM docs.outgoing_recipient",
        "seals": "SELECT outgoing_id FROM docs.outgoing_signature WHERE kind = 'seal'",
        "tasks": "SELECT document_id, role, state, department, assignee, assignee_name,"
        " deadline, assigned_at, closed_at FROM docs.assignment",
    }
    async with db.transaction(tenant, read_only=True) as conn:
        return {name: (await conn.execute(text(sql))).all() for name, sql in queries.items()}


def _expected(
    raw: dict[str, list[Any]],
    platform_codes: set[str],
    calendar: WorkCalendar,
    key: Any = lambda task: (),
) -> dict[Any, dict[dt.date, Expected]]:
    """(key) -> month -> figures, from the raw rows; `key` splits the handling figures."""
    result: dict[Any, dict[dt.date, Expected]] = defaultdict(lambda: defaultdict(Expected))
    agency = result[()]
    for doc in raw["incoming"]:
        if doc.state != "returned":
            e = agency[_month(doc.arrived_at)]
            if doc.source == "electronic":
                e.received_electronic += 1
            else:
                e.received_paper += 1
    seals = {row.outgoing_id for row in raw["seals"]}
    by_outgoing: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for recipient in raw["recipients"]:
        by_outgoing[recipient.outgoing_id].append(recipient)
    for out in raw["outgoing"]:
        if out.state not in ("issued", "revoked") or out.internal:
            continue
        e = agency[_month(out.issued_on)]
        to = by_outgoing[out.id]
        if any(not t.electronic for t in to):
            e.sent_paper += 1
        else:
            e.sent_electronic += 1
        e.sent_signed += out.id in seals
        e.recipients_electronic += sum(t.electronic for t in to)
        e.recipients_paper += sum(not t.electronic for t in to)
        e.recipients_axis += sum(t.electronic and t.code not in platform_codes for t in to)
    registered = {
        doc.id: (doc.registered_at or doc.arrived_at).astimezone(VN).date()
        for doc in raw["incoming"]
    }
    for task in raw["tasks"]:
        if task.role == "inform":
            continue
        row = result[key(task)]
        if task.state == "completed":
            e = row[_month(task.closed_at)]
            e.completed += 1
            if task.deadline is not None and task.closed_at > _deadline_end(task.deadline):
                e.completed_late += 1
            if task.role == "lead":
                closed_on = task.closed_at.astimezone(VN).date()
                e.days.append(
                    calendar.working_days_between(registered[task.document_id], closed_on)
                )
        for month in MONTHS:
            as_of = _month_end(month)
            end = _deadline_end(as_of)
            if task.assigned_at < end and (task.closed_at is None or task.closed_at >= end):
                row[month].open_at_end += 1
                if task.deadline is not None and task.deadline < as_of:
                    row[month].overdue_at_end += 1
    return result


def _period(months: dict[dt.date, Expected]) -> Expected:
    total = Expected()
    for month in MONTHS:
        total.add(months[month], snapshots=False)
    total.open_at_end = months[MONTHS[-1]].open_at_end
    total.overdue_at_end = months[MONTHS[-1]].overdue_at_end
    return total


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _assert_documents(shown: dict[str, Any], e: Expected, where: str) -> None:
    received = e.received_electronic + e.received_paper
    sent = e.sent_electronic + e.sent_paper
    assert shown == {
        "received": received,
        "received_electronic": e.received_electronic,
        "received_paper": e.received_paper,
        "received_signed": e.received_electronic,
        "sent": sent,
        "sent_electronic": e.sent_electronic,
        "sent_paper": e.sent_paper,
        "sent_signed": e.sent_signed,
        "recipients_electronic": e.recipients_electronic,
        "recipients_paper": e.recipients_paper,
        "recipients_axis": e.recipients_axis,
        "received_electronic_share": _share(e.received_electronic, received),
        "received_signed_share": _share(e.received_electronic, received),
        "sent_electronic_share": _share(e.sent_electronic, sent),
        "sent_signed_share": _share(e.sent_signed, sent),
        "axis_share": _share(e.recipients_axis, e.recipients_electronic),
    }, where


def _assert_handling(shown: dict[str, Any], e: Expected, where: str) -> None:
    assert shown == {
        "completed": e.completed,
        "completed_on_time": e.completed - e.completed_late,
        "completed_late": e.completed_late,
        "on_time_share": _share(e.completed - e.completed_late, e.completed),
        "open_at_end": e.open_at_end,
        "overdue_at_end": e.overdue_at_end,
        "documents_completed": len(e.days),
        "processing_days_average": round(sum(e.days) / len(e.days), 2) if e.days else None,
        "processing_days_median": float(statistics.median(e.days)) if e.days else None,
    }, where


def _assert_figures(
    shown: dict[str, Any], months: dict[dt.date, Expected], where: str, *, documents: bool = True
) -> None:
    """A row's period figures and each of its months."""
    _assert_handling(shown["total"]["handling"], _period(months), f"{where} total")
    if documents:
        _assert_documents(shown["total"]["documents"], _period(months), f"{where} total")
    else:
        assert shown["total"]["documents"] is None
    assert [m["month"] for m in shown["months"]] == [f"{m:%Y-%m}" for m in MONTHS]
    for month, figures in zip(MONTHS, shown["months"], strict=True):
        _assert_handling(figures["handling"], months[month], f"{where} {month}")
        if documents:
            _assert_documents(figures["documents"], months[month], f"{where} {month}")


@pytest.fixture(scope="module")
async def truth(generated: Province) -> dict[uuid.UUID, dict[Any, dict[dt.date, Expected]]]:
    """Per agency: the figures computed here from the raw rows."""
    identity_db = Database.from_url(load_identity().database_url, pool_size=1)
    try:
        async with identity_db.transaction(None, read_only=True) as conn:
            codes = {row.code102 for row in await conn.execute(text("SELECT code102 FROM agency"))}
    finally:
        await identity_db.dispose()
    db = Database.from_url(load_docs().database_url, pool_size=2)
    try:
        async with db.transaction(None, read_only=True) as conn:
            calendar = await load_calendar(conn)
        return {
            tenant: _expected(await _raw(db, tenant), codes, calendar) for tenant in generated.ids()
        }
    finally:
        await db.dispose()


# --------------------------------------------------------------------------- the tests


async def test_province_figures_agree_with_counts_from_the_raw_rows(
    docs: Docs, generated: Province, tokens: dict[str, str], truth: dict[uuid.UUID, Any]
) -> None:
    response = await _get(
        docs,
        tokens,
        "root_leader",
        generated.root,
        **{"from": "2025-01", "to": "2025-04"},
        scope="tree",
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["from"], body["to"], body["scope"], body["group"]) == (
        "2025-01",
        "2025-04",
        "tree",
        "agency",
    )
    assert body["processing_time_unit"] == "working_days"
    rows = {uuid.UUID(row["agency"]["id"]): row for row in body["rows"]}
    assert list(rows) == generated.subtree(generated.root)
    assert set(rows) == set(generated.ids())
    province_months: dict[dt.date, Expected] = defaultdict(Expected)
    for tenant, row in rows.items():
        own = truth[tenant][()]
        _assert_figures(row, own, f"agency {tenant}")
        rolled: dict[dt.date, Expected] = defaultdict(Expected)
        for member in generated.subtree(tenant):
            for month in MONTHS:
                rolled[month].add(truth[member][()][month])
        _assert_handling(row["subtree"]["handling"], _period(rolled), f"subtree {tenant}")
        _assert_documents(row["subtree"]["documents"], _period(rolled), f"subtree {tenant}")
        for month in MONTHS:
            province_months[month].add(own[month])
    _assert_figures(body, province_months, "province")
    # The generated data really exercises what is counted.
    total = _period(province_months)
    for exercised in ("received_electronic", "received_paper", "sent_signed", "recipients_axis"):
        assert getattr(total, exercised), exercised
    for exercised in ("completed_late", "overdue_at_end", "days"):
        assert getattr(total, exercised), exercised
    assert rows[generated.root]["subtree"] == body["total"]


async def test_figures_by_department_and_person_agree_with_the_raw_rows(
    docs: Docs, generated: Province, tokens: dict[str, str]
) -> None:
    db = Database.from_url(load_docs().database_url, pool_size=1)
    try:
        raw = await _raw(db, generated.child)
        async with db.transaction(None, read_only=True) as conn:
            calendar = await load_calendar(conn)
    finally:
        await db.dispose()
    for group, key in (
        ("department", lambda task: (task.department,)),
        ("person", lambda task: (task.department, task.assignee, task.assignee_name)),
    ):
        expected = _expected(raw, set(), calendar, key)
        expected.pop((), None)
        response = await _get(
            docs,
            tokens,
            "child_leader",
            generated.child,
            **{"from": "2025-01", "to": "2025-04"},
            group=group,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        shown = {
            (row["department"],)
            if group == "department"
            else (row["department"], row["person"]["username"], row["person"]["name"]): row
            for row in body["rows"]
        }
        # A row for whoever completed something in the period or held something open.
        relevant = {
            k
            for k, months in expected.items()
            if any(months[m].completed or months[m].open_at_end for m in MONTHS)
        }
        assert set(shown) == relevant
        for k, row in shown.items():
            _assert_figures(row, expected[k], f"{group} {k}", documents=False)
        # The agency's total is the sum of its rows.
        handling: dict[dt.date, Expected] = defaultdict(Expected)
        for months in expected.values():
            for month in MONTHS:
                handling[month].add(months[month])
        _assert_handling(body["total"]["handling"], _period(handling), f"{group} total")


async def test_overdue_figures_and_statistics_follow_the_same_rules(
    docs: Docs, generated: Province, tokens: dict[str, str]
) -> None:
    response = await _get(
        docs,
        tokens,
        "child_leader",
        generated.child,
        **{"from": "2024-12", "to": "2025-05"},
        group="person",
    )
    assert response.status_code == 200, response.text
    rows = response.json()["rows"]
    db = Database.from_url(load_docs().database_url, pool_size=1)
    try:
        async with db.transaction(generated.child, read_only=True) as conn:
            figures = await overdue_figures(conn, generated.child, dt.date(2025, 3, 31))
            later = await overdue_figures(conn, generated.child, dt.date(2025, 5, 31))
    finally:
        await db.dispose()
    march = {
        (r["department"], r["person"]["username"]): (
            r["months"][3]["handling"]["open_at_end"],
            r["months"][3]["handling"]["overdue_at_end"],
        )
        for r in rows
    }
    assert {k: v for k, v in march.items() if v != (0, 0)} == {
        (f.department, f.assignee): (f.open, f.overdue) for f in figures if f.open or f.overdue
    }
    # Completed late, all told until the end of May: the sum of the months (nothing before).
    late = {
        (r["department"], r["person"]["username"]): sum(
            m["handling"]["completed_late"] for m in r["months"]
        )
        for r in rows
    }
    for figure in later:
        assert late.get((figure.department, figure.assignee), 0) == figure.completed_late


async def test_a_parent_sees_its_childrens_counts_and_never_their_documents(
    docs: Docs, generated: Province, tokens: dict[str, str]
) -> None:
    response = await _get(
        docs,
        tokens,
        "root_leader",
        generated.root,
        scope="tree",
        to="2025-04",
        **{"from": "2024-12"},
    )
    assert response.status_code == 200
    assert any(row["total"]["documents"]["received"] for row in response.json()["rows"][1:])
    for secret in generated.secrets:
        assert secret not in response.text
    for child, documents in generated.child_documents.items():
        for document_id in documents[:3]:
            seen = await _get(
                docs, tokens, "root_leader", generated.root, f"/api/v1/incoming/{document_id}"
            )
            assert seen.status_code == 404
            # Acting in the child agency needs a membership there.
            seen = await _get(docs, tokens, "root_leader", child, f"/api/v1/incoming/{document_id}")
            assert seen.status_code == 403
        for outgoing_id in generated.child_outgoing[child][:2]:
            seen = await _get(
                docs, tokens, "root_leader", generated.root, f"/api/v1/outgoing/{outgoing_id}"
            )
            assert seen.status_code == 404
    listed = await _get(docs, tokens, "root_leader", generated.root, "/api/v1/incoming", limit=200)
    assert listed.status_code == 200
    for secret in generated.secrets:
        assert secret not in listed.text


async def test_a_parent_may_look_at_one_agency_under_it(
    docs: Docs, generated: Province, tokens: dict[str, str], truth: dict[uuid.UUID, Any]
) -> None:
    response = await _get(
        docs,
        tokens,
        "root_leader",
        generated.root,
        **{"from": "2025-01", "to": "2025-04"},
        agency=generated.grandchild,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["agency"]["id"] == str(generated.grandchild)
    assert body["agency"]["depth"] == 0
    _assert_figures(body, truth[generated.grandchild][()], "grandchild")


async def test_a_child_sees_its_own_subtree_and_not_its_parent_or_siblings(
    docs: Docs, generated: Province, tokens: dict[str, str]
) -> None:
    response = await _get(docs, tokens, "child_leader", generated.child, scope="tree", to="2025-04")
    assert response.status_code == 200
    shown = [uuid.UUID(row["agency"]["id"]) for row in response.json()["rows"]]
    assert shown == generated.subtree(generated.child)
    for other in (generated.root, generated.sibling, generated.children[generated.sibling][0]):
        refused = await _get(
            docs, tokens, "child_leader", generated.child, scope="tree", agency=other, to="2025-04"
        )
        assert refused.status_code == 403, other
        assert refused.json()["code"] == "forbidden"
        # Acting as the parent needs a membership there.
        refused = await _get(docs, tokens, "child_leader", other, scope="tree", to="2025-04")
        assert refused.status_code == 403


async def test_subordinate_figures_are_for_leaders_and_clerks(
    docs: Docs, generated: Province, tokens: dict[str, str]
) -> None:
    own = await _get(docs, tokens, "root_head", generated.root, to="2025-04")
    assert own.status_code == 200
    assert [row["agency"]["id"] for row in own.json()["rows"]] == [str(generated.root)]
    tree = await _get(docs, tokens, "root_head", generated.root, scope="tree", to="2025-04")
    assert tree.status_code == 403
    child = await _get(docs, tokens, "root_head", generated.root, agency=generated.child)
    assert child.status_code == 403
    specialist = await _get(docs, tokens, "root_specialist", generated.root, to="2025-04")
    assert specialist.status_code == 403


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2025-04", "to": "2025-01"},
        {"from": "2099-01", "to": "2099-01"},
        {"from": "2025-13"},
        {"to": "2025-04", "scope": "tree", "group": "person"},
        {"to": "2025-04", "scope": "everything"},
    ],
)
async def test_impossible_requests_are_refused(
    docs: Docs, generated: Province, tokens: dict[str, str], params: dict[str, str]
) -> None:
    response = await _get(docs, tokens, "root_leader", generated.root, **params)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid-input"


async def test_the_xlsx_report_has_the_figures_and_charts(
    docs: Docs, generated: Province, tokens: dict[str, str]
) -> None:
    params = {"from": "2025-01", "to": "2025-04", "scope": "tree"}
    figures = (await _get(docs, tokens, "root_leader", generated.root, **params)).json()
    response = await _get(
        docs, tokens, "root_leader", generated.root, "/api/v1/statistics/report.xlsx", **params
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "bao-cao-thong-ke-2025-01-2025-04.xlsx" in response.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Tổng hợp", "Theo tháng", "Chi tiết"]
    summary = book["Tổng hợp"]
    cells = {
        row[0]: row[1:] for row in summary.iter_rows(values_only=True) if isinstance(row[0], str)
    }
    assert "BÁO CÁO THỐNG KÊ TÌNH HÌNH TIẾP NHẬN, PHÁT HÀNH VÀ XỬ LÝ VĂN BẢN" in cells
    assert "Từ tháng 01/2025 đến tháng 04/2025" in cells
    total = figures["total"]
    assert cells["Văn bản đến"][0] == total["documents"]["received"]
    assert cells["Văn bản điện tử"][:2] == (
        total["documents"]["received_electronic"],
        total["documents"]["received_electronic_share"],
    )
    assert cells["Có chữ ký số của cơ quan"][:2] == (
        total["documents"]["sent_signed"],
        total["documents"]["sent_signed_share"],
    )
    assert cells["Qua Trục liên thông văn bản quốc gia"][:2] == (
        total["documents"]["recipients_axis"],
        total["documents"]["axis_share"],
    )
    assert cells["Đúng hạn"][0] == total["handling"]["completed_on_time"]
    assert (
        cells["Thời gian giải quyết trung vị (ngày làm việc)"][0]
        == (total["handling"]["processing_days_median"])
    )
    by_month = book["Theo tháng"]
    months = [r for r in by_month.iter_rows(min_row=3, max_row=6, values_only=True)]
    assert [m[0] for m in months] == ["01/2025", "02/2025", "03/2025", "04/2025"]
    assert [m[1] for m in months] == [m["documents"]["received"] for m in figures["months"]]
    assert len(by_month._charts) == 3
    assert by_month._charts[0].title is not None
    detail = [r for r in book["Chi tiết"].iter_rows(min_row=3, values_only=True)]
    assert len(detail) == AGENCIES
    assert detail[0][0] == figures["rows"][0]["agency"]["name"]
    assert detail[0][1] == figures["rows"][0]["subtree"]["documents"]["received"]
    text_of_book = " ".join(
        str(value)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    )
    for secret in generated.secrets:
        assert secret not in text_of_book


def _vi(value: int) -> str:
    return f"{value:,}".replace(",", ".")


async def test_the_pdf_report_is_in_vietnamese_with_the_figures(
    docs: Docs, generated: Province, tokens: dict[str, str]
) -> None:
    params = {"from": "2025-03", "to": "2025-03", "scope": "tree"}
    figures = (await _get(docs, tokens, "root_leader", generated.root, **params)).json()
    response = await _get(
        docs, tokens, "root_leader", generated.root, "/api/v1/statistics/report.pdf", **params
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    words = " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)
    for heading in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "ỦY BAN NHÂN DÂN TỈNH THỬ NGHIỆM",
        "BÁO CÁO THỐNG KÊ TÌNH HÌNH TIẾP NHẬN, PHÁT HÀNH VÀ XỬ LÝ VĂN BẢN",
        "Tháng 03/2025",
        "I. SỐ LIỆU TỔNG HỢP",
        "II. SỐ LIỆU THEO THÁNG",
        "III. SỐ LIỆU THEO CƠ QUAN, ĐƠN VỊ",
        "Qua Trục liên thông văn bản quốc gia",
        "Văn bản đến theo tháng",
        "Ủy ban nhân dân xã Thử Nghiệm 1.1",
    ):
        assert heading in words, heading
    total = figures["total"]
    for line, value in (
        ("Văn bản đến", total["documents"]["received"]),
        ("Văn bản đi đã phát hành", total["documents"]["sent"]),
        ("Việc đã hoàn thành (chủ trì, phối hợp)", total["handling"]["completed"]),
        ("Văn bản đến đã giải quyết xong", total["handling"]["documents_completed"]),
    ):
        assert f"{line} {_vi(value)}" in words, line
    for secret in generated.secrets:
        assert secret not in words


async def test_the_report_speaks_english_when_asked(
    docs: Docs, generated: Province, tokens: dict[str, str]
) -> None:
    response = await docs.client.get(
        "/api/v1/statistics/report.pdf",
        params={"to": "2025-02"},
        headers={
            "Authorization": f"Bearer {tokens['root_leader']}",
            "X-Agency-Id": str(generated.root),
            "Accept-Language": "en-GB,en;q=0.9",
        },
    )
    assert response.status_code == 200
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    words = " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)
    assert "REPORT ON DOCUMENTS RECEIVED, ISSUED AND HANDLED" in words
    assert "Month 02/2025" in words
