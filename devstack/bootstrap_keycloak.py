"""Imports the QLVB realm from devstack/keycloak/qlvb-realm.json and the demo people of
devstack/demo-province.json into the local Keycloak, idempotently.

The realm carries the hash of the file it was imported from; when the file changes, the realm is
dropped and imported again (a development realm holds nothing worth keeping)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from keycloak import KeycloakAdmin

from devstack.environment import HERE, REALM, stack_values

REALM_FILE = HERE / "keycloak" / "qlvb-realm.json"
DEMO_FILE = HERE / "demo-province.json"
HASH_ATTRIBUTE = "qlvbRealmFileSha256"


def admin(realm: str) -> KeycloakAdmin:
    v = stack_values()
    return KeycloakAdmin(
        server_url=f"http://127.0.0.1:{v['QLVB_KEYCLOAK_PORT']}/",
        username=v["QLVB_KEYCLOAK_ADMIN"],
        password=v["QLVB_KEYCLOAK_ADMIN_PASSWORD"],
        realm_name=realm,
        user_realm_name="master",
    )


def import_realm() -> None:
    raw = REALM_FILE.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    master = admin("master")
    existing = {r["realm"]: r for r in master.get_realms()}
    if REALM in existing:
        if existing[REALM].get("attributes", {}).get(HASH_ATTRIBUTE) == digest:
            return
        master.delete_realm(REALM)
    payload: dict[str, Any] = json.loads(raw)
    payload.setdefault("attributes", {})[HASH_ATTRIBUTE] = digest
    master.create_realm(payload, skip_exists=False)


def membership_claims(demo: dict[str, Any], user: dict[str, Any]) -> list[str]:
    ids = {a["code"]: a["id"] for a in demo["agencies"]}
    return [
        json.dumps(
            {
                "agency_id": ids[m["agency_code"]],
                "agency_code": m["agency_code"],
                "roles": m["roles"],
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        for m in user["memberships"]
    ]


def ensure_demo_users() -> None:
    demo = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
    password = stack_values()["QLVB_DEMO_PASSWORD"]
    kc = admin(REALM)
    for user in demo["users"]:
        body = {
            "username": user["username"],
            "email": f"{user['username']}@demo.qlvb.vn",
            "emailVerified": True,
            "firstName": user["first_name"],
            "lastName": user["last_name"],
            "enabled": True,
            "attributes": {"membership": membership_claims(demo, user)},
        }
        user_id = kc.get_user_id(user["username"])
        if user_id is None:
            user_id = kc.create_user(
                body
                | {"credentials": [{"type": "password", "value": password, "temporary": False}]}
            )
        else:
            kc.update_user(user_id, body)
        wanted = set(user.get("platform_roles", []))
        if wanted:
            roles = [kc.get_realm_role(name) for name in sorted(wanted)]
            kc.assign_realm_roles(user_id, roles)


def main() -> None:
    import_realm()
    ensure_demo_users()


if __name__ == "__main__":
    main()
