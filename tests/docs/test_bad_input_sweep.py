"""The whole docs API given bad input, as a clerk and as a leader: a 4xx problem every time."""

from __future__ import annotations

import pytest

from tests.bad_input import Findings, operations, sweep
from tests.docs.conftest import Docs


@pytest.mark.parametrize("username", ["vanthu", "chutich"])
async def test_no_bad_input_gets_a_server_error(docs: Docs, username: str) -> None:
    findings = Findings()
    app = docs.client._transport.app  # type: ignore[attr-defined]
    await sweep(docs.client, operations(app), docs.as_(username), findings)
    assert findings.refused_as_input > 500  # past authentication, to the operations' own checks
    assert findings.failures == [], "\n".join(findings.failures[:40])
