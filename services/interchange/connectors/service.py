"""Connectors: one axis connection per agency, with its health, backoff and rate limit.

Isolation between agencies comes from three things: every agency's polling and sending run as
jobs of their own (with their own timeout, `jobs.py`); a failure backs off only that agency's
connector (`record_failure`: capped exponential, jittered, stored in the row so every worker
sees it); and its rate limit is a window in its own row (`take_slot`)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from msgspec import UNSET
from sqlalchemy import case, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.problems import InvalidInput, NotFound
from services.interchange.axis.client import AxisClient, AxisCredentials
from services.interchange.axis.lgsp import LgspClient
from services.interchange.axis.mailbox import Mailbox
from services.interchange.connectors import signing
from services.interchange.connectors.schemas import ConnectorRequest, ConnectorView, Health
from services.interchange.connectors.signing import SigningRequest
from services.interchange.context import Context
from services.interchange.tables import connector, dead_letter, outgoing

DEFAULT_POLL_SECONDS = 300  # every 5 minutes, as production systems poll (spec §3.4)
DEFAULT_RATE_PER_MINUTE = 120
DEFAULT_TIMEOUT_SECONDS = 30.0
_ERROR_LIMIT = 1000
_WINDOW = dt.timedelta(minutes=1)


def backoff(ctx: Context, failures: int) -> dt.timedelta:
    """base * 2^(failures-1), capped, times a random factor in [0.5, 1): many connectors that
    failed together (the axis went down for all) do not all come back in the same second."""
    settings = ctx.settings
    exponent = min(max(failures - 1, 0), 30)
    delay = min(settings.backoff_cap_seconds, settings.backoff_base_seconds * 2**exponent)
    return dt.timedelta(seconds=delay * (0.5 + ctx.rng.random() / 2))


async def load(conn: AsyncConnection, tenant_id: uuid.UUID) -> Any:
    query = select(connector).where(connector.c.tenant_id == tenant_id)
    return (await conn.execute(query)).one_or_none()


def client(ctx: Context, row: Any) -> Mailbox:
    """The mailbox client of the connector's kind: the national axis, or a provincial LGSP."""
    credentials = AxisCredentials(system_id=row.system_id, secret=ctx.secrets.decrypt(row.secret))
    if row.kind == "lgsp":
        return LgspClient(
            row.endpoint,
            credentials,
            tokens=ctx.lgsp_tokens,
            http=ctx.axis_http,
            timeout=float(row.timeout_seconds),
            max_packet_bytes=ctx.settings.max_packet_bytes,
        )
    return AxisClient(
        row.endpoint,
        credentials,
        http=ctx.axis_http,
        timeout=float(row.timeout_seconds),
        max_packet_bytes=ctx.settings.max_packet_bytes,
    )


async def _health(conn: AsyncConnection, row: Any) -> Health:
    waiting = (
        await conn.execute(
            select(func.count(), func.min(outgoing.c.created_at)).where(
                outgoing.c.tenant_id == row.tenant_id, outgoing.c.state == "pending"
            )
        )
    ).one()
    letters = await conn.execute(
        select(func.count()).where(
            dead_letter.c.tenant_id == row.tenant_id, dead_letter.c.state == "open"
        )
    )
    return Health(
        last_poll_at=row.last_poll_at,
        next_poll_at=row.next_poll_at,
        last_success_at=row.last_success_at,
        last_error_at=row.last_error_at,
        last_error=row.last_error,
        failures=row.failures,
        retry_at=row.retry_at,
        axis_backlog=row.axis_backlog,
        outgoing_backlog=int(waiting[0]),
        oldest_waiting_since=waiting[1],
        dead_letters=int(letters.scalar_one()),
    )


async def _view(conn: AsyncConnection, row: Any) -> ConnectorView:
    return ConnectorView(
        tenant_id=row.tenant_id,
        kind=row.kind,
        endpoint=row.endpoint,
        system_id=row.system_id,
        secret_set=bool(row.secret),
        signing_set=row.signing_key is not None,
        signing=signing.view(row.signing_chain),
        agency_code=row.agency_code,
        enabled=row.enabled,
        poll_seconds=row.poll_seconds,
        rate_per_minute=row.rate_per_minute,
        timeout_seconds=row.timeout_seconds,
        created_at=row.created_at,
        updated_at=row.updated_at,
        health=await _health(conn, row),
    )


_FIELDS = (
    "kind",
    "endpoint",
    "system_id",
    "agency_code",
    "enabled",
    "poll_seconds",
    "rate_per_minute",
    "timeout_seconds",
)


def _given(body: ConnectorRequest) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in _FIELDS:
        value = getattr(body, name)
        if value is not UNSET:
            values[name] = value
    return values


async def upsert(ctx: Context, tenant_id: uuid.UUID, body: ConnectorRequest) -> ConnectorView:
    now = ctx.now()
    values = _given(body)
    if isinstance(body.secret, str):
        values["secret"] = ctx.secrets.encrypt(body.secret)
    async with ctx.db.transaction(tenant_id) as conn:
        current = (
            await conn.execute(
                select(connector).where(connector.c.tenant_id == tenant_id).with_for_update()
            )
        ).one_or_none()
        if current is None:
            missing = [n for n in ("endpoint", "system_id", "secret") if n not in values]
            if missing:
                raise InvalidInput(
                    f"Thiếu thông tin kết nối: {', '.join(missing)}.",
                    f"A new connector needs: {', '.join(missing)}.",
                )
            if "agency_code" not in values:
                agency = await ctx.agencies.by_id(tenant_id)
                if agency is None:
                    raise NotFound("Không có cơ quan này.", "No such agency.")
                values["agency_code"] = agency.code
            await conn.execute(
                insert(connector).values(
                    tenant_id=tenant_id,
                    kind=values.pop("kind", "vdxp"),
                    enabled=values.pop("enabled", True),
                    poll_seconds=values.pop("poll_seconds", DEFAULT_POLL_SECONDS),
                    rate_per_minute=values.pop("rate_per_minute", DEFAULT_RATE_PER_MINUTE),
                    timeout_seconds=values.pop("timeout_seconds", DEFAULT_TIMEOUT_SECONDS),
                    created_at=now,
                    updated_at=now,
                    next_poll_at=now,
                    **values,
                )
            )
        else:
            changes: dict[str, Any] = {**values, "updated_at": now}
            if {"endpoint", "system_id", "secret"} & values.keys() or values.get("enabled"):
                # New credentials or a re-enabled connector deserve an attempt now, not after
                # the backoff the old ones earned.
                changes |= {"failures": 0, "retry_at": None, "next_poll_at": now}
            await conn.execute(
                update(connector).where(connector.c.tenant_id == tenant_id).values(**changes)
            )
        row = await load(conn, tenant_id)
        return await _view(conn, row)


async def set_signing(ctx: Context, tenant_id: uuid.UUID, body: SigningRequest) -> ConnectorView:
    """Give the agency's connector the identity that signs its packets from now on. Checked
    whole before anything is written: a refusal changes nothing."""
    parsed = signing.parse(body)
    identity = signing.check(parsed, ctx.now())
    values = signing.stored_values(identity, parsed.chain, ctx.secrets)
    now = ctx.now()
    async with ctx.db.transaction(tenant_id) as conn:
        changed = await conn.execute(
            update(connector)
            .where(connector.c.tenant_id == tenant_id)
            .values(**values, signing_set_at=now, updated_at=now)
            .returning(connector.c.tenant_id)
        )
        if changed.first() is None:
            raise _no_connector()
        return await _view(conn, await load(conn, tenant_id))


async def clear_signing(ctx: Context, tenant_id: uuid.UUID) -> ConnectorView:
    """Stop signing the agency's packets (the key is dropped, not kept)."""
    now = ctx.now()
    async with ctx.db.transaction(tenant_id) as conn:
        changed = await conn.execute(
            update(connector)
            .where(connector.c.tenant_id == tenant_id)
            .values(signing_key=None, signing_chain=None, signing_set_at=None, updated_at=now)
            .returning(connector.c.tenant_id)
        )
        if changed.first() is None:
            raise _no_connector()
        return await _view(conn, await load(conn, tenant_id))


def _no_connector() -> NotFound:
    return NotFound("Cơ quan chưa có kết nối trục liên thông.", "The agency has no axis connector.")


async def read(ctx: Context, tenant_id: uuid.UUID) -> ConnectorView:
    async with ctx.db.transaction(tenant_id, read_only=True) as conn:
        row = await load(conn, tenant_id)
        if row is None:
            raise _no_connector()
        return await _view(conn, row)


async def poll_now(ctx: Context, tenant_id: uuid.UUID) -> None:
    """Ask a worker to poll the agency's mailbox now; an agency without a connector has none."""
    async with ctx.db.transaction(tenant_id, read_only=True) as conn:
        if await load(conn, tenant_id) is None:
            raise _no_connector()
    await ctx.jobs.poll(tenant_id)


async def list_all(ctx: Context) -> list[ConnectorView]:
    """Every agency's connector and health (operators; the relay role reads past RLS)."""
    if ctx.platform_db is None:
        raise NotFound("Chưa cấu hình quyền đọc toàn nền tảng.", "No platform reader configured.")
    async with ctx.platform_db.transaction(None, read_only=True) as conn:
        rows = (await conn.execute(select(connector).order_by(connector.c.agency_code))).all()
        return [await _view(conn, row) for row in rows]


async def record_success(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    now: dt.datetime,
    *,
    next_poll_at: dt.datetime | None = None,
    axis_backlog: int | None = None,
) -> None:
    values: dict[str, Any] = {"last_success_at": now, "failures": 0, "retry_at": None}
    if next_poll_at is not None:
        values |= {"last_poll_at": now, "next_poll_at": next_poll_at}
    if axis_backlog is not None:
        values["axis_backlog"] = axis_backlog
    await conn.execute(update(connector).where(connector.c.tenant_id == tenant_id).values(values))


async def record_failure(
    ctx: Context,
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    error: str,
    *,
    polled: bool,
    progressed: bool = False,
) -> dt.datetime:
    """Count a failure and back off; when the connector is tried again. A run that moved
    something before it failed (a flaky axis, not a dead one) starts the count again, so the
    backoff stays short while work gets through."""
    now = ctx.now()
    row = (
        await conn.execute(
            update(connector)
            .where(connector.c.tenant_id == tenant_id)
            .values(
                failures=1 if progressed else connector.c.failures + 1,
                last_error_at=now,
                last_error=error[:_ERROR_LIMIT],
            )
            .returning(connector.c.failures)
        )
    ).one()
    retry_at = now + backoff(ctx, int(row.failures))
    values: dict[str, Any] = {"retry_at": retry_at}
    if polled:
        values |= {"last_poll_at": now, "next_poll_at": retry_at}
    await conn.execute(update(connector).where(connector.c.tenant_id == tenant_id).values(values))
    return retry_at


async def take_slot(conn: AsyncConnection, tenant_id: uuid.UUID, now: dt.datetime) -> bool:
    """One send out of the connector's per-minute budget (a fixed window kept in its row)."""
    expired = or_(
        connector.c.rate_window_start.is_(None), connector.c.rate_window_start <= now - _WINDOW
    )
    taken = await conn.execute(
        update(connector)
        .where(
            connector.c.tenant_id == tenant_id,
            or_(expired, connector.c.rate_window_count < connector.c.rate_per_minute),
        )
        .values(
            rate_window_start=case((expired, now), else_=connector.c.rate_window_start),
            rate_window_count=case((expired, 1), else_=connector.c.rate_window_count + 1),
        )
        .returning(connector.c.tenant_id)
    )
    return taken.first() is not None


async def rotate_secrets(ctx: Context) -> int:
    """Re-encrypt every connector's secret (and packet-signing key) with the newest key; how
    many connectors were rewritten."""
    if ctx.platform_db is None:
        raise NotFound("Chưa cấu hình quyền đọc toàn nền tảng.", "No platform reader configured.")
    async with ctx.platform_db.transaction(None, read_only=True) as conn:
        tenants = (await conn.execute(select(connector.c.tenant_id))).scalars().all()
    for tenant_id in tenants:
        async with ctx.db.transaction(tenant_id) as conn:
            row = (
                await conn.execute(
                    select(connector.c.secret, connector.c.signing_key)
                    .where(connector.c.tenant_id == tenant_id)
                    .with_for_update()
                )
            ).one()
            values = {"secret": ctx.secrets.rotate(row.secret)}
            if row.signing_key is not None:
                values["signing_key"] = ctx.secrets.rotate(row.signing_key)
            await conn.execute(
                update(connector).where(connector.c.tenant_id == tenant_id).values(values)
            )
    return len(tenants)
