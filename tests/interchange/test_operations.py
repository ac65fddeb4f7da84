"""What operators do: set up connectors (the secret never comes back), watch their health, list
dead letters across agencies and replay them, from the API and from the command line; and the
key rotation of connector secrets."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from services.interchange.app import create_app
from services.interchange.connectors.secrets import SecretBox, SecretUnreadable
from services.interchange.edxml import build_document
from services.interchange.tables import connector, dead_letter, outgoing
from tests.bad_input import Findings, operations, sweep
from tests.interchange.conftest import ServedSimulator
from tests.interchange.foreign import document
from tests.interchange.platforms import Tenant, rounds
from tests.interchange.provinces import Provinces, inject, one_province

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def province(served: ServedSimulator) -> AsyncIterator[Provinces]:
    async with one_province(served.url) as opened:
        yield opened


@pytest.fixture
async def api(province: Provinces) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(province.a.settings, interchange=province.a.runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://interchange.test") as client:
        yield client
    await app.state["resources"].close()


@pytest.fixture(scope="session")
def operator(keycloak) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {keycloak.token('vanhanh')}"}


@pytest.fixture(scope="session")
def clerk(keycloak) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {keycloak.token('vanthu')}"}


async def qlvb(*args: str) -> tuple[int, str]:
    """The `qlvb` command in a process of its own, against the test database."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli",
        *args,
        cwd=REPO,
        env=os.environ.copy(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode()


async def test_an_operator_sets_up_a_connector_whose_secret_never_comes_back(
    province: Provinces, api: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    (tenant,) = await province.agencies(province.a, "Sở Xây dựng", connect=False)
    system = province.systems["A"]
    body = {
        "kind": "vdxp",
        "endpoint": province.axis_url,
        "system_id": system.system_id,
        "secret": system.secret,
        "poll_seconds": 60,
    }

    created = await api.put(f"/api/v1/connectors/{tenant.id}", json=body, headers=operator)

    assert created.status_code == 200, created.text
    view = created.json()
    assert view["secret_set"] is True
    assert system.secret not in created.text
    assert view["agency_code"] == tenant.code  # from the identity registry
    assert view["health"]["outgoing_backlog"] == 0
    async with province.a.runtime.ctx.db.transaction(tenant.id, read_only=True) as conn:
        stored = (await conn.execute(select(connector.c.secret))).scalar_one()
    assert system.secret.encode() not in stored  # encrypted at rest
    listed = await api.get("/api/v1/connectors", headers=operator)
    assert tenant.code in {c["agency_code"] for c in listed.json()}
    changed = await api.put(
        f"/api/v1/connectors/{tenant.id}", json={"enabled": False}, headers=operator
    )
    assert changed.json()["enabled"] is False
    assert changed.json()["system_id"] == system.system_id  # the rest kept


async def test_an_operator_polls_an_agency_now_and_only_one_with_a_connector(
    province: Provinces, api: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    connected, unconnected = await province.agencies(province.a, "Sở Nội vụ", "Sở Y tế")
    async with province.a.runtime.ctx.db.transaction(unconnected.id) as conn:
        await conn.execute(connector.delete())

    polled = await api.post(f"/api/v1/connectors/{connected.id}/poll", headers=operator)
    without = await api.post(f"/api/v1/connectors/{unconnected.id}/poll", headers=operator)
    unknown = await api.post(f"/api/v1/connectors/{uuid.uuid4()}/poll", headers=operator)

    assert polled.status_code == 202, polled.text
    for refused in (without, unknown):
        assert refused.status_code == 404, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")


async def test_connectors_are_for_operators_and_need_credentials_to_start(
    province: Provinces, api: httpx.AsyncClient, operator: dict[str, str], clerk: dict[str, str]
) -> None:
    (tenant,) = await province.agencies(province.a, "Sở Công Thương", connect=False)

    refused = await api.put(
        f"/api/v1/connectors/{tenant.id}", json={"endpoint": "http://x.test/"}, headers=clerk
    )
    incomplete = await api.put(
        f"/api/v1/connectors/{tenant.id}", json={"endpoint": "http://x.test/"}, headers=operator
    )
    malformed = await api.put(
        f"/api/v1/connectors/{tenant.id}",
        json={"endpoint": "ftp://x", "system_id": "s", "secret": "k"},
        headers=operator,
    )

    assert refused.status_code == 403
    assert incomplete.status_code == 400
    assert "secret" in incomplete.json()["detail"]
    assert malformed.status_code == 400


async def _no_connector_letter(province: Provinces) -> tuple[Tenant, Tenant, uuid.UUID]:
    """An agency without a connector sends outside the platform: a dead letter."""
    a = province.a
    (sender,) = await province.agencies(a, "Sở Tư pháp", connect=False)
    outside = await province.foreign()
    await a.issue(sender, [outside.code], number=5)
    await rounds(province.bus, 3)
    (letter,) = await province.a.rows(sender, dead_letter)
    assert letter.reason == "no-connector"
    return sender, Tenant(id=uuid.uuid4(), code=outside.code, name="ngoài"), letter.id


async def test_an_operator_lists_and_replays_a_dead_letter_after_fixing_its_cause(
    province: Provinces, api: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    sender, _, letter_id = await _no_connector_letter(province)

    listed = await api.get(
        "/api/v1/operator/dead-letters", params={"agency_id": str(sender.id)}, headers=operator
    )
    assert [(row["id"], row["reason"]) for row in listed.json()] == [
        (str(letter_id), "no-connector")
    ]
    system = province.systems["A"]
    await api.put(
        f"/api/v1/connectors/{sender.id}",
        json={
            "endpoint": province.axis_url,
            "system_id": system.system_id,
            "secret": system.secret,
        },
        headers=operator,
    )
    replayed = await api.post(
        f"/api/v1/operator/dead-letters/{sender.id}/{letter_id}/replay", headers=operator
    )
    await province.settle()

    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["state"] == "replayed"
    (line,) = await province.a.rows(sender, outgoing)
    assert line.state == "sent"
    assert line.route == "axis"
    again = await api.post(
        f"/api/v1/operator/dead-letters/{sender.id}/{letter_id}/replay", headers=operator
    )
    assert again.status_code == 409  # a letter is replayed once
    still_open = await api.get(
        "/api/v1/operator/dead-letters", params={"agency_id": str(sender.id)}, headers=operator
    )
    assert still_open.json() == []


async def test_the_command_line_lists_and_replays_dead_letters(province: Provinces) -> None:
    sender, _, letter_id = await _no_connector_letter(province)
    await province.a.connect(sender, province.axis_url, province.systems["A"])

    code, listing = await qlvb("dead-letters", "list", "--agency", str(sender.id))
    assert code == 0, listing
    assert str(letter_id) in listing
    assert "no-connector" in listing
    code, replay = await qlvb("dead-letters", "replay", str(letter_id))
    assert code == 0, replay
    assert "replayed" in replay
    await province.settle()

    (line,) = await province.a.rows(sender, outgoing)
    assert line.state == "sent"


async def test_a_replay_that_is_refused_again_keeps_the_letter_open_with_the_reason(
    province: Provinces, served: ServedSimulator
) -> None:
    (ubnd,) = await province.agencies(province.a, "UBND huyện Thử")
    foreign = await province.foreign()
    packet = build_document(document(foreign.code, ["000.00.00.G22"], 6))
    inject(served, sender=foreign.code, recipient=ubnd.code, data=packet)
    await province.settle()
    (letter,) = await province.a.rows(ubnd, dead_letter)

    replayed = await province.a.runtime.replay(ubnd.id, letter.id)

    assert replayed.state == "open"
    assert replayed.replays == 1
    assert (replayed.replay_error or "").startswith("not-addressed-to-us")


def test_secrets_survive_a_key_rotation() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    before = SecretBox([old])
    token = before.encrypt("bí-mật-hệ-thống")
    during = SecretBox([new, old])  # the new key in front, the old one still there

    rotated = during.rotate(token)

    assert during.decrypt(token) == "bí-mật-hệ-thống"
    assert SecretBox([new]).decrypt(rotated) == "bí-mật-hệ-thống"
    with pytest.raises(SecretUnreadable):
        SecretBox([new]).decrypt(token)


@pytest.mark.parametrize("who", ["operator", "clerk"])
async def test_no_bad_input_gets_a_server_error(
    api: httpx.AsyncClient, who: str, request: pytest.FixtureRequest
) -> None:
    """The whole interchange API given bad input: a 4xx problem every time
    (tests/bad_input.py)."""
    findings = Findings()
    app = api._transport.app  # type: ignore[attr-defined]
    await sweep(api, operations(app), request.getfixturevalue(who), findings)
    assert findings.refused_as_input > 50  # past authentication, to the operations' own checks
    assert findings.failures == [], "\n".join(findings.failures[:40])
