"""The whole identity API given bad input, as an operator and as a clerk: a 4xx problem every
time (tests/bad_input.py)."""

from __future__ import annotations

import pytest
from litestar import Litestar

from tests.bad_input import Findings, operations, page_operations, sweep
from tests.identity.conftest import Api


@pytest.mark.parametrize("username", ["vanhanh", "vanthu"])
async def test_no_bad_input_gets_a_server_error(
    api: Api, identity_app: Litestar, username: str
) -> None:
    findings = Findings()
    await sweep(api.client, operations(identity_app), api.headers(username), findings)
    assert findings.refused_as_input > 100  # past authentication, to the operations' own checks
    assert findings.failures == [], "\n".join(findings.failures[:40])


async def test_the_login_pages_refuse_bad_input_without_a_server_error(
    api: Api, identity_app: Litestar
) -> None:
    """/auth: a browser arriving with a forged state, a junk code, a broken form (no session)."""
    findings = Findings(pages=True)
    await sweep(api.client, page_operations(identity_app, "/auth"), {}, findings)
    assert findings.refused_as_input > 30
    assert findings.failures == [], "\n".join(findings.failures[:40])
