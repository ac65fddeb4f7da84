"""Packet signing per agency (spec §1.8): an operator gives an agency's connector its key and
certificate (PKCS#12 or PEM); every document and status packet the agency sends is then signed
with it, and the receiving platform records and shows who signed. Bad keys and certificates
are refused with a clear problem and change nothing; a signature that does not hold is refused
like any broken packet."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from sqlalchemy import select

from services.docs.incoming.schemas import Registration
from services.interchange.app import create_app
from services.interchange.edxml import build_document, read_document
from services.interchange.tables import connector, dead_letter, inbox, outgoing, packet
from tests.interchange.certificates import Ca, pem_body, pkcs12_body, rsa_key
from tests.interchange.conftest import ServedSimulator, make_identity
from tests.interchange.foreign import document
from tests.interchange.platforms import Instance, Tenant, prepare_second_database, principal
from tests.interchange.provinces import one_province, two_provinces


@pytest.fixture(scope="session")
def second_database() -> None:
    prepare_second_database()


@pytest.fixture(scope="session")
def operator(keycloak) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {keycloak.token('vanhanh')}"}


@pytest.fixture(scope="session")
def ca() -> Ca:
    return Ca()


@pytest.fixture(scope="session")
def key_a() -> rsa.RSAPrivateKey:
    return rsa_key()


@pytest.fixture(scope="session")
def key_b() -> rsa.RSAPrivateKey:
    return rsa_key()


@asynccontextmanager
async def interchange_api(instance: Instance) -> AsyncIterator[httpx.AsyncClient]:
    """The interchange HTTP API of one platform instance, in process."""
    app = create_app(instance.settings, interchange=instance.runtime)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://interchange.test"
        ) as client:
            yield client
    finally:
        await app.state["resources"].close()


def subject(certificate: x509.Certificate) -> str:
    return certificate.subject.rfc4514_string()


async def signing_columns(instance: Instance, tenant: Tenant) -> Any:
    async with instance.runtime.ctx.db.transaction(tenant.id, read_only=True) as conn:
        query = select(
            connector.c.signing_key,
            connector.c.signing_chain,
            connector.c.signing_set_at,
            connector.c.updated_at,
        )
        return (await conn.execute(query)).one()


async def test_two_platforms_exchange_a_signed_document_and_status_and_see_who_signed(
    second_database: None,
    served: ServedSimulator,
    operator: dict[str, str],
    ca: Ca,
    key_a: rsa.RSAPrivateKey,
    key_b: rsa.RSAPrivateKey,
) -> None:
    cert_a = ca.issue(key_a, "Văn thư UBND tỉnh A")
    cert_b = ca.issue(key_b, "Văn thư Sở Nội vụ tỉnh B")
    async with two_provinces(served.url) as provinces:
        a, b = provinces.a, provinces.b
        (ubnd,) = await provinces.agencies(a, "UBND tỉnh A")
        (so_nv,) = await provinces.agencies(b, "Sở Nội vụ tỉnh B")
        async with interchange_api(a) as api_a, interchange_api(b) as api_b:
            set_a = await api_a.put(
                f"/api/v1/connectors/{ubnd.id}/signing",
                json=pkcs12_body(key_a, cert_a, [ca.certificate], "mật-khẩu-tỉnh-A"),
                headers=operator,
            )
            set_b = await api_b.put(
                f"/api/v1/connectors/{so_nv.id}/signing",
                json=pem_body(key_b, [cert_b, ca.certificate]),
                headers=operator,
            )
            assert set_a.status_code == 200, set_a.text
            assert set_b.status_code == 200, set_b.text
            shown = set_a.json()
            assert shown["signing_set"] is True
            assert shown["signing"]["subject"] == subject(cert_a)
            assert shown["signing"]["issuer"] == subject(ca.certificate)
            assert shown["signing"]["serial_number"] == f"{cert_a.serial_number:x}"
            assert "PRIVATE KEY" not in set_a.text + set_b.text  # write-only

            await a.issue(ubnd, [so_nv], number=12)
            await provinces.settle()

            # The receiver recorded who signed the document, and shows it.
            (received,) = await b.rows(so_nv, inbox, inbox.c.kind == "edoc")
            assert received.signer_subject == subject(cert_a)
            assert received.signer_fingerprint == cert_a.fingerprint(hashes.SHA256()).hex()
            view = await api_b.get(
                f"/api/v1/connectors/{so_nv.id}/deliveries/{received.id}", headers=operator
            )
            assert view.status_code == 200, view.text
            assert view.json()["signed"] is True
            assert view.json()["signer_subject"] == subject(cert_a)

            # The receiver's statuses (01 on arrival, 03 on registration) come back signed by it.
            (landed,) = await b.documents(so_nv)
            await b.docs.register(so_nv.id, principal(so_nv), landed.id, Registration())
            await provinces.settle()

        statuses = await a.rows(ubnd, inbox, inbox.c.kind == "status")
        assert sorted(row.status_code for row in statuses) == ["01", "03"]
        assert {row.signer_subject for row in statuses} == {subject(cert_b)}
        (line,) = await a.rows(ubnd, outgoing)
        assert line.receipt_code == "03"
        # What the sender keeps is what it sent: signed with its own certificate.
        (kept,) = await a.rows(ubnd, packet)
        signature = read_document(bytes(kept.data)).signature
        assert signature is not None
        assert signature.subject == subject(cert_a)


def _wrong_password(ca: Ca, key: rsa.RSAPrivateKey) -> dict[str, Any]:
    body = pkcs12_body(key, ca.issue(key, "Văn thư"), [], "mật-khẩu-đúng")
    return body | {"password": "mật-khẩu-sai"}


def _not_pkcs12(ca: Ca, key: rsa.RSAPrivateKey) -> dict[str, Any]:
    return {"pkcs12": base64.b64encode(b"not a PKCS#12 file at all").decode(), "password": "x"}


def _key_mismatch(ca: Ca, key: rsa.RSAPrivateKey) -> dict[str, Any]:
    return pem_body(rsa_key(), [ca.issue(key, "Văn thư")])


def _expired(ca: Ca, key: rsa.RSAPrivateKey) -> dict[str, Any]:
    certificate = ca.issue(
        key, "Văn thư", valid_from=timedelta(days=-400), valid_to=timedelta(days=-35)
    )
    return pem_body(key, [certificate])


def _not_yet_valid(ca: Ca, key: rsa.RSAPrivateKey) -> dict[str, Any]:
    certificate = ca.issue(key, "Văn thư", valid_from=timedelta(days=2))
    return pkcs12_body(key, certificate, [ca.certificate], "mật-khẩu")


def _no_digital_signature(ca: Ca, key: rsa.RSAPrivateKey) -> dict[str, Any]:
    return pem_body(key, [ca.issue(key, "Văn thư", digital_signature=False)])


def _not_rsa(ca: Ca, key: rsa.RSAPrivateKey) -> dict[str, Any]:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    return pem_body(ec_key, [ca.issue(ec_key, "Văn thư")])


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_wrong_password, "wrong-password"),
        (_not_pkcs12, "unreadable"),
        (_key_mismatch, "key-mismatch"),
        (_expired, "expired"),
        (_not_yet_valid, "not-yet-valid"),
        (_no_digital_signature, "no-digital-signature"),
        (_not_rsa, "not-rsa"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
async def test_an_unusable_key_or_certificate_is_refused_and_changes_nothing(
    served: ServedSimulator,
    operator: dict[str, str],
    ca: Ca,
    key_a: rsa.RSAPrivateKey,
    make: Callable[[Ca, rsa.RSAPrivateKey], dict[str, Any]],
    reason: str,
) -> None:
    good = ca.issue(key_a, "Văn thư UBND huyện Thử")
    async with one_province(served.url) as province:
        (tenant,) = await province.agencies(province.a, "UBND huyện Thử")
        async with interchange_api(province.a) as api:
            first = await api.put(
                f"/api/v1/connectors/{tenant.id}/signing",
                json=pem_body(key_a, [good]),
                headers=operator,
            )
            assert first.status_code == 200, first.text
            before = await signing_columns(province.a, tenant)

            refused = await api.put(
                f"/api/v1/connectors/{tenant.id}/signing",
                json=make(ca, key_a),
                headers={**operator, "Accept-Language": "vi"},
            )

            assert refused.status_code == 422, refused.text
            problem = refused.json()
            assert problem["code"] == "signing-identity-invalid"
            assert problem["reason"] == reason
            assert problem["detail"]  # said in Vietnamese, plainly
            assert await signing_columns(province.a, tenant) == before
            still = await api.get(f"/api/v1/connectors/{tenant.id}", headers=operator)
            assert still.json()["signing"]["subject"] == subject(good)


async def test_without_a_signing_identity_packets_go_unsigned(
    served: ServedSimulator, operator: dict[str, str], ca: Ca, key_a: rsa.RSAPrivateKey
) -> None:
    async with one_province(served.url) as province:
        a = province.a
        ubnd, so_tc = await province.agencies(a, "UBND tỉnh A", "Sở Tài chính tỉnh A")
        async with interchange_api(a) as api:
            await api.put(
                f"/api/v1/connectors/{ubnd.id}/signing",
                json=pem_body(key_a, [ca.issue(key_a, "Văn thư UBND tỉnh A")]),
                headers=operator,
            )
            cleared = await api.delete(f"/api/v1/connectors/{ubnd.id}/signing", headers=operator)
            assert cleared.status_code == 200, cleared.text
            assert cleared.json()["signing_set"] is False
            assert cleared.json()["signing"] is None

            await a.issue(ubnd, [so_tc], number=3)  # inside the province: inbox to inbox
            await province.settle()

            (received,) = await a.rows(so_tc, inbox, inbox.c.kind == "edoc")
            assert received.signer_subject is None
            view = await api.get(
                f"/api/v1/connectors/{so_tc.id}/deliveries/{received.id}", headers=operator
            )
            assert view.json()["signed"] is False
        assert (await signing_columns(a, ubnd)).signing_key is None  # the key is gone, not kept


async def test_a_packet_whose_signature_does_not_hold_is_refused_and_recorded(
    served: ServedSimulator,
) -> None:
    async with one_province(served.url) as province:
        a = province.a
        (ubnd,) = await province.agencies(a, "UBND huyện Thử")
        foreign = await province.foreign()
        signed = build_document(
            document(foreign.code, [ubnd.code], 7), signer=make_identity("Sở KH&ĐT tỉnh C")
        )
        tampered = signed.replace(b"V/v ph", b"V/v Ph", 1)  # the subject, after signing
        await foreign.send(tampered, [ubnd.code])

        await province.settle()

        (letter,) = await a.rows(ubnd, dead_letter)
        assert letter.reason == "edxml-signature-invalid"
        assert letter.direction == "incoming"
        assert await a.rows(ubnd, inbox) == []
        assert await a.documents(ubnd) == []


async def test_malformed_foreign_and_unauthorised_requests_are_refused_and_change_nothing(
    served: ServedSimulator,
    operator: dict[str, str],
    keycloak: Any,
    ca: Ca,
    key_a: rsa.RSAPrivateKey,
) -> None:
    good = pem_body(key_a, [ca.issue(key_a, "Văn thư UBND huyện Sai")])
    clerk = {"Authorization": f"Bearer {keycloak.token('vanthu')}"}
    async with one_province(served.url) as province:
        (tenant,) = await province.agencies(province.a, "UBND huyện Sai")
        async with interchange_api(province.a) as api:
            path = f"/api/v1/connectors/{tenant.id}/signing"
            assert (await api.put(path, json=good, headers=operator)).status_code == 200
            before = await signing_columns(province.a, tenant)
            attempts = {
                "an agency's clerk": (clerk, good, 403),
                "both forms at once": (operator, {**good, "pkcs12": "AAAA", "password": "x"}, 400),
                "a field nobody knows": (operator, {**good, "note": "x"}, 400),
                "garbage instead of PKCS#12": (operator, {"pkcs12": "@@@", "password": "x"}, 422),
                "300 KiB of key": (operator, {**good, "private_key_pem": "A" * (300 << 10)}, 400),
            }
            for what, (headers, body, status) in attempts.items():
                refused = await api.put(path, json=body, headers=headers)
                assert refused.status_code == status, (what, refused.text)
                assert refused.headers["content-type"].startswith("application/problem+json")
            unknown = await api.put(
                f"/api/v1/connectors/{uuid.uuid4()}/signing", json=good, headers=operator
            )
            assert unknown.status_code == 404, unknown.text
            assert await signing_columns(province.a, tenant) == before
            # Another agency's delivery, or none at all, is not found: ids cannot be probed.
            foreign = await api.get(f"/api/v1/connector/deliveries/{tenant.id}", headers=clerk)
            assert foreign.status_code == 404, foreign.text
