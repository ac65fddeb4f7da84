"""Events: written with the business change, relayed at least once, applied exactly once."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.db import Database
from services.common.outbox import (
    Event,
    EventConsumer,
    OutboxRelay,
    decode_event,
    publish,
    stream_name,
)
from services.identity.tables import department, outbox, processed_event


@pytest.fixture
async def relay_db() -> AsyncIterator[Database]:
    db = Database.from_url(os.environ["QLVB_IDENTITY_RELAY_DATABASE_URL"], pool_size=2)
    yield db
    await db.dispose()


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(os.environ["QLVB_REDIS_URL"])
    yield client
    await client.aclose()


@pytest.fixture
def topic() -> str:
    # A topic of its own keeps this test's stream apart from every other run.
    return f"test.{uuid.uuid4().hex}"


async def add_department_for(conn: AsyncConnection, event: Event) -> None:
    """The consumer's effect: one new row per application, so a second application shows."""
    await conn.execute(
        insert(department).values(
            tenant_id=event.tenant_id,
            id=uuid.uuid4(),
            name=str(event.payload["name"]),
            short_name="EV",
        )
    )


async def count_effects(db: Database, tenant: uuid.UUID) -> int:
    async with db.transaction(tenant, read_only=True) as conn:
        return (
            await conn.execute(
                select(func.count()).select_from(department).where(department.c.short_name == "EV")
            )
        ).scalar_one()


def consumer(redis: Redis, db: Database, topic: str, **kwargs: object) -> EventConsumer:
    return EventConsumer(
        redis=redis,
        db=db,
        processed=processed_event,
        group="test-consumer",
        topics=[topic],
        handler=add_department_for,
        **kwargs,  # type: ignore[arg-type]
    )


async def publish_events(db: Database, tenant: uuid.UUID, topic: str, count: int) -> None:
    async with db.transaction(tenant) as conn:
        for i in range(count):
            await publish(conn, outbox, tenant, topic, {"name": f"Sự kiện {i}"})


async def test_event_of_rolled_back_transaction_is_never_relayed(
    identity_db: Database, relay_db: Database, redis: Redis, tenant: uuid.UUID, topic: str
) -> None:
    with pytest.raises(RuntimeError):
        async with identity_db.transaction(tenant) as conn:
            await publish(conn, outbox, tenant, topic, {"name": "không bao giờ"})
            raise RuntimeError("business rule failed")
    await OutboxRelay(relay_db, redis, outbox).relay_once()
    assert await redis.xlen(stream_name(topic)) == 0


async def test_each_event_is_applied_once(
    identity_db: Database, relay_db: Database, redis: Redis, tenant: uuid.UUID, topic: str
) -> None:
    await publish_events(identity_db, tenant, topic, 5)
    c = consumer(redis, identity_db, topic)
    await c.ensure_groups()
    relay = OutboxRelay(relay_db, redis, outbox)
    while await relay.relay_once():
        pass
    assert await c.consume_once(block_ms=100) == 5
    assert await count_effects(identity_db, tenant) == 5


async def test_relay_killed_before_marking_published_causes_no_double_effect(
    identity_db: Database,
    relay_db: Database,
    redis: Redis,
    tenant: uuid.UUID,
    topic: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await publish_events(identity_db, tenant, topic, 3)
    c = consumer(redis, identity_db, topic)
    await c.ensure_groups()
    relay = OutboxRelay(relay_db, redis, outbox)

    # The relay dies after the stream accepted the events and before its database transaction
    # committed: the rows stay unpublished and will be sent again.
    import services.common.outbox as outbox_module

    def crash(*args: object, **kwargs: object) -> object:
        raise ConnectionError("relay killed")

    monkeypatch.setattr(outbox_module, "update", crash)
    with pytest.raises(ConnectionError):
        await relay.relay_once()
    monkeypatch.undo()
    assert await redis.xlen(stream_name(topic)) == 3
    while await relay.relay_once():
        pass
    assert await redis.xlen(stream_name(topic)) == 6  # every event twice on the stream
    await c.consume_once(block_ms=100)
    assert await count_effects(identity_db, tenant) == 3


async def test_consumer_killed_before_acknowledging_is_replayed_without_double_effect(
    identity_db: Database,
    relay_db: Database,
    redis: Redis,
    tenant: uuid.UUID,
    topic: str,
) -> None:
    await publish_events(identity_db, tenant, topic, 2)
    await OutboxRelay(relay_db, redis, outbox).relay_once()
    first = consumer(redis, identity_db, topic, consumer="first")
    await first.ensure_groups()
    # `first` reads and applies but dies before XACK: the entries stay pending for it.
    entries = await redis.xreadgroup("test-consumer", "first", {stream_name(topic): ">"}, count=10)
    for _, items in entries:
        for _, fields in items:
            assert await first._apply(decode_event(fields))
    assert await count_effects(identity_db, tenant) == 2
    # A second consumer reclaims the idle entries, applies nothing twice, and acknowledges.
    second = consumer(redis, identity_db, topic, consumer="second", claim_idle_ms=0)
    assert await second.consume_once(block_ms=100) == 2
    assert await count_effects(identity_db, tenant) == 2
    pending = await redis.xpending(stream_name(topic), "test-consumer")
    assert pending["pending"] == 0


async def test_outbox_rows_are_tenant_scoped_for_the_app_role(
    identity_db: Database,
    tenant: uuid.UUID,
    new_tenant,
    topic: str,  # type: ignore[no-untyped-def]
) -> None:
    other = await new_tenant()
    await publish_events(identity_db, tenant, topic, 1)
    async with identity_db.transaction(other, read_only=True) as conn:
        seen = (
            await conn.execute(
                select(func.count()).select_from(outbox).where(outbox.c.topic == topic)
            )
        ).scalar_one()
    assert seen == 0


async def test_a_failing_event_holds_up_nothing_and_is_dead_lettered_in_the_end(
    identity_db: Database,
    relay_db: Database,
    redis: Redis,
    tenant: uuid.UUID,
    topic: str,
) -> None:
    async def fails_on_poison(conn: AsyncConnection, event: Event) -> None:
        if event.payload["name"] == "Sự kiện 1":
            raise RuntimeError("this event cannot be applied")
        await add_department_for(conn, event)

    await publish_events(identity_db, tenant, topic, 3)
    await OutboxRelay(relay_db, redis, outbox).relay_once()
    reader = EventConsumer(
        redis=redis,
        db=identity_db,
        processed=processed_event,
        group="test-consumer",
        topics=[topic],
        handler=fails_on_poison,
        claim_idle_ms=0,
        max_deliveries=3,
    )
    await reader.ensure_groups()
    # The events around the poisoned one are applied in the same pass.
    assert await reader.consume_once(block_ms=100) == 2
    assert await count_effects(identity_db, tenant) == 2
    # The poisoned one is retried (reclaimed at once here) until its third delivery fails.
    for _ in range(5):
        await reader.consume_once(block_ms=100)
    assert (await redis.xpending(stream_name(topic), "test-consumer"))["pending"] == 0
    [(_, dead)] = await redis.xrange(f"qlvb:dead:{topic}")
    assert decode_event(dead).payload["name"] == "Sự kiện 1"
    assert b"cannot be applied" in dead[b"reason"]
    assert await count_effects(identity_db, tenant) == 2
    await redis.delete(f"qlvb:dead:{topic}")
