"""Deliveries from the interchange service arrive through Redis Streams, land once in the
waiting queue, and a refused one goes back to the sender as a status."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select

from services.common.db import Database
from services.common.outbox import Event, EventConsumer, encode_event, stream_name
from services.docs.consumers import DELIVERY_RECEIVED, on_delivery
from services.docs.tables import document, outbox, processed_event


@pytest.fixture
async def wiring() -> AsyncIterator[tuple[Database, Redis, EventConsumer, str]]:
    db = Database.from_url(os.environ["QLVB_DOCS_DATABASE_URL"], pool_size=2)
    redis = Redis.from_url(os.environ["QLVB_REDIS_URL"])
    # A group of its own, so that events of other runs or of `make run` are not taken here.
    group = f"docs-test-{uuid.uuid4().hex[:8]}"
    consumer = EventConsumer(
        redis=redis,
        db=db,
        processed=processed_event,
        group=group,
        topics=[DELIVERY_RECEIVED],
        handler=on_delivery,
        claim_idle_ms=60_000,
    )
    await consumer.ensure_groups()
    # Start after what is already in the stream.
    await redis.xgroup_setid(stream_name(DELIVERY_RECEIVED), group, id="$")
    yield db, redis, consumer, group
    await redis.xgroup_destroy(stream_name(DELIVERY_RECEIVED), group)
    await redis.aclose()
    await db.dispose()


def delivery(tenant: uuid.UUID, delivery_id: uuid.UUID, **fields: object) -> Event:
    body = {
        "sender_name": "Sở Tài chính tỉnh Lào Cai",
        "sender_code": "000.00.05.H29",
        "number_symbol": "1234/STC-NS",
        "doc_type": "CV",
        "issued_on": (dt.date.today() - dt.timedelta(days=1)).isoformat(),
        "subject": "Về việc thẩm định dự toán",
        **fields,
    }
    return Event(
        id=uuid.uuid4(),
        topic=DELIVERY_RECEIVED,
        tenant_id=tenant,
        occurred_at=dt.datetime.now(dt.UTC),
        payload={
            "delivery_id": str(delivery_id),
            "edxml_document_id": "EDX-1",
            "fields": body,
            "files": [],
        },
    )


async def waiting(db: Database, tenant: uuid.UUID) -> int:
    async with db.transaction(tenant, read_only=True) as conn:
        count = await conn.execute(
            select(func.count()).select_from(document).where(document.c.state == "waiting")
        )
        return int(count.scalar_one())


async def test_a_delivery_lands_once_even_when_sent_again(wiring) -> None:  # type: ignore[no-untyped-def]
    db, redis, consumer, _ = wiring
    tenant, delivery_id = uuid.uuid4(), uuid.uuid4()
    first = delivery(tenant, delivery_id)
    stream = stream_name(DELIVERY_RECEIVED)
    await redis.xadd(stream, encode_event(first))
    await redis.xadd(stream, encode_event(first))  # the relay resent the same event
    await redis.xadd(stream, encode_event(delivery(tenant, delivery_id)))  # sent twice upstream
    handled = 0
    for _ in range(10):
        handled += await consumer.consume_once(block_ms=100)
        if handled >= 3:
            break
    assert handled == 3
    assert await waiting(db, tenant) == 1


async def test_a_confidential_delivery_is_refused_to_the_sender(wiring) -> None:  # type: ignore[no-untyped-def]
    db, redis, consumer, _ = wiring
    tenant, delivery_id = uuid.uuid4(), uuid.uuid4()
    await redis.xadd(
        stream_name(DELIVERY_RECEIVED),
        encode_event(delivery(tenant, delivery_id, confidentiality="mat")),
    )
    for _ in range(10):
        if await consumer.consume_once(block_ms=100):
            break
    assert await waiting(db, tenant) == 0
    async with db.transaction(tenant, read_only=True) as conn:
        [payload] = (await conn.execute(select(outbox.c.payload))).scalars().all()
    assert payload["status"] == "rejected"
    assert payload["delivery_id"] == str(delivery_id)
    assert "mật" in payload["reason"]


async def test_a_malformed_delivery_is_refused_not_retried_forever(wiring) -> None:  # type: ignore[no-untyped-def]
    db, redis, consumer, _ = wiring
    tenant, delivery_id = uuid.uuid4(), uuid.uuid4()
    broken = delivery(tenant, delivery_id, issued_on="hôm qua")
    await redis.xadd(stream_name(DELIVERY_RECEIVED), encode_event(broken))
    for _ in range(10):
        if await consumer.consume_once(block_ms=100):
            break
    assert await waiting(db, tenant) == 0
    async with db.transaction(tenant, read_only=True) as conn:
        [payload] = (await conn.execute(select(outbox.c.payload))).scalars().all()
    assert payload["status"] == "rejected"
    assert "issued_on" in payload["reason"]
