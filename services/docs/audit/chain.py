"""A hash chain per tenant: each entry carries the hash of the previous one, so removing,
reordering or editing any entry breaks every hash after it.

The service's database role may insert entries but not update or delete them (migration
docs_0002); the chain makes tampering by anyone who can (a superuser, a restored backup)
visible. Appends are ordered by a row lock on the tenant's chain head."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import uuid
from typing import Any

import msgspec
from sqlalchemy import Update, bindparam, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.auth.principal import Principal
from services.docs.tables import audit_entry, audit_head

GENESIS = "0" * 64


class AuditEntry(msgspec.Struct, kw_only=True):
    seq: int
    at: dt.datetime
    actor: str
    actor_name: str
    acting_for: str | None
    action: str
    entity: str
    entity_id: uuid.UUID | None
    data: dict[str, Any]
    prev_hash: str
    hash: str


class ChainReport(msgspec.Struct, kw_only=True):
    entries: int
    intact: bool
    first_broken_seq: int | None = None
    reason: str = ""


def entry_hash(tenant_id: uuid.UUID, fields: dict[str, Any]) -> str:
    canonical = json.dumps(
        {"tenant_id": str(tenant_id), **fields},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _fields(row: Any) -> dict[str, Any]:
    return {
        "seq": int(row["seq"]),
        "at": row["at"].astimezone(dt.UTC).isoformat(),
        "actor": row["actor"],
        "actor_name": row["actor_name"],
        "acting_for": row["acting_for"],
        "action": row["action"],
        "entity": row["entity"],
        "entity_id": str(row["entity_id"]) if row["entity_id"] else None,
        "data": row["data"],
        "prev_hash": row["prev_hash"],
    }


# One statement creates the tenant's head on its first append, or locks the existing head
# (DO UPDATE takes the row lock) and returns it; concurrent appends queue here. Written as text:
# SQLAlchemy never caches an ON CONFLICT construct, and compiling it again on every audited
# action cost more than the round trip.
_LOCK_HEAD = text(
    "INSERT INTO docs.audit_head (tenant_id, seq, hash) VALUES (:tenant_id, 0, :genesis) "
    "ON CONFLICT (tenant_id) DO UPDATE SET seq = docs.audit_head.seq RETURNING seq, hash"
).bindparams(
    bindparam("tenant_id", type_=audit_head.c.tenant_id.type),
    bindparam("genesis", value=GENESIS, type_=audit_head.c.hash.type),
)


class Action(msgspec.Struct, frozen=True, kw_only=True):
    """One audited action, before the chain gives it its place."""

    action: str
    entity: str
    entity_id: uuid.UUID | None
    data: dict[str, Any]
    acting_for: str | None = None


async def append(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    principal: Principal,
    action: str,
    entity: str,
    entity_id: uuid.UUID | None,
    data: dict[str, Any],
    *,
    acting_for: str | None = None,
) -> AuditEntry:
    """Add an entry in the caller's transaction (it commits or vanishes with the change)."""
    one = Action(
        action=action, entity=entity, entity_id=entity_id, data=data, acting_for=acting_for
    )
    return (await append_many(conn, tenant_id, principal, [one]))[0]


async def append_many(
    conn: AsyncConnection, tenant_id: uuid.UUID, principal: Principal, actions: list[Action]
) -> list[AuditEntry]:
    """Entries for several actions of one request, in order, in two round trips whatever
    their number."""
    head = (await conn.execute(_LOCK_HEAD, {"tenant_id": tenant_id})).one()
    seq, prev_hash = int(head.seq), str(head.hash)
    # Stored at microsecond precision, hashed exactly as stored.
    at = dt.datetime.now(dt.UTC)
    # Whoever acts under a delegation acts for the delegator in everything they do.
    delegator = principal.acting_for.username if principal.acting_for else None
    entries: list[AuditEntry] = []
    for item in actions:
        seq += 1
        row = {
            "seq": seq,
            "at": at,
            "actor": principal.subject,
            "actor_name": principal.name or principal.username,
            "acting_for": item.acting_for or delegator,
            "action": item.action,
            "entity": item.entity,
            "entity_id": item.entity_id,
            "data": json.loads(json.dumps(item.data, default=str)),
            "prev_hash": prev_hash,
        }
        prev_hash = entry_hash(tenant_id, _fields(row))
        entries.append(AuditEntry(hash=prev_hash, **row))
    values: dict[str, Any] = {"head_tenant_id": tenant_id, "head_seq": seq, "head_hash": prev_hash}
    for index, entry in enumerate(entries):
        fields = {"tenant_id": tenant_id, **msgspec.structs.asdict(entry)}
        values |= {f"{name}_{index}": value for name, value in fields.items()}
    await conn.execute(_append_statement(len(entries)), values)
    return entries


_ENTRY_COLUMNS = tuple(c.name for c in audit_entry.c)


@functools.cache
def _append_statement(count: int) -> Update:
    """The entries and the new head in one round trip (a data-modifying CTE always runs);
    built once per number of entries, since building it cost more than running it. One
    single-row INSERT per entry, not one multi-row VALUES: SQLAlchemy cannot cache the compiled
    form of the latter, and compiling it on every request cost a fifth of a registration."""
    inserts = [
        insert(audit_entry)
        .values(
            {
                name: bindparam(f"{name}_{i}", type_=audit_entry.c[name].type)
                for name in _ENTRY_COLUMNS
            }
        )
        .cte(f"entry_{i}")
        for i in range(count)
    ]
    return (
        update(audit_head)
        .where(audit_head.c.tenant_id == bindparam("head_tenant_id"))
        .values(seq=bindparam("head_seq"), hash=bindparam("head_hash"))
        .add_cte(*inserts)
    )


async def verify(conn: AsyncConnection, tenant_id: uuid.UUID, batch: int = 5000) -> ChainReport:
    """Walk the tenant's chain from the start; report the first entry that does not fit."""
    expected_prev = GENESIS
    expected_seq = 1
    count = 0
    after = 0
    while True:
        rows = (
            (
                await conn.execute(
                    select(audit_entry)
                    .where(audit_entry.c.tenant_id == tenant_id, audit_entry.c.seq > after)
                    .order_by(audit_entry.c.seq)
                    .limit(batch)
                )
            )
            .mappings()
            .all()
        )
        if not rows:
            break
        for row in rows:
            count += 1
            seq = int(row["seq"])
            if seq != expected_seq:
                return ChainReport(
                    entries=count,
                    intact=False,
                    first_broken_seq=expected_seq,
                    reason=f"entry {expected_seq} is missing",
                )
            if row["prev_hash"] != expected_prev:
                return ChainReport(
                    entries=count,
                    intact=False,
                    first_broken_seq=seq,
                    reason="previous hash does not match",
                )
            if entry_hash(tenant_id, _fields(row)) != row["hash"]:
                return ChainReport(
                    entries=count,
                    intact=False,
                    first_broken_seq=seq,
                    reason="content does not match its hash",
                )
            expected_prev = row["hash"]
            expected_seq = seq + 1
            after = seq
    head = (
        await conn.execute(select(audit_head).where(audit_head.c.tenant_id == tenant_id))
    ).one_or_none()
    if head is not None and (int(head.seq), str(head.hash)) != (expected_seq - 1, expected_prev):
        return ChainReport(
            entries=count,
            intact=False,
            first_broken_seq=expected_seq,
            reason="entries after this one were removed",
        )
    return ChainReport(entries=count, intact=True)
