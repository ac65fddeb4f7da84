"""bench/numbering: gapless numbers per second under 50 concurrent clients, through the kernel's
tenant transaction and `next_number`, against a bare `UPDATE ... RETURNING` counter on raw
asyncpg connections in the same run (its table name is generated, never input). Both series
are checked afterwards: 1..N, no gap, no duplicate. Runs against the test database, in tenants
of its own."""

from __future__ import annotations

import asyncio
import os
import uuid

import asyncpg  # type: ignore[import-untyped]

from bench.common import BenchError, Result, detail, median, report, spread
from devstack.environment import TEST_DATABASE, service_environment

NAME = "numbering"
# The issue sets no target for this ratio. Both sides serialise on one row lock; the kernel's
# extra work between taking the number and COMMIT lengthens the locked section. 0.2 flags a
# regression of that section, not an aspiration.
TARGET = 0.2
CLIENTS = 50
PER_CLIENT = 20
ROUNDS = 3


def check_series(numbers: list[int], what: str) -> None:
    if sorted(numbers) != list(range(1, len(numbers) + 1)):
        duplicates = len(numbers) - len(set(numbers))
        raise BenchError(f"{what}: not 1..{len(numbers)} ({duplicates} duplicates)")


async def run() -> Result:
    os.environ.update(service_environment(TEST_DATABASE))
    from services.common.db import Database
    from services.docs.registers.numbering import next_number
    from services.docs.registers.service import OUTGOING, create_register
    from services.docs.settings import load

    settings = load()
    db = Database.from_url(settings.database_url, pool_size=CLIENTS)
    # The baseline's counter table is created by the schema owner (the app role owns nothing).
    dsn = settings.migration_database_url.replace("postgresql+asyncpg://", "postgresql://")
    pool = await asyncpg.create_pool(dsn, min_size=CLIENTS, max_size=CLIENTS)
    kernel_rates: list[float] = []
    raw_rates: list[float] = []
    loop = asyncio.get_running_loop()
    try:
        for _ in range(ROUNDS):
            tenant = uuid.uuid4()
            async with db.transaction(tenant) as conn:
                book = await create_register(conn, tenant, OUTGOING, "Sổ đo hiệu năng", False)
            numbers: list[int] = []

            async def kernel_client(
                tenant: uuid.UUID = tenant, book_id: uuid.UUID = book.id, out: list[int] = numbers
            ) -> None:
                for _ in range(PER_CLIENT):
                    async with db.transaction(tenant) as conn:
                        out.append(await next_number(conn, tenant, book_id, 2026))

            started = loop.time()
            await asyncio.gather(*(kernel_client() for _ in range(CLIENTS)))
            kernel_rates.append(len(numbers) / (loop.time() - started))
            check_series(numbers, "kernel")

            counter = f"bench_counter_{uuid.uuid4().hex[:8]}"
            async with pool.acquire() as conn:
                await conn.execute(
                    f"CREATE TABLE docs.{counter} (id int PRIMARY KEY, n int NOT NULL)"
                )
                await conn.execute(f"INSERT INTO docs.{counter} VALUES (1, 0)")  # noqa: S608
            raw: list[int] = []

            async def raw_client(table: str = counter, out: list[int] = raw) -> None:
                async with pool.acquire() as conn:
                    for _ in range(PER_CLIENT):
                        async with conn.transaction():
                            out.append(
                                await conn.fetchval(
                                    f"UPDATE docs.{table} SET n = n + 1 WHERE id = 1 "  # noqa: S608
                                    "RETURNING n"
                                )
                            )

            try:
                started = loop.time()
                await asyncio.gather(*(raw_client() for _ in range(CLIENTS)))
                raw_rates.append(len(raw) / (loop.time() - started))
                check_series(raw, "raw counter")
            finally:
                async with pool.acquire() as conn:
                    await conn.execute(f"DROP TABLE docs.{counter}")
    finally:
        await pool.close()
        await db.dispose()

    measured, baseline = median(kernel_rates), median(raw_rates)
    detail(
        NAME,
        f"{CLIENTS} concurrent clients x {PER_CLIENT}, {ROUNDS} rounds: next_number "
        f"{measured:.0f}/s ({spread(kernel_rates)}), bare UPDATE ... RETURNING {baseline:.0f}/s "
        f"({spread(raw_rates)}); every series 1..{CLIENTS * PER_CLIENT}, no gap, no duplicate",
    )
    result = Result(NAME, measured, baseline, "numbers/s", TARGET)
    report(result)
    return result


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
