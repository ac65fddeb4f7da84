"""bench/stats: a province's monthly statistics (the twelve months of 2025, scope = tree) over
1,000,000 documents of 200 agencies: 700,000 incoming documents with about 750,000
assignments, and 300,000 outgoing documents with about 600,000 recipients and 200,000 seal
signatures. The docs service answers GET /api/v1/statistics in process, with a real token of a
leader of the province's root agency; the baseline is one hand-written SQL statement computing
the same figures per agency and month, run in the same rounds by the database superuser (the
only role that may read every agency at once). Both answers are checked against each other.

The data lives in the test database, in agencies of its own (codes `*.Z96`, seeded into
identity), loaded once by INSERT ... SELECT over generate_series as the docs owner role, one
agency per transaction under its row-level security; later runs find it and reuse it. The
bench's Keycloak account is made for the run and deleted after it.

No target is set by the issue. The service reads each agency under its own row-level security
(one query per agency and kind of figure, ADR 0018) where the baseline scans everything in one
pass without any: 0.5 flags a regression of that price, it is not an aspiration."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import sys
import time
import uuid
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx

from bench.common import AsgiDriver, BenchError, Result, detail, median, report, spread
from devstack.environment import REALM, TEST_DATABASE, service_environment, stack_values

NAME = "stats"
TARGET = 0.5
ROUNDS = 5
AGENCIES = 200
INCOMING = 3_500  # per agency
OUTGOING = 1_500  # per agency
YEAR = 2025
NAMESPACE = uuid.UUID("6f1d6a52-1c38-4a55-9d1e-2b8f3a7c5e90")
ROOT_CODE = "000.00.00.Z96"
USERNAME = "bench.thongke"

# Spread over the year in arrival order; about one in twenty returned or waiting, the rest
# registered, a tenth still in hand, the others completed within 0 to 30 days.
INCOMING_SQL = """
INSERT INTO docs.document (
    tenant_id, id, direction, state, source, arrived_at, registered_at, completed_at,
    sender_name, number_symbol, doc_type, issued_on, subject, urgency, confidentiality,
    created_by)
SELECT $1::uuid, md5($1::text || 'd' || g)::uuid, 'incoming', s.state,
       CASE WHEN abs(hashtext('e' || g)) % 10 < 7 THEN 'electronic' ELSE 'paper' END,
       s.arrived_at,
       CASE WHEN s.state IN ('returned', 'waiting') THEN NULL ELSE s.registered_at END,
       CASE WHEN s.state = 'completed'
            THEN s.registered_at + make_interval(days => abs(hashtext('c' || g)) % 31,
                                                 hours => abs(hashtext('h' || g)) % 24)
       END,
       'Sở Tài chính', g || '/STC-NS', 'CV', s.arrived_at::date,
       'Văn bản thử tải thống kê', 'normal', 'normal', 'bench'
FROM generate_series(1, $2::int) AS g
CROSS JOIN LATERAL (
    SELECT CASE WHEN g % 20 = 0 THEN 'returned' WHEN g % 20 = 1 THEN 'waiting'
                WHEN g % 20 IN (2, 3) THEN 'registered' WHEN g % 20 IN (4, 5) THEN 'processing'
                ELSE 'completed' END AS state,
           timestamptz '2025-01-01 00:00+07'
               + make_interval(secs => (g - 1) * (31536000.0 / $2::int)
                                        + abs(hashtext('a' || g)) % 3600) AS arrived_at,
           timestamptz '2025-01-01 00:00+07'
               + make_interval(secs => (g - 1) * (31536000.0 / $2::int)
                                        + abs(hashtext('a' || g)) % 3600
                                        + abs(hashtext('r' || g)) % 172800) AS registered_at
) AS s
"""

# A lead for every document in hand or completed, a cooperating unit for a third of them and
# someone informed for a fifth; deadlines 0 to 19 days after registration.
ASSIGNMENT_SQL = """
INSERT INTO docs.assignment (
    tenant_id, id, document_id, role, assignee, assignee_name, department, deadline,
    assigned_by, assigned_at, state, closed_at)
SELECT d.tenant_id, gen_random_uuid(), d.id, r.role,
       'cv' || abs(hashtext(d.id::text || r.role)) % 12,
       'Chuyên viên ' || abs(hashtext(d.id::text || r.role)) % 12,
       (ARRAY['Phòng Tổng hợp', 'Phòng Kinh tế', 'Phòng Văn xã', 'Văn phòng'])
           [1 + abs(hashtext(d.id::text || 'p' || r.role)) % 4],
       (d.registered_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date + abs(hashtext(d.id::text)) % 20,
       'lanhdao', d.registered_at + interval '2 hours',
       CASE WHEN d.state = 'completed' THEN 'completed' ELSE 'open' END,
       d.completed_at
FROM docs.document AS d
CROSS JOIN (VALUES ('lead'), ('cooperate'), ('inform')) AS r(role)
WHERE d.tenant_id = $1::uuid AND d.state IN ('processing', 'completed')
  AND (r.role = 'lead'
       OR (r.role = 'cooperate' AND abs(hashtext(d.id::text)) % 3 = 0)
       OR (r.role = 'inform' AND abs(hashtext(d.id::text)) % 5 = 1))
"""

OUTGOING_SQL = """
INSERT INTO docs.outgoing (
    tenant_id, id, state, internal, doc_type, subject, drafter, drafter_name, signer,
    signer_name, urgency, confidentiality, issuer_abbr, number_year, number, number_symbol,
    issued_on, issued_at)
SELECT $1::uuid, md5($1::text || 'o' || g)::uuid, 'issued', g % 25 = 0, 'CV',
       'Văn bản đi thử tải', 'chuyenvien', 'Chuyên viên', 'lanhdao', 'Lãnh đạo', 'normal',
       'normal', 'UBND', 2025, g, lpad(g::text, 2, '0') || '/UBND-VP',
       (timestamptz '2025-01-01 08:00+07' + make_interval(days => (g - 1) * 365 / $2::int))
           ::date,
       timestamptz '2025-01-01 08:00+07' + make_interval(days => (g - 1) * 365 / $2::int)
FROM generate_series(1, $2::int) AS g
"""

# One to three recipients: an agency of the province, and agencies outside it (the axis);
# one in five gets paper.
RECIPIENT_SQL = """
INSERT INTO docs.outgoing_recipient (tenant_id, outgoing_id, code, name, electronic, status)
SELECT o.tenant_id, o.id, c.code, c.name,
       abs(hashtext(o.id::text || c.code)) % 5 <> 0, 'sent'
FROM docs.outgoing AS o
CROSS JOIN LATERAL (
    VALUES (1, $2::text, 'Ủy ban nhân dân tỉnh (thử tải)'),
           (2, '000.00.00.G22', 'Văn phòng Chính phủ'),
           (3, '000.00.00.G09', 'Bộ Nội vụ')
) AS c(k, code, name)
WHERE o.tenant_id = $1::uuid AND c.k <= 1 + abs(hashtext(o.id::text)) % 3
"""

SEAL_SQL = """
INSERT INTO docs.outgoing_signature (
    tenant_id, id, outgoing_id, version, kind, field_name, signer, signer_name, method,
    certificate_subject, certificate_serial, certificate_issuer, certificate_sha256, level,
    signed_at, object_id, file_name, sha256, size, placement, number_symbol, dated)
SELECT o.tenant_id, gen_random_uuid(), o.id, 1, 'seal', 'SigSeal', 'vanthu', 'Văn thư',
       'pkcs12', 'CN=Thử tải', '01', 'CN=CA', repeat('0', 64), 'B-T', o.issued_at,
       gen_random_uuid(), 'vb.pdf', repeat('0', 64), 1000, '{}'::jsonb, o.number_symbol,
       o.issued_on
FROM docs.outgoing AS o
WHERE o.tenant_id = $1::uuid AND abs(hashtext(o.id::text || 's')) % 10 < 7
"""

# The baseline: the same figures per agency and month, in one statement, without row-level
# security (the superuser), with the same working-day index the service passes.
BASELINE_SQL = """
WITH months AS (
    SELECT m::date AS month,
           (least((m + interval '1 month')::date - 1, $4::date) + 1)::timestamp
               AT TIME ZONE 'Asia/Ho_Chi_Minh' AS as_of_end,
           least((m + interval '1 month')::date - 1, $4::date) AS as_of
    FROM generate_series($2::date::timestamp, $3::date::timestamp, interval '1 month') AS m
), span AS (
    SELECT $2::date::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh' AS v_start,
           ($3::date + interval '1 month') AT TIME ZONE 'Asia/Ho_Chi_Minh' AS v_end,
           ($3::date + interval '1 month')::date AS v_next
), platform AS (
    SELECT DISTINCT c AS code FROM unnest($5::text[]) AS c
), received AS (
    SELECT d.tenant_id,
           date_trunc('month', d.arrived_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS month,
           count(*) FILTER (WHERE d.source = 'electronic') AS electronic,
           count(*) FILTER (WHERE d.source <> 'electronic') AS paper
    FROM docs.document AS d, span
    WHERE d.tenant_id = ANY($1::uuid[]) AND d.direction = 'incoming' AND d.state <> 'returned'
      AND d.arrived_at >= span.v_start AND d.arrived_at < span.v_end
    GROUP BY 1, 2
), per_document AS (
    SELECT o.tenant_id, date_trunc('month', o.issued_on)::date AS month,
           count(r.code) FILTER (WHERE NOT r.electronic) AS paper,
           count(r.code) FILTER (WHERE r.electronic) AS electronic,
           count(r.code) FILTER (WHERE r.electronic AND p.code IS NULL) AS axis,
           EXISTS (SELECT 1 FROM docs.outgoing_signature AS g
                   WHERE g.tenant_id = o.tenant_id AND g.outgoing_id = o.id
                     AND g.kind = 'seal') AS signed
    FROM docs.outgoing AS o
    CROSS JOIN span
    LEFT JOIN docs.outgoing_recipient AS r
           ON r.tenant_id = o.tenant_id AND r.outgoing_id = o.id
    LEFT JOIN platform AS p ON p.code = r.code
    WHERE o.tenant_id = ANY($1::uuid[]) AND o.state IN ('issued', 'revoked') AND NOT o.internal
      AND o.issued_on >= $2::date AND o.issued_on < span.v_next
    GROUP BY o.tenant_id, o.id, 2
), sent AS (
    SELECT tenant_id, month,
           count(*) FILTER (WHERE paper = 0) AS electronic,
           count(*) FILTER (WHERE paper > 0) AS paper,
           count(*) FILTER (WHERE signed) AS signed,
           sum(electronic) AS to_electronic, sum(paper) AS to_paper, sum(axis) AS to_axis
    FROM per_document GROUP BY 1, 2
), tasks AS (
    SELECT a.tenant_id, a.document_id, a.role, a.state, a.deadline, a.assigned_at,
           a.closed_at, (a.deadline + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh'
               AS deadline_end
    FROM docs.assignment AS a, span
    WHERE a.tenant_id = ANY($1::uuid[]) AND a.role <> 'inform'
      AND a.assigned_at < span.v_end AND (a.closed_at IS NULL OR a.closed_at >= span.v_start)
), done AS (
    SELECT t.tenant_id,
           date_trunc('month', t.closed_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS month,
           count(*) AS completed,
           count(*) FILTER (WHERE t.closed_at > t.deadline_end) AS late
    FROM tasks AS t, span
    WHERE t.state = 'completed' AND t.closed_at >= span.v_start AND t.closed_at < span.v_end
    GROUP BY 1, 2
), held AS (
    SELECT t.tenant_id, m.month, count(*) AS open,
           count(*) FILTER (WHERE t.deadline < m.as_of) AS overdue
    FROM tasks AS t
    JOIN months AS m
      ON t.assigned_at < m.as_of_end AND (t.closed_at IS NULL OR t.closed_at >= m.as_of_end)
    GROUP BY 1, 2
), processing AS (
    SELECT w.tenant_id, w.month, count(*) AS documents, sum(w.days) AS days,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY w.days) AS median
    FROM (
        SELECT t.tenant_id,
               date_trunc('month', t.closed_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS month,
               ($7::int[])[least(greatest((t.closed_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
                                         - $6::date + 1, 1), cardinality($7::int[]))]
               - ($7::int[])[least(greatest(
                     (coalesce(d.registered_at, d.arrived_at) AT TIME ZONE 'Asia/Ho_Chi_Minh')
                     ::date - $6::date + 1, 1), cardinality($7::int[]))] AS days
        FROM tasks AS t
        CROSS JOIN span
        JOIN docs.document AS d ON d.tenant_id = t.tenant_id AND d.id = t.document_id
        WHERE t.role = 'lead' AND t.state = 'completed'
          AND t.closed_at >= span.v_start AND t.closed_at < span.v_end
    ) AS w
    GROUP BY 1, 2
)
SELECT a.tenant_id, m.month,
       coalesce(i.electronic, 0) AS received_electronic, coalesce(i.paper, 0) AS received_paper,
       coalesce(s.electronic, 0) AS sent_electronic, coalesce(s.paper, 0) AS sent_paper,
       coalesce(s.signed, 0) AS sent_signed,
       coalesce(s.to_electronic, 0) AS recipients_electronic,
       coalesce(s.to_paper, 0) AS recipients_paper, coalesce(s.to_axis, 0) AS recipients_axis,
       coalesce(c.completed, 0) AS completed, coalesce(c.late, 0) AS completed_late,
       coalesce(h.open, 0) AS open_at_end, coalesce(h.overdue, 0) AS overdue_at_end,
       coalesce(p.documents, 0) AS documents_completed, coalesce(p.days, 0) AS days,
       p.median
FROM unnest($1::uuid[]) AS a(tenant_id)
CROSS JOIN months AS m
LEFT JOIN received AS i ON i.tenant_id = a.tenant_id AND i.month = m.month
LEFT JOIN sent AS s ON s.tenant_id = a.tenant_id AND s.month = m.month
LEFT JOIN done AS c ON c.tenant_id = a.tenant_id AND c.month = m.month
LEFT JOIN held AS h ON h.tenant_id = a.tenant_id AND h.month = m.month
LEFT JOIN processing AS p ON p.tenant_id = a.tenant_id AND p.month = m.month
"""


def agency_rows() -> list[dict[str, Any]]:
    """The province: its UBND, 39 line agencies, 10 districts of 15 communes each."""

    def agency_id(code: str) -> str:
        return str(uuid.uuid5(NAMESPACE, code))

    rows = [
        {
            "id": agency_id(ROOT_CODE),
            "code": ROOT_CODE,
            "name": "Ủy ban nhân dân tỉnh Thử Tải",
            "short_name": "UBND",
            "level": "province",
        }
    ]
    for unit in range(1, 50):
        code = f"000.00.{unit:02d}.Z96"
        rows.append(
            {
                "id": agency_id(code),
                "code": code,
                "name": f"Sở thử tải {unit:02d}" if unit < 40 else f"UBND huyện thử tải {unit}",
                "short_name": "STT" if unit < 40 else "UBND",
                "level": "department" if unit < 40 else "district",
                "parent": ROOT_CODE,
            }
        )
        if unit >= 40:
            for commune in range(1, 16):
                child = f"000.{commune:02d}.{unit:02d}.Z96"
                rows.append(
                    {
                        "id": agency_id(child),
                        "code": child,
                        "name": f"UBND xã thử tải {unit}.{commune:02d}",
                        "short_name": "UBND",
                        "level": "commune",
                        "parent": code,
                    }
                )
    if len(rows) != AGENCIES:
        raise BenchError(f"the bench province has {len(rows)} agencies, not {AGENCIES}")
    return rows


async def load(owner_dsn: str, agencies: list[dict[str, Any]]) -> int:
    """Each agency's documents unless already there; how many agencies were loaded now."""
    conn = await asyncpg.connect(owner_dsn)
    loaded = 0
    started = time.monotonic()
    try:
        for index, agency in enumerate(agencies):
            tenant = uuid.UUID(agency["id"])
            async with conn.transaction():
                await conn.execute(f"SET LOCAL app.tenant_id = '{tenant}'")
                have = await conn.fetchval(
                    "SELECT (SELECT count(*) FROM docs.document WHERE tenant_id = $1)"
                    " + (SELECT count(*) FROM docs.outgoing WHERE tenant_id = $1)",
                    tenant,
                )
                if have == INCOMING + OUTGOING:
                    continue
                if have:
                    raise BenchError(f"agency {tenant} holds {have} bench documents: clean it up")
                await conn.execute(INCOMING_SQL, tenant, INCOMING)
                await conn.execute(ASSIGNMENT_SQL, tenant)
                await conn.execute(OUTGOING_SQL, tenant, OUTGOING)
                await conn.execute(RECIPIENT_SQL, tenant, ROOT_CODE)
                await conn.execute(SEAL_SQL, tenant)
                loaded += 1
            sys.stderr.write(
                f"\r  agencies {index + 1}/{len(agencies)} ({time.monotonic() - started:.0f} s)"
            )
        if loaded:
            sys.stderr.write("\n")
            for table in ("document", "assignment", "outgoing", "outgoing_recipient"):
                await conn.execute(f"ANALYZE docs.{table}")
            await conn.execute("ANALYZE docs.outgoing_signature")
    finally:
        await conn.close()
    return loaded


def bench_user(agency: dict[str, Any], password: str) -> str:
    from devstack.bootstrap_keycloak import admin

    kc = admin(REALM)
    membership = json.dumps(
        {"agency_id": agency["id"], "agency_code": agency["code"], "roles": ["leader"]}
    )
    existing = kc.get_user_id(USERNAME)
    if existing is not None:
        kc.delete_user(existing)
    return str(
        kc.create_user(
            {
                "username": USERNAME,
                "email": f"{USERNAME}@bench.qlvb.vn",
                "emailVerified": True,
                "firstName": "Thống kê",
                "lastName": "Thử tải",
                "enabled": True,
                "attributes": {"membership": [membership]},
                "credentials": [{"type": "password", "value": password, "temporary": False}],
            }
        )
    )


def password_token(issuer: str, password: str) -> str:
    response = httpx.post(
        f"{issuer}/protocol/openid-connect/token",
        data={
            "grant_type": "password",
            "client_id": "qlvb-dev-cli",
            "username": USERNAME,
            "password": password,
        },
        timeout=30,
    )
    if response.status_code != 200:
        raise BenchError(f"token: HTTP {response.status_code} {response.text[:200]}")
    return str(response.json()["access_token"])


def check_same(service: dict[str, Any], rows: list[Any]) -> None:
    """The service's figures and the baseline's agree (counts, sums and one agency's medians)."""
    total = service["total"]
    last_month = max(r["month"] for r in rows)
    documents, handling = total["documents"], total["handling"]
    pairs = {
        "received_electronic": documents["received_electronic"],
        "received_paper": documents["received_paper"],
        "sent_electronic": documents["sent_electronic"],
        "sent_paper": documents["sent_paper"],
        "sent_signed": documents["sent_signed"],
        "recipients_electronic": documents["recipients_electronic"],
        "recipients_paper": documents["recipients_paper"],
        "recipients_axis": documents["recipients_axis"],
        "completed": handling["completed"],
        "completed_late": handling["completed_late"],
        "documents_completed": handling["documents_completed"],
    }
    # (asyncpg records iterate over their values: the keys are named here.)
    sums = {key: sum(r[key] for r in rows) for key in [*pairs, "days"]}
    for key, shown in pairs.items():
        if sums[key] != shown:
            raise BenchError(f"{key}: service {shown}, baseline {sums[key]}")
    at_end = sum(r["overdue_at_end"] for r in rows if r["month"] == last_month)
    if at_end != handling["overdue_at_end"]:
        raise BenchError(f"overdue at end: service {handling['overdue_at_end']}, SQL {at_end}")
    average = round(sums["days"] / sums["documents_completed"], 2)
    if average != handling["processing_days_average"]:
        raise BenchError(f"average: service {handling['processing_days_average']}, SQL {average}")
    first = service["rows"][1]
    medians = {
        r["month"]: r["median"] for r in rows if str(r["tenant_id"]) == first["agency"]["id"]
    }
    for month in first["months"]:
        key = dt.date.fromisoformat(month["month"] + "-01")
        if medians[key] != month["handling"]["processing_days_median"]:
            raise BenchError(f"median of {month['month']} differs")


async def run() -> Result:
    env = service_environment(TEST_DATABASE)
    os.environ.update(env)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    import msgspec

    from services.common.auth.service_tokens import ServiceTokens
    from services.common.db import Database
    from services.docs.app import create_app as create_docs
    from services.docs.calendar.workdays import load_calendar
    from services.docs.incoming.directory import IdentityDirectory
    from services.docs.incoming.service import today
    from services.docs.outgoing.agencies import IdentityAgencies
    from services.docs.settings import load as load_docs
    from services.docs.statistics.months import last_day
    from services.docs.statistics.queries import WORKDAY_WINDOW_DAYS, workday_index
    from services.identity.agencies.seed import seed_province
    from services.identity.app import create_app as create_identity
    from services.identity.settings import load as load_identity

    values = stack_values()
    agencies = agency_rows()
    identity_settings = msgspec.structs.replace(load_identity(), log_level="WARNING")
    identity_db = Database.from_url(identity_settings.database_url, pool_size=1)
    try:
        await seed_province(identity_db, {"agencies": agencies, "users": []})
    finally:
        await identity_db.dispose()
    docs_settings = msgspec.structs.replace(load_docs(), log_level="WARNING")
    owner = docs_settings.migration_database_url.replace("postgresql+asyncpg://", "postgresql://")
    started = time.monotonic()
    loaded = await load(owner, agencies)
    if loaded:
        detail(NAME, f"loaded {loaded} agencies' documents in {time.monotonic() - started:.0f} s")

    superuser = (
        f"postgresql://postgres:{values['QLVB_PG_SUPERPASSWORD']}@127.0.0.1:"
        f"{values['QLVB_PG_PORT']}/{TEST_DATABASE}"
    )
    raw = await asyncpg.connect(superuser)
    user_id = bench_user(agencies[0], values["QLVB_DEMO_PASSWORD"])
    identity_app = create_identity(identity_settings)
    identity_http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=identity_app), base_url="http://identity.test"
    )
    keycloak_http = httpx.AsyncClient(timeout=30)
    tokens = ServiceTokens(
        docs_settings.oidc, docs_settings.client_id, docs_settings.client_secret, keycloak_http
    )
    app = create_docs(
        docs_settings,
        directory=IdentityDirectory("http://identity.test", identity_http, tokens),
        agencies=IdentityAgencies("http://identity.test", identity_http, tokens),
    )
    try:
        token = password_token(env["QLVB_OIDC_ISSUER"], values["QLVB_DEMO_PASSWORD"])
        headers = {"authorization": f"Bearer {token}", "x-agency-id": agencies[0]["id"]}
        query = f"from={YEAR}-01&to={YEAR}-12&scope=tree"
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://docs.test"
        ) as client:
            response = await client.get(f"/api/v1/statistics?{query}", headers=headers)
        if response.status_code != 200:
            raise BenchError(f"GET /api/v1/statistics: HTTP {response.status_code}")
        service = response.json()
        if len(service["rows"]) != AGENCIES:
            raise BenchError(f"the service counted {len(service['rows'])} agencies")

        docs_db = Database.from_url(docs_settings.database_url, pool_size=1)
        async with docs_db.transaction(None, read_only=True) as conn:
            calendar = await load_calendar(conn)
        await docs_db.dispose()
        first, last = dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 1)
        index = workday_index(calendar, last_day(last), WORKDAY_WINDOW_DAYS)
        codes = [r["code102"] for r in await raw.fetch("SELECT code102 FROM identity.agency")]
        arguments = (
            [uuid.UUID(a["id"]) for a in agencies],
            first,
            last,
            today(),
            codes,
            index.first_day,
            index.counts,
        )
        rows = await raw.fetch(BASELINE_SQL, *arguments)
        check_same(service, rows)
        total = service["total"]["documents"]
        detail(
            NAME,
            f"{AGENCIES} agencies, {AGENCIES * (INCOMING + OUTGOING):,} documents "
            f"({total['received']:,} received and {total['sent']:,} sent in {YEAR}); "
            "service and baseline agree",
        )

        service_ms: list[float] = []
        sql_ms: list[float] = []
        for index_round in range(ROUNDS):
            # A fresh token each round (they live five minutes), fetched outside the timing.
            token = password_token(env["QLVB_OIDC_ISSUER"], values["QLVB_DEMO_PASSWORD"])
            driver = AsgiDriver(app, headers | {"authorization": f"Bearer {token}"})
            order = ("service", "sql") if index_round % 2 == 0 else ("sql", "service")
            for side in order:
                began = time.perf_counter()
                if side == "service":
                    status = await driver.get("/api/v1/statistics", query)
                    if status != 200:
                        raise BenchError(f"GET /api/v1/statistics: HTTP {status}")
                    service_ms.append((time.perf_counter() - began) * 1000)
                else:
                    await raw.fetch(BASELINE_SQL, *arguments)
                    sql_ms.append((time.perf_counter() - began) * 1000)
    finally:
        await raw.close()
        await app.state["resources"].close()
        await identity_http.aclose()
        await identity_app.state["resources"].close()
        await keycloak_http.aclose()
        from devstack.bootstrap_keycloak import admin

        admin(REALM).delete_user(user_id)

    detail(
        NAME,
        f"{ROUNDS} rounds: service (API, scope=tree, 12 months) {median(service_ms):.0f} ms "
        f"({spread(service_ms)}); one SQL aggregate as superuser {median(sql_ms):.0f} ms "
        f"({spread(sql_ms)}); ratio SQL/service {median(sql_ms) / median(service_ms):.2f}",
    )
    # Per minute: a run takes seconds, and the report prints one decimal.
    result = Result(
        NAME, 60_000 / median(service_ms), 60_000 / median(sql_ms), "runs/min at the median", TARGET
    )
    report(result)
    return result


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
