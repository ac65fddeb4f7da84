"""The whole storage API given bad input, as the docs service acting for an agency: a 4xx
problem every time (tests/bad_input.py)."""

from __future__ import annotations

from tests.bad_input import Findings, operations, sweep
from tests.storage.conftest import Storage


async def test_no_bad_input_gets_a_server_error(storage: Storage) -> None:
    findings = Findings()
    app = storage.client._transport.app  # type: ignore[attr-defined]
    await sweep(storage.client, operations(app), storage.headers(), findings)
    assert findings.refused_as_input > 50  # past authentication, to the operations' own checks
    assert findings.failures == [], "\n".join(findings.failures[:40])
    assert await storage.rows() == 0  # and nothing was stored
