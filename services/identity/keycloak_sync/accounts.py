"""Disabling a person ends their Keycloak account at once: the `person.disabled` and
`person.enabled` events (people/service.py) are consumed here, outside the periodic
reconciliation, so the account is disabled and its sessions are ended within moments.

The handler applies the person's state as the database holds it when the event is handled, not
the state the event carried: events of one person may be handled late or out of order (a
disable quickly undone), and the database is the truth. Access tokens already issued stay
valid until they expire (5 minutes), because services verify them locally; refresh tokens and
sessions end now, and Keycloak tells the clients by back-channel logout."""

from __future__ import annotations

import logging
import uuid
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.outbox import Event, Handler
from services.identity.keycloak_sync.client import KeycloakGateway, KeycloakRefusal
from services.identity.people.service import PERSON_DISABLED, PERSON_ENABLED
from services.identity.tables import person

logger = logging.getLogger("qlvb.identity.keycloak_sync")

# The consumer group of the account-state handler, and what it reads.
ACCOUNT_STATE_GROUP = "identity-keycloak-accounts"
ACCOUNT_STATE_TOPICS = [PERSON_DISABLED, PERSON_ENABLED]

Outcome = Literal["unknown-person", "no-account", "disabled", "enabled", "unchanged"]


async def push_account_state(
    conn: AsyncConnection, gateway: KeycloakGateway, person_id: uuid.UUID
) -> Outcome:
    """Makes the account's `enabled` what the person's is, and ends a disabled person's
    sessions (every time: ending no sessions is harmless, and a session may have begun
    between the disable and now). An account not yet created is left to the reconciliation,
    which creates it in the person's state."""
    row = (
        await conn.execute(
            select(person.c.username, person.c.enabled, person.c.keycloak_id).where(
                person.c.id == person_id
            )
        )
    ).first()
    if row is None:
        return "unknown-person"
    account = await gateway.get_user(str(row.keycloak_id)) if row.keycloak_id else None
    if account is None or account.username != row.username:
        account = await gateway.find_user(row.username)
        if account is None:
            return "no-account"
        await conn.execute(
            update(person).where(person.c.id == person_id).values(keycloak_id=account.id)
        )
    outcome: Outcome = "unchanged"
    if account.enabled != row.enabled:
        # A representation without attributes changes only what it names.
        await gateway.update_user(
            account.id, {"username": account.username, "enabled": row.enabled}
        )
        outcome = "enabled" if row.enabled else "disabled"
    if not row.enabled:
        await gateway.logout(account.id)
    return outcome


def account_state_handler(gateway: KeycloakGateway) -> Handler:
    """The `EventConsumer` handler. Keycloak being unreachable raises (the event is retried);
    a refusal of one request (the account deleted meanwhile) is logged and the event is done."""

    async def handle(conn: AsyncConnection, event: Event) -> None:
        person_id = uuid.UUID(str(event.payload["person_id"]))
        try:
            outcome = await push_account_state(conn, gateway, person_id)
        except KeycloakRefusal as refusal:
            logger.warning(
                "keycloak_account_state_refused",
                extra={"person_id": str(person_id), "status": refusal.status},
            )
            return
        logger.info(
            "keycloak_account_state",
            extra={"person_id": str(person_id), "topic": event.topic, "outcome": outcome},
        )

    return handle
