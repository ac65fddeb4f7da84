"""bench/docs_register: paper documents received and registered through the docs API against
raw asyncpg INSERTs of the same rows, in the same run.

The API path is everything a clerk's request does: token check, validation, the document row,
the gapless arrival number, the default due date from the working-day calendar, the two audit
chain entries and the status event, in one transaction, and the card as the answer. The app is
called in process the way a server hands it a parsed request (`AsgiDriver`), so the figure is
the app's cost, not an HTTP client's. The baseline inserts the document row and takes the number
with one upsert, on one raw connection, in one transaction per document. Both run against the
test database, in the demo agency (the clerk `vanthu`), so the dev data of `make run` is not
touched."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import uuid
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx

from bench.common import AsgiDriver, BenchError, Result, detail, median, report, spread
from devstack.environment import TEST_DATABASE, service_environment, stack_values

NAME = "docs_register"
TARGET = 0.2
ROUNDS = 5
PER_ROUND = 60
UBND_TINH = "8ed2a563-ac2c-5215-80e1-ae060bf0f4a1"


# Each run numbers its documents afresh; the tag keeps them apart from earlier runs' (the
# duplicate check would otherwise refuse them).
RUN_TAG = uuid.uuid4().hex[:6].upper()


def body(index: int) -> dict[str, Any]:
    return {
        "sender_name": "Văn phòng Chính phủ",
        "sender_code": "000.00.00.G12",
        "number_symbol": f"{index}/VPCP-{RUN_TAG}",
        "doc_type": "CV",
        "issued_on": (dt.date.today() - dt.timedelta(days=2)).isoformat(),
        "subject": f"Về việc đẩy mạnh cải cách thủ tục hành chính, lần {index}",
        "signer": "Trần Văn Sơn",
    }


def clerk_token(env: dict[str, str]) -> str:
    response = httpx.post(
        f"{env['QLVB_OIDC_ISSUER']}/protocol/openid-connect/token",
        data={
            "grant_type": "password",
            "client_id": "qlvb-dev-cli",
            "username": "vanthu",
            "password": stack_values()["QLVB_DEMO_PASSWORD"],
        },
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


async def run() -> Result:
    env = service_environment(TEST_DATABASE)
    os.environ.update(env)
    from services.docs.app import create_app
    from services.docs.incoming.service import Member
    from services.docs.settings import load

    class NoAssignments:
        """Registration never asks who works where; assignments are not part of this bench."""

        async def member(self, tenant_id: uuid.UUID, username: str) -> Member | None:
            raise BenchError("the directory was consulted during registration")

    settings = load()
    app = create_app(settings, directory=NoAssignments())
    headers = {"Authorization": f"Bearer {clerk_token(env)}", "X-Agency-Id": UBND_TINH}
    dsn = settings.database_url.replace("postgresql+asyncpg://", "postgresql://")
    raw = await asyncpg.connect(dsn)
    tenant = uuid.UUID(UBND_TINH)
    register_id = uuid.uuid5(tenant, "bench:raw-register")
    counter = 0
    try:
        await raw.execute("BEGIN")
        await raw.execute(f"SET LOCAL app.tenant_id = '{tenant}'")
        await raw.execute(
            "INSERT INTO docs.register (tenant_id, id, direction, name) "
            "VALUES ($1, $2, 'incoming', 'Sổ đo hiệu năng') ON CONFLICT DO NOTHING",
            tenant,
            register_id,
        )
        await raw.execute("COMMIT")
        insert_document = await raw.prepare(
            "INSERT INTO docs.document (tenant_id, id, direction, state, source, register_id, "
            "arrival_year, arrival_number, arrived_at, sender_name, sender_code, number_symbol, "
            "doc_type, issued_on, subject, signer, urgency, confidentiality, created_by) "
            "VALUES ($1, $2, 'incoming', 'registered', 'paper', $3, $4, $5, now(), $6, $7, $8, "
            "$9, $10, $11, $12, 'normal', 'normal', 'bench')"
        )
        take_number = await raw.prepare(
            "INSERT INTO docs.register_counter (tenant_id, register_id, year, last_number) "
            "VALUES ($1, $2, $3, 1) ON CONFLICT (tenant_id, register_id, year) "
            "DO UPDATE SET last_number = docs.register_counter.last_number + 1 "
            "RETURNING last_number"
        )

        async def raw_one() -> None:
            nonlocal counter
            counter += 1
            values = body(counter)
            await raw.execute(f"BEGIN; SET LOCAL app.tenant_id = '{tenant}'")
            year = dt.date.today().year
            number = await take_number.fetchval(tenant, register_id, year)
            await insert_document.fetch(
                tenant,
                uuid.uuid4(),
                register_id,
                year,
                number,
                values["sender_name"],
                values["sender_code"],
                values["number_symbol"],
                values["doc_type"],
                dt.date.fromisoformat(values["issued_on"]),
                values["subject"],
                values["signer"],
            )
            await raw.execute("COMMIT")

        # In process, as a server hands the app a parsed request: the app's cost, not a client's.
        driver = AsgiDriver(app, headers)

        async def api_one() -> None:
            nonlocal counter
            counter += 1
            status, answer = await driver.request(
                "POST",
                "/api/v1/incoming",
                headers={"content-type": "application/json"},
                body=json.dumps(body(counter)).encode(),
            )
            if status != 201:
                raise BenchError(f"HTTP {status}: {answer[:300]!r}")

        for _ in range(10):
            await api_one()
            await raw_one()
        api_rates: list[float] = []
        raw_rates: list[float] = []
        loop = asyncio.get_running_loop()
        for _ in range(ROUNDS):
            for rates, one in ((api_rates, api_one), (raw_rates, raw_one)):
                started = loop.time()
                for _ in range(PER_ROUND):
                    await one()
                rates.append(PER_ROUND / (loop.time() - started))
        await app.state["resources"].close()
    finally:
        await raw.close()

    measured, baseline = median(api_rates), median(raw_rates)
    detail(
        NAME,
        f"{ROUNDS} alternating rounds of {PER_ROUND}: API {measured:.0f} registrations/s "
        f"({spread(api_rates)}), raw asyncpg {baseline:.0f} inserts/s ({spread(raw_rates)})",
    )
    result = Result(NAME, measured, baseline, "registrations/s", TARGET)
    report(result)
    return result


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
