"""First-login passwords: an agency admin issues a temporary password that the real Keycloak
accepts only to make the person choose their own; it is shown once and never recorded."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import httpx
from litestar import Litestar

from services.common.db import Database
from services.identity.keycloak_sync.client import KeycloakGateway
from services.identity.keycloak_sync.desired import Scope
from services.identity.keycloak_sync.reconcile import reconcile
from tests.identity.conftest import PROVINCE, Api
from tests.identity.test_people import person_body


def password_grant(keycloak: Any, username: str, password: str) -> httpx.Response:
    return httpx.post(
        f"{keycloak.issuer}/protocol/openid-connect/token",
        data={
            "grant_type": "password",
            "client_id": "qlvb-dev-cli",
            "username": username,
            "password": password,
        },
        timeout=30,
    )


async def test_an_admin_issues_a_password_the_person_must_change(
    api: Api, identity_app: Litestar, identity_db: Database, keycloak: Any
) -> None:
    created = await api.post("quantri", "/api/v1/people", person_body())
    assert created.status_code == 201, created.text
    person = created.json()
    issue = f"/api/v1/people/{person['id']}/temporary-password"

    # Not yet pushed to Keycloak: nothing to set a password on.
    early = await api.post("quantri", issue)
    assert early.status_code == 409, early.text
    assert "đồng bộ" in early.json()["detail"]

    gateway: KeycloakGateway = identity_app.state.accounts
    scope = Scope(username_prefix=person["username"], agency_ids=frozenset())
    try:
        pushed = await reconcile(identity_db, gateway, scope=scope)
        assert pushed.counts.users_created == 1, pushed.counts

        # Only admins issue passwords.
        refused = await api.post("chuyenvien", issue)
        assert refused.status_code == 403, refused.text

        issued = await api.post("quantri", issue)
        assert issued.status_code == 200, issued.text
        assert issued.headers["cache-control"] == "no-store"
        body = issued.json()
        assert body["username"] == person["username"]
        assert body["must_change"] is True
        assert re.fullmatch(
            r"[A-HJ-NP-Za-km-z2-9]{4}(-[A-HJ-NP-Za-km-z2-9]{4}){2}", body["password"]
        )

        # Keycloak knows the password, and makes the person set their own before any token.
        first = password_grant(keycloak, person["username"], body["password"])
        assert first.status_code == 400, first.text
        assert first.json()["error_description"] == "Account is not fully set up"
        wrong = password_grant(keycloak, person["username"], body["password"] + "x")
        assert wrong.json()["error_description"] == "Invalid user credentials"

        # A second issue replaces the first.
        again = (await api.post("quantri", issue)).json()
        assert again["password"] != body["password"]
        stale = password_grant(keycloak, person["username"], body["password"])
        assert stale.json()["error_description"] == "Invalid user credentials"

        # The trail says who issued it, twice, and never what.
        trail = await api.audit(PROVINCE, person["id"], action="person.password_issued")
        assert [e["action"] for e in trail] == ["person.password_issued"] * 2
        assert trail[0]["actor_username"] == "quantri"
        recorded = json.dumps(trail)
        assert body["password"] not in recorded
        assert again["password"] not in recorded
    finally:
        account = await gateway.find_user(person["username"])
        if account is not None:
            await gateway.delete_user(account.id)


async def test_an_admin_reaches_only_the_people_of_their_agency(api: Api) -> None:
    elsewhere = await api.agency()
    stranger = await api.person(uuid.UUID(elsewhere["id"]))
    response = await api.post("quantri", f"/api/v1/people/{stranger['id']}/temporary-password")
    assert response.status_code == 404, response.text
    missing = await api.post("quantri", f"/api/v1/people/{uuid.uuid4()}/temporary-password")
    assert missing.status_code == 404, missing.text
