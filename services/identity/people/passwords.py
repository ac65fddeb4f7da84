"""First-login and forgotten passwords: a temporary password the agency admin hands over.

The platform has no mail server it can count on, so an admin (or an operator) issues a
one-time password, reads it to the person or hands it over on paper, and Keycloak makes the
person choose their own at the next login (the UPDATE_PASSWORD required action). The password
is shown once, in the answer, and stored nowhere but in Keycloak's hash; issuing one ends the
person's open sessions, and the audit trail records who issued it, never the password."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.problems import Conflict
from services.identity.audit.service import Actor, record
from services.identity.keycloak_sync.client import KeycloakGateway
from services.identity.people.service import lock_person

PASSWORD_ISSUED = "person.password_issued"  # noqa: S105 (an audit action name)
# No 0/O, 1/l/I: the password is read out over the phone or copied from paper.
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
_GROUPS = 3
_GROUP_LENGTH = 4


class TemporaryPassword(msgspec.Struct, kw_only=True):
    person_id: uuid.UUID
    username: str
    password: str
    must_change: bool
    issued_at: dt.datetime


def generate() -> str:
    """Twelve characters from 55 symbols (about 69 bits), in groups of four for reading out."""
    return "-".join(
        "".join(secrets.choice(_ALPHABET) for _ in range(_GROUP_LENGTH)) for _ in range(_GROUPS)
    )


async def issue(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    actor: Actor,
    person_id: uuid.UUID,
    accounts: KeycloakGateway,
    *,
    member_of: uuid.UUID | None,
) -> TemporaryPassword:
    row = await lock_person(conn, person_id, member_of)
    if not row.enabled:
        raise Conflict(
            "Tài khoản đang bị khóa; hãy mở khóa trước khi cấp mật khẩu.",
            "The account is disabled; enable it before issuing a password.",
        )
    if row.keycloak_id is None:
        raise Conflict(
            "Tài khoản chưa được đồng bộ sang hệ thống đăng nhập; hãy thử lại sau vài phút.",
            "The account has not reached the login server yet; try again in a few minutes.",
        )
    # Recorded first: should Keycloak refuse, the transaction and its record roll back.
    await record(
        conn,
        tenant_id,
        actor,
        PASSWORD_ISSUED,
        "person",
        person_id,
        before=None,
        after={"username": row.username, "must_change": True},
    )
    password = generate()
    await accounts.set_temporary_password(str(row.keycloak_id), password)
    # Whoever holds the old password (or a session opened with it) is out.
    await accounts.logout(str(row.keycloak_id))
    return TemporaryPassword(
        person_id=person_id,
        username=row.username,
        password=password,
        must_change=True,
        issued_at=dt.datetime.now(dt.UTC),
    )
