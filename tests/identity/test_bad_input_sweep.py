"""The whole identity API given bad input, as an operator and as a clerk: a 4xx problem every
time (tests/bad_input.py)."""

from __future__ import annotations

import pytest
from litestar import Litestar

from tests.bad_input import Findings, sweep
from tests.identity.conftest import Api


@pytest.mark.parametrize("username", ["vanhanh", "vanthu"])
async def test_no_bad_input_gets_a_server_error(
    api: Api, identity_app: Litestar, username: str
) -> None:
    findings = Findings()
    await sweep(api.client, identity_app, api.headers(username), findings)
    assert findings.refused_as_input > 100  # past authentication, to the operations' own checks
    assert findings.failures == [], "\n".join(findings.failures[:40])
