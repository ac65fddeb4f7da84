"""Signatures in the outgoing flow, end to end with real tokens, real keys and a real PKI (the
test PKI of tests/signing, served over HTTP with its CRLs, OCSP responder and TSA): reviewers'
initials, the leader's signature, the number and date written into the PDF, the agency's seal;
every refusal; a key the server never holds (prepare, then complete); and after issue, the
revocation the recipients answer, the update and the replacement."""

# ruff: noqa: F811
# (The signing tests' fixtures are imported below, and fixtures are requested by argument name.)

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import io
import os
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from asn1crypto import algos, cms, pem, x509  # type: ignore[import-untyped]
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.writer import PdfFileWriter
from redis.asyncio import Redis
from sqlalchemy import select

from services.common.auth.service_tokens import ServiceTokens
from services.common.db import Database
from services.common.outbox import Event, EventConsumer, encode_event, stream_name
from services.docs.app import create_app as create_docs
from services.docs.consumers import DELIVERY_STATUS, on_delivery_status
from services.docs.files.storage_client import StorageClient
from services.docs.incoming.directory import IdentityDirectory
from services.docs.outgoing.agencies import IdentityAgencies
from services.docs.settings import load as load_docs
from services.docs.signatures.delegations import IdentityDelegations
from services.docs.signatures.forms import date_text
from services.docs.signing import TrustStore, Verdict, validate_pdf
from services.docs.tables import outbox, processed_event
from services.identity.app import create_app as create_identity
from services.interchange.deliveries.outbound import decode_issued
from services.storage.app import create_app as create_storage
from tests.docs.conftest import UBND_TINH, Docs, person_id
from tests.signing.conftest import Poppler, nss_db, pdfsig_blocks, pki, poppler  # noqa: F401
from tests.signing.documents import initials_png, seal_png, signature_png
from tests.signing.pki import PASSPHRASE, SigningPki
from tests.storage.conftest import storage_settings

STC, SNV = "000.00.05.H44", "000.00.09.H44"
BO_NOI_VU = "000.00.00.G09"
XA = "07c7e4ab-dbea-5483-8930-cfa839d6beae"
PIN = PASSPHRASE.decode()


# --------------------------------------------------------------------------- documents


def header_draft(pages: int = 2) -> bytes:
    """An A4 draft laid out as Phụ lục I: the header lines at the top, ô 3 and ô 4 left
    empty for the number and date, the content below them, room for the signature block at
    the bottom of the last page."""
    writer = PdfFileWriter()
    font = writer.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Font"),
                pdf_name("/Subtype"): pdf_name("/Type1"),
                pdf_name("/BaseFont"): pdf_name("/Helvetica"),
            }
        )
    )
    for number in range(1, pages + 1):
        ops = [b"BT /F1 12 Tf 90 800 Td (UY BAN NHAN DAN TINH PHU THO) Tj ET"]
        ops.append(b"BT /F1 12 Tf 330 800 Td (CONG HOA XA HOI CHU NGHIA VIET NAM) Tj ET")
        ops.append(b"BT /F1 11 Tf 85 680 Td 14 TL")
        ops += [b"(Dieu %d. Noi dung thu nghiem cua trang %d.) '" % (i, number) for i in range(20)]
        ops.append(b"ET")
        content = writer.add_object(generic.StreamObject(stream_data=b"\n".join(ops)))
        writer.insert_page(
            generic.DictionaryObject(
                {
                    pdf_name("/Type"): pdf_name("/Page"),
                    pdf_name("/MediaBox"): generic.ArrayObject(
                        [generic.NumberObject(v) for v in (0, 0, 595, 842)]
                    ),
                    pdf_name("/Resources"): generic.DictionaryObject(
                        {pdf_name("/Font"): generic.DictionaryObject({pdf_name("/F1"): font})}
                    ),
                    pdf_name("/Contents"): content,
                }
            )
        )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def pem_chain(pki: SigningPki, label: str) -> str:
    certificates = [pki.cert(label), *pki.chain(label)]
    return b"".join(pem.armor("CERTIFICATE", c.dump()) for c in certificates).decode()


def private_key(pki: SigningPki, label: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pki.private_key_pem(label), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def device_signs(pki: SigningPki, label: str, data: bytes) -> bytes:
    """What the signer's USB token (or remote signing service) returns: PKCS#1 v1.5."""
    return private_key(pki, label).sign(data, padding.PKCS1v15(), hashes.SHA256())


def as_cms(pki: SigningPki, label: str, signed_attributes: bytes) -> bytes:
    """The same signature the way some desktop plugins return it: a CMS SignedData."""
    certificate: x509.Certificate = pki.cert(label)
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                        {"issuer": certificate.issuer, "serial_number": certificate.serial_number}
                    )
                }
            ),
            "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
            "signed_attrs": cms.CMSAttributes.load(signed_attributes),
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "rsassa_pkcs1v15"}),
            "signature": device_signs(pki, label, signed_attributes),
        }
    )
    signed_data = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
            "encap_content_info": {"content_type": "data"},
            "certificates": [certificate],
            "signer_infos": [signer_info],
        }
    )
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump())


# --------------------------------------------------------------------------- the services


@dataclass
class Desk:
    docs: Docs
    identity: httpx.AsyncClient
    pki: SigningPki
    trust: TrustStore

    async def call(
        self, method: str, path: str, user: str, expect: int | None = None, **kwargs: Any
    ) -> Any:
        headers = {**self.docs.as_(user), **kwargs.pop("headers", {})}
        response = await self.docs.client.request(method, path, headers=headers, **kwargs)
        if expect is not None:
            assert response.status_code == expect, (path, response.text)
        return response

    async def content(self, object_id: str) -> bytes:
        response = await self.docs.storage.get(
            f"/api/v1/objects/{object_id}/content", headers=await self._service()
        )
        response.raise_for_status()
        return response.content

    async def stored(self, object_id: str) -> dict[str, Any]:
        response = await self.docs.storage.get(
            f"/api/v1/objects/{object_id}", headers=await self._service()
        )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    async def _service(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {await self.docs.service_token.token()}",
            "X-Agency-Id": UBND_TINH,
        }


@pytest.fixture(scope="module")
def trust_files(pki: SigningPki, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The operator's trust configuration: the test root, and its CAs to build chains."""
    directory = tmp_path_factory.mktemp("trust")
    root = directory / "root.pem"
    root.write_bytes(pem.armor("CERTIFICATE", pki.root.dump()))
    intermediates = directory / "intermediates.pem"
    intermediates.write_bytes(
        b"".join(pem.armor("CERTIFICATE", c.dump()) for c in pki.intermediates)
    )
    return root, intermediates


@pytest.fixture(scope="module")
def admin_token(keycloak) -> str:  # type: ignore[no-untyped-def]
    return str(keycloak.token("quantri"))


@contextlib.asynccontextmanager
async def desk_app(
    pki: SigningPki,
    trust_files: tuple[Path, Path],
    user_tokens: Mapping[str, str],
    **settings_changes: Any,
) -> AsyncIterator[Desk]:
    """The docs service in-process over the test PKI, with `settings_changes` applied."""
    root, intermediates = trust_files
    identity_app = create_identity()
    identity_http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=identity_app), base_url="http://identity.test"
    )
    settings = msgspec.structs.replace(
        load_docs(),
        signing_trust_roots=str(root),
        signing_intermediates=str(intermediates),
        signing_tsa_url=pki.tsa_url,
        issued_retention_days=2,
        **settings_changes,
    )
    keycloak_http = httpx.AsyncClient(timeout=30)
    tokens = ServiceTokens(settings.oidc, settings.client_id, settings.client_secret, keycloak_http)
    storage_app = create_storage(storage_settings())
    storage_http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=storage_app), base_url="http://storage.test"
    )
    app = create_docs(
        settings,
        directory=IdentityDirectory("http://identity.test", identity_http, tokens),
        agencies=IdentityAgencies("http://identity.test", identity_http, tokens),
        storage=StorageClient("http://storage.test", storage_http, tokens),
        delegations=IdentityDelegations("http://identity.test", identity_http),
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://docs.test"
    ) as client:
        docs = Docs(client, user_tokens, storage_http, tokens)
        trust = TrustStore(roots=(pki.root,), intermediates=tuple(pki.intermediates))
        yield Desk(docs, identity_http, pki, trust)
    await storage_http.aclose()
    await storage_app.state["resources"].close()
    await identity_http.aclose()
    await keycloak_http.aclose()
    await app.state["resources"].close()
    await identity_app.state["resources"].close()


@pytest.fixture
async def desk(
    province: dict[str, Any],
    user_tokens: dict[str, str],
    admin_token: str,
    pki: SigningPki,
    trust_files: tuple[Path, Path],
) -> AsyncIterator[Desk]:
    async with desk_app(pki, trust_files, {**user_tokens, "quantri": admin_token}) as built:
        yield built


async def enrol(
    desk: Desk, user: str, label: str, *, position: str = "", remote: bool = False
) -> Any:
    """`user` enrols a key of the test PKI (the agency's seal when `user` is the admin)."""
    agency = user == "quantri"
    body: dict[str, Any] = {
        "image_png": b64(seal_png() if agency else signature_png()),
        "initials_png": None if agency else b64(initials_png()),
        "position": position,
    }
    if remote:
        body["certificate"] = pem_chain(desk.pki, label)
    else:
        body |= {"pkcs12": b64(desk.pki.pkcs12(label)), "pin": PIN}
    path = "/api/v1/signing/credentials/" + ("agency" if agency else "me")
    return await desk.call("PUT", path, user, json=body)


@pytest.fixture
async def enrolled(desk: Desk) -> Desk:
    for user, label, position in (
        ("truongphong", "reviewer", "Trưởng phòng"),
        ("chutich", "leader", "Chủ tịch"),
        ("phochutich", "citizen", "Phó Chủ tịch"),
        ("quantri", "agency", ""),
    ):
        enrolled = await enrol(desk, user, label, position=position)
        assert enrolled.status_code == 200, enrolled.text
    return desk


# --------------------------------------------------------------------------- the flow


async def draft(desk: Desk, subject: str, **changes: Any) -> dict[str, Any]:
    file = await desk.docs.stored(f"{subject}.pdf", header_draft())
    body: dict[str, Any] = {
        "doc_type": "QĐ",
        "subject": subject,
        "signer": "chutich",
        "authority": "TM.",
        "file": file,
        "recipients": [{"code": STC}, {"code": SNV}, {"code": BO_NOI_VU, "name": "Bộ Nội vụ"}],
    }
    body.update(changes)
    return dict((await desk.call("POST", "/api/v1/outgoing", "chuyenvien", 201, json=body)).json())


def pending(card: dict[str, Any], kind: str) -> str:
    return str(
        next(s["id"] for s in card["steps"] if s["kind"] == kind and s["state"] == "pending")
    )


async def reviewed(desk: Desk, subject: str, **changes: Any) -> dict[str, Any]:
    """Drafted, submitted, content and form approved: waiting for the leader."""
    card = await draft(desk, subject, **changes)
    oid = card["id"]
    card = (
        await desk.call(
            "POST",
            f"/api/v1/outgoing/{oid}/submit",
            "chuyenvien",
            200,
            json={"content_reviewer": "truongphong", "form_reviewer": "vanthu"},
        )
    ).json()
    for kind, user in (("content_review", "truongphong"), ("form_review", "vanthu")):
        card = (
            await desk.call(
                "POST",
                f"/api/v1/outgoing/{oid}/steps/{pending(card, kind)}/approve",
                user,
                200,
                json={},
            )
        ).json()
    return dict(card)


async def issued(desk: Desk, subject: str, **changes: Any) -> dict[str, Any]:
    card = await reviewed(desk, subject, **changes)
    oid = card["id"]
    await desk.call("POST", f"/api/v1/outgoing/{oid}/sign", "chutich", 200, json={"pin": PIN})
    return dict(
        (
            await desk.call(
                "POST", f"/api/v1/outgoing/{oid}/issue", "vanthu", 200, json={"pin": PIN}
            )
        ).json()
    )


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert (response.status_code, response.json()["code"]) == (status, code), response.text
    body: dict[str, Any] = response.json()
    return body


async def issued_events(outgoing_id: str) -> list[dict[str, Any]]:
    db = Database.from_url(os.environ["QLVB_DOCS_DATABASE_URL"], pool_size=1)
    try:
        async with db.transaction(uuid.UUID(UBND_TINH), read_only=True) as conn:
            rows = await conn.execute(
                select(outbox.c.payload).where(outbox.c.topic == "document.issued")
            )
            return [r.payload for r in rows if r.payload["outgoing_id"] == outgoing_id]
    finally:
        await db.dispose()


# --------------------------------------------------------------------------- tests


async def test_draft_opinions_initials_leader_number_seal_issue(
    enrolled: Desk, poppler: Poppler
) -> None:
    desk = enrolled
    card = await draft(desk, "Quyết định ban hành quy chế văn thư điện tử")
    oid = card["id"]
    asked = await desk.call(
        "POST",
        f"/api/v1/outgoing/{oid}/opinions",
        "chuyenvien",
        200,
        json={"assignees": ["truongphong", "phochutich"]},
    )
    opinion = next(s["id"] for s in asked.json()["steps"] if s["assignee"] == "truongphong")
    await desk.call(
        "POST",
        f"/api/v1/outgoing/{oid}/opinions/{opinion}",
        "truongphong",
        200,
        json={"answer": "agree", "comment": "Thống nhất"},
    )
    card = (
        await desk.call(
            "POST",
            f"/api/v1/outgoing/{oid}/submit",
            "chuyenvien",
            200,
            json={"content_reviewer": "truongphong", "form_reviewer": "vanthu"},
        )
    ).json()
    # Initials belong to the reviewer whose step is pending: not yet the office's.
    early = await desk.call("POST", f"/api/v1/outgoing/{oid}/initials", "vanthu", json={"pin": PIN})
    assert early.status_code == 403
    draft_sha = card["current_file"]["sha256"]
    initialled = (
        await desk.call(
            "POST",
            f"/api/v1/outgoing/{oid}/initials",
            "truongphong",
            200,
            json={"pin": PIN, "document_sha256": draft_sha},
        )
    ).json()
    assert [s["kind"] for s in initialled["signatures"]] == ["initials"]
    assert initialled["current_file"]["sha256"] != draft_sha
    twice = await desk.call(
        "POST", f"/api/v1/outgoing/{oid}/initials", "truongphong", json={"pin": PIN}
    )
    problem(twice, 409, "already-signed")
    card = initialled
    for kind, user in (("content_review", "truongphong"), ("form_review", "vanthu")):
        step = pending(card, kind)
        card = (
            await desk.call(
                "POST", f"/api/v1/outgoing/{oid}/steps/{step}/approve", user, 200, json={}
            )
        ).json()
    # The leader signs what they were shown; the signature approves the draft.
    card = (
        await desk.call(
            "POST",
            f"/api/v1/outgoing/{oid}/sign",
            "chutich",
            200,
            json={"pin": PIN, "document_sha256": card["current_file"]["sha256"]},
        )
    ).json()
    assert card["state"] == "approved"
    assert {s["kind"]: s["state"] for s in card["steps"] if s["kind"] != "opinion"} == {
        "content_review": "approved",
        "form_review": "approved",
        "approval": "approved",
    }
    final = (
        await desk.call("POST", f"/api/v1/outgoing/{oid}/issue", "vanthu", 200, json={"pin": PIN})
    ).json()

    assert final["state"] == "issued"
    symbol = final["number_symbol"]
    assert symbol.endswith("/QĐ-UBND")
    initials, leader, seal = final["signatures"]
    assert (initials["kind"], leader["kind"], seal["kind"]) == ("initials", "leader", "seal")
    assert (leader["signer"], leader["method"], leader["acting_for"]) == ("chutich", "pkcs12", None)
    assert "Nguyễn Văn Bình" in leader["certificate_subject"]
    assert (seal["signer"], seal["number_symbol"]) == ("vanthu", symbol)
    assert final["current_file"]["sha256"] == seal["sha256"]

    pdf = await desk.content(seal["object_id"])
    report = await validate_pdf(pdf, desk.trust)
    assert report.verdict is Verdict.VALID, [s.problems for s in report.signatures]
    assert [s.field_name for s in report.signatures] == ["ky-nhay-noi-dung", "lanh-dao", "con-dau"]
    assert [s.signer.common_name for s in report.signatures] == [
        "Trần Thị Thu Hà",
        "Nguyễn Văn Bình",
        "Ủy ban nhân dân tỉnh Hưng Yên",
    ]
    assert [s.level for s in report.signatures] == ["B-T", "B-T", "B-LT"]
    # Filling in the number and date is form filling, which the leader's signature allows.
    assert [s.later_changes.value for s in report.signatures] == [
        "signatures",
        "signatures",
        "validation-data",
    ]
    first_page = poppler.text(pdf, page=1)
    assert f"Số: {symbol}" in first_page
    assert date_text(dt.date.fromisoformat(final["issued_on"])) in first_page
    last_page = poppler.text(pdf, page=2)
    assert "TM. ỦY BAN NHÂN DÂN TỈNH PHÚ THỌ" in last_page
    assert "CHỦ TỊCH" in last_page
    assert "Đỗ Văn Quốc" in last_page
    blocks = [b for b in pdfsig_blocks(poppler.pdfsig(pdf)) if "Signature Validation" in b]
    assert len(blocks) == 3
    assert all("Signature is Valid." in b for b in blocks)

    [event] = await issued_events(oid)
    assert event["files"][0]["sha256"] == seal["sha256"]
    assert event["files"][0]["file_name"] == symbol.replace("/", "-") + ".pdf"
    locked = await desk.stored(seal["object_id"])
    assert locked["locked_until"] is not None


async def test_issuing_without_the_required_signatures_is_refused(enrolled: Desk) -> None:
    desk = enrolled
    card = await reviewed(desk, "Quyết định chưa ký")
    oid = card["id"]
    # The leader approves without signing: the document cannot be issued.
    await desk.call(
        "POST",
        f"/api/v1/outgoing/{oid}/steps/{pending(card, 'approval')}/approve",
        "chutich",
        200,
        json={},
    )
    refused = await desk.call("POST", f"/api/v1/outgoing/{oid}/issue", "vanthu", json={})
    body = problem(refused, 409, "signature-required")
    assert "người có thẩm quyền" in body["detail"]
    unsealed = await desk.call("POST", f"/api/v1/outgoing/{oid}/seal", "vanthu", json={"pin": PIN})
    problem(unsealed, 409, "signature-required")
    card = (await desk.call("GET", f"/api/v1/outgoing/{oid}", "vanthu", 200)).json()
    assert (card["state"], card["number_symbol"], card["signatures"]) == ("approved", None, [])

    await desk.call("POST", f"/api/v1/outgoing/{oid}/sign", "chutich", 200, json={"pin": PIN})
    # Sent over the network, it needs the agency's signature too.
    refused = await desk.call("POST", f"/api/v1/outgoing/{oid}/issue", "vanthu", json={})
    body = problem(refused, 409, "signature-required")
    assert "chữ ký số của cơ quan" in body["detail"]
    # Only a clerk applies the agency's signature.
    not_clerk = await desk.call(
        "POST", f"/api/v1/outgoing/{oid}/seal", "chutich", json={"pin": PIN}
    )
    assert not_clerk.status_code == 403
    wrong = await desk.call("POST", f"/api/v1/outgoing/{oid}/issue", "vanthu", json={"pin": "9999"})
    problem(wrong, 400, "wrong-pin")
    card = (await desk.call("GET", f"/api/v1/outgoing/{oid}", "vanthu", 200)).json()
    assert (card["state"], [s["kind"] for s in card["signatures"]]) == ("approved", ["leader"])
    sealed = (
        await desk.call("POST", f"/api/v1/outgoing/{oid}/seal", "vanthu", 200, json={"pin": PIN})
    ).json()
    assert [s["kind"] for s in sealed["signatures"]] == ["leader", "seal"]
    final = (
        await desk.call("POST", f"/api/v1/outgoing/{oid}/issue", "vanthu", 200, json={})
    ).json()
    # The number written into the PDF before the seal is the one issued.
    assert final["number_symbol"] == sealed["signatures"][-1]["number_symbol"]

    # An internal document goes nowhere over the network: the leader's signature suffices.
    internal = await reviewed(desk, "Thông báo nội bộ", internal=True, recipients=[])
    await desk.call(
        "POST", f"/api/v1/outgoing/{internal['id']}/sign", "chutich", 200, json={"pin": PIN}
    )
    done = await desk.call(
        "POST", f"/api/v1/outgoing/{internal['id']}/issue", "vanthu", 200, json={}
    )
    assert done.json()["state"] == "issued"


async def test_a_paper_original_signed_by_hand_needs_only_the_agency_signature(
    enrolled: Desk,
) -> None:
    """Signed on paper with a number reserved for it: the clerk seals the scan for the
    electronic recipients, with that number."""
    desk = enrolled
    reserved = (
        await desk.call("POST", "/api/v1/outgoing/reservations", "vanthu", 201, json={})
    ).json()
    [number] = reserved["numbers"]
    card = await reviewed(desk, "Quyết định ký tay")
    oid = card["id"]
    await desk.call(
        "POST",
        f"/api/v1/outgoing/{oid}/steps/{pending(card, 'approval')}/approve",
        "chutich",
        200,
        json={},
    )
    final = (
        await desk.call(
            "POST",
            f"/api/v1/outgoing/{oid}/issue",
            "vanthu",
            200,
            json={"pin": PIN, "reserved_number": number},
        )
    ).json()
    assert final["number_symbol"] == f"{number:02d}/QĐ-UBND"
    assert [s["kind"] for s in final["signatures"]] == ["seal"]
    report = await validate_pdf(await desk.content(final["current_file"]["object_id"]), desk.trust)
    assert report.verdict is Verdict.VALID
    assert [s.field_name for s in report.signatures] == ["con-dau"]


async def test_a_draft_the_leader_signed_no_longer_changes(enrolled: Desk) -> None:
    desk = enrolled
    card = await reviewed(desk, "Quyết định đã ký không sửa")
    oid = card["id"]
    await desk.call("POST", f"/api/v1/outgoing/{oid}/sign", "chutich", 200, json={"pin": PIN})
    file = await desk.docs.stored("Bản sửa.pdf", header_draft())
    edited = await desk.call(
        "POST", f"/api/v1/outgoing/{oid}/versions", "chuyenvien", json={"file": file}
    )
    problem(edited, 409, "draft-signed")
    again = await desk.call("POST", f"/api/v1/outgoing/{oid}/sign", "chutich", json={"pin": PIN})
    problem(again, 409, "already-signed")


async def test_wrong_pins_and_unusable_certificates_are_refused(enrolled: Desk) -> None:
    desk = enrolled
    card = await reviewed(desk, "Quyết định thử khóa ký")
    sign = f"/api/v1/outgoing/{card['id']}/sign"

    wrong = problem(
        await desk.call("POST", sign, "chutich", json={"pin": "000000"}), 400, "wrong-pin"
    )
    assert wrong["detail"].startswith("Mã PIN không đúng")
    await enrol(desk, "chutich", "expired")
    problem(await desk.call("POST", sign, "chutich", json={"pin": PIN}), 400, "certificate-expired")
    await enrol(desk, "chutich", "revoked")
    problem(await desk.call("POST", sign, "chutich", json={"pin": PIN}), 400, "certificate-revoked")
    problem(await enrol(desk, "chutich", "no-sign-usage"), 400, "key-usage-missing")
    card = (await desk.call("GET", f"/api/v1/outgoing/{card['id']}", "chutich", 200)).json()
    assert (card["state"], card["signatures"]) == ("in_review", [])

    # Five wrong PINs in a row lock the key, as a token locks itself.
    await enrol(desk, "chutich", "leader", position="Chủ tịch")
    for _ in range(4):
        problem(await desk.call("POST", sign, "chutich", json={"pin": "000000"}), 400, "wrong-pin")
    locked = await desk.call("POST", sign, "chutich", json={"pin": "000000"})
    problem(locked, 403, "signing-credential-locked")
    problem(
        await desk.call("POST", sign, "chutich", json={"pin": PIN}),
        403,
        "signing-credential-locked",
    )
    listed = (await desk.call("GET", "/api/v1/signing/credentials", "chutich", 200)).json()
    mine = next(c for c in listed if c["owner"] == "chutich")
    assert mine["locked"] is True
    assert "pkcs12" not in mine
    assert "sealed_key" not in mine
    # Enrolled again (a new key from the CA), it signs.
    await enrol(desk, "chutich", "leader", position="Chủ tịch")
    await desk.call("POST", sign, "chutich", 200, json={"pin": PIN})


async def test_only_the_designated_signer_or_their_delegate_signs(enrolled: Desk) -> None:
    desk = enrolled
    card = await reviewed(desk, "Quyết định ký thay")
    sign = f"/api/v1/outgoing/{card['id']}/sign"
    problem(await desk.call("POST", sign, "phochutich", json={"pin": PIN}), 403, "not-the-signer")
    leader_id = await person_id("chutich")
    acting = {"X-Acting-For": str(leader_id)}
    chutich = {"Authorization": f"Bearer {desk.docs.tokens['chutich']}", "X-Agency-Id": UBND_TINH}
    # Delegations other tests left in force would overlap the one made below.
    for earlier in (await desk.identity.get("/api/v1/delegations/active", headers=chutich)).json():
        if earlier["delegator_username"] == "chutich":
            await desk.identity.post(f"/api/v1/delegations/{earlier['id']}/revoke", headers=chutich)
    undelegated = await desk.call("POST", sign, "phochutich", json={"pin": PIN}, headers=acting)
    assert undelegated.status_code == 403, undelegated.text
    now = dt.datetime.now(dt.UTC)
    delegation = await desk.identity.post(
        "/api/v1/delegations",
        headers=chutich,
        json={
            "delegate_id": str(await person_id("phochutich")),
            "starts_at": (now - dt.timedelta(minutes=1)).isoformat(),
            "ends_at": (now + dt.timedelta(hours=1)).isoformat(),
            "scope": "Ký văn bản khi Chủ tịch đi công tác",
        },
    )
    assert delegation.status_code == 201, delegation.text
    try:
        # The delegate's own certificate, the delegator on record.
        response = await desk.docs.client.post(
            sign, json={"pin": PIN}, headers={**desk.docs.as_("phochutich"), **acting}
        )
        assert response.status_code == 200, response.text
        [signature] = response.json()["signatures"]
        assert (signature["signer"], signature["acting_for"]) == ("phochutich", "chutich")
        assert response.json()["state"] == "approved"
    finally:
        await desk.identity.post(
            f"/api/v1/delegations/{delegation.json()['id']}/revoke", headers=chutich
        )


async def test_a_key_the_server_never_holds_signs_in_two_steps(enrolled: Desk) -> None:
    desk, pki = enrolled, enrolled.pki
    # The leader's token and the agency's: only their certificates are enrolled.
    await enrol(desk, "chutich", "leader", position="Chủ tịch", remote=True)
    await enrol(desk, "quantri", "agency", remote=True)
    card = await reviewed(desk, "Quyết định ký bằng thiết bị")
    oid = card["id"]
    prepare = f"/api/v1/outgoing/{oid}/signatures/prepare"
    pin_refused = await desk.call(
        "POST", f"/api/v1/outgoing/{oid}/sign", "chutich", json={"pin": PIN}
    )
    problem(pin_refused, 409, "server-keys-disabled")
    someone_else = await desk.call(
        "POST",
        prepare,
        "chutich",
        json={"step": "leader", "certificate": pem_chain(pki, "reviewer")},
    )
    problem(someone_else, 403, "certificate-not-signers")

    prepared = (
        await desk.call(
            "POST",
            prepare,
            "chutich",
            201,
            json={"step": "leader", "certificate": pem_chain(pki, "leader")},
        )
    ).json()
    attributes = base64.b64decode(prepared["signed_attributes"])
    assert base64.b64decode(prepared["digest"]) == hashlib.sha256(attributes).digest()
    complete = f"/api/v1/outgoing/{oid}/signatures/{prepared['session_id']}/complete"
    forged = await desk.call(
        "POST",
        complete,
        "chutich",
        json={"signature": b64(device_signs(pki, "reviewer", attributes))},
    )
    problem(forged, 400, "external-signature-mismatch")
    card = (
        await desk.call(
            "POST",
            complete,
            "chutich",
            200,
            json={"signature": b64(device_signs(pki, "leader", attributes))},
        )
    ).json()
    assert card["state"] == "approved"
    assert [(s["kind"], s["method"]) for s in card["signatures"]] == [("leader", "remote")]
    problem(
        await desk.call(
            "POST",
            complete,
            "chutich",
            json={"signature": b64(device_signs(pki, "leader", attributes))},
        ),
        409,
        "signing-session-closed",
    )

    # The clerk's plugin returns a CMS: accepted when it signs exactly what was prepared.
    sealing = (
        await desk.call(
            "POST",
            prepare,
            "vanthu",
            201,
            json={"step": "seal", "certificate": pem_chain(pki, "agency")},
        )
    ).json()
    attributes = base64.b64decode(sealing["signed_attributes"])
    card = (
        await desk.call(
            "POST",
            f"/api/v1/outgoing/{oid}/signatures/{sealing['session_id']}/complete",
            "vanthu",
            200,
            json={"signature": b64(as_cms(pki, "agency", attributes))},
        )
    ).json()
    final = (
        await desk.call("POST", f"/api/v1/outgoing/{oid}/issue", "vanthu", 200, json={})
    ).json()
    assert final["number_symbol"] == card["signatures"][-1]["number_symbol"]
    report = await validate_pdf(await desk.content(final["current_file"]["object_id"]), desk.trust)
    assert report.verdict is Verdict.VALID, [s.problems for s in report.signatures]
    assert [(s.field_name, s.level) for s in report.signatures] == [
        ("lanh-dao", "B-T"),
        ("con-dau", "B-LT"),
    ]


async def feed(statuses: list[tuple[str, str, str, str, str | None]]) -> None:
    """Statuses as the interchange service publishes them: (change id, business, recipient,
    status, reason), through the docs service's own consumer."""
    redis = Redis.from_url(os.environ["QLVB_REDIS_URL"])
    db = Database.from_url(os.environ["QLVB_DOCS_DATABASE_URL"], pool_size=1)
    group = f"docs-outgoing-test-{uuid.uuid4().hex[:6]}"
    stream = stream_name(DELIVERY_STATUS)
    consumer = EventConsumer(
        redis=redis,
        db=db,
        processed=processed_event,
        group=group,
        topics=[DELIVERY_STATUS],
        handler=on_delivery_status,
    )
    try:
        await consumer.ensure_groups()
        await redis.xgroup_setid(stream, group, id="$")
        for outgoing_id, business, code, status, reason in statuses:
            event = Event(
                id=uuid.uuid4(),
                topic=DELIVERY_STATUS,
                tenant_id=uuid.UUID(UBND_TINH),
                occurred_at=dt.datetime.now(dt.UTC),
                payload={
                    "outgoing_id": outgoing_id,
                    "business": business,
                    "edxml_document_id": None,
                    "recipient_code": code,
                    "status": status,
                    "description": reason,
                    "at": dt.datetime.now(dt.UTC).isoformat(),
                },
            )
            await redis.xadd(stream, encode_event(event))
        handled = 0
        for _ in range(20):
            handled += await consumer.consume_once(block_ms=100)
            if handled >= len(statuses):
                break
        assert handled == len(statuses)
    finally:
        await redis.xgroup_destroy(stream, group)
        await redis.aclose()
        await db.dispose()


async def test_revoke_and_the_recipients_answer(enrolled: Desk) -> None:
    desk = enrolled
    card = await issued(desk, "Quyết định sẽ bị thu hồi")
    oid = card["id"]
    revoke = f"/api/v1/outgoing/{oid}/revoke"
    reason = {"reason": "Văn bản ban hành không đúng thẩm quyền"}
    assert (await desk.call("POST", revoke, "chuyenvien", json=reason)).status_code == 403
    other = await desk.docs.client.post(revoke, json=reason, headers=desk.docs.as_("vanthu.xa", XA))
    assert other.status_code == 404

    revoked = (await desk.call("POST", revoke, "vanthu", 200, json=reason)).json()
    assert revoked["revoked"] is True
    [change] = revoked["changes"]
    assert (change["business"], change["reason"]) == ("revoke", reason["reason"])
    assert {r["code"]: r["status"] for r in change["recipients"]} == {
        STC: "sending",
        SNV: "sending",
        BO_NOI_VU: "sending",
    }
    # The issued document itself never changes.
    for field in ("state", "number_symbol", "issued_on", "subject", "current_file", "signatures"):
        assert revoked[field] == card[field], field
    [event] = await issued_events(change["id"])
    decode_issued(event)  # what the interchange service accepts
    assert (event["business"], event["target_id"], event["files"]) == ("revoke", oid, [])
    assert event["number_symbol"] == card["number_symbol"]
    assert event["reason"] == reason["reason"]
    assert sorted(r["code"] for r in event["recipients"]) == sorted([STC, SNV, BO_NOI_VU])

    problem(await desk.call("POST", revoke, "vanthu", json=reason), 409, "conflict")
    update = await desk.call(
        "POST", f"/api/v1/outgoing/{oid}/update", "vanthu", json={**reason, "subject": "Mới"}
    )
    problem(update, 409, "conflict")

    await feed(
        [
            (change["id"], "revoke", STC, "sent", None),
            (change["id"], "revoke", STC, "change_accepted", "Đã hủy văn bản"),
            (change["id"], "revoke", STC, "sent", None),  # late: never undoes the answer
            (change["id"], "revoke", SNV, "change_accepted", None),
            (change["id"], "revoke", BO_NOI_VU, "change_rejected", "Văn bản đã được thực hiện"),
        ]
    )
    card = (await desk.call("GET", f"/api/v1/outgoing/{oid}", "vanthu", 200)).json()
    answers = {r["code"]: (r["status"], r["reason"]) for r in card["changes"][0]["recipients"]}
    assert answers == {
        STC: ("change_accepted", "Đã hủy văn bản"),
        SNV: ("change_accepted", None),
        BO_NOI_VU: ("change_rejected", "Văn bản đã được thực hiện"),
    }
    # The document's own recipient statuses are untouched by the answers to the change.
    assert {r["status"] for r in card["recipients"]} == {"sending"}


async def test_update_and_replace_an_issued_document(enrolled: Desk) -> None:
    desk = enrolled
    card = await issued(desk, "Quyết định sẽ được cập nhật")
    oid = card["id"]
    nothing = await desk.call(
        "POST", f"/api/v1/outgoing/{oid}/update", "vanthu", json={"reason": "Sửa trích yếu"}
    )
    problem(nothing, 400, "invalid-input")
    updated = (
        await desk.call(
            "POST",
            f"/api/v1/outgoing/{oid}/update",
            "vanthu",
            200,
            json={"reason": "Sửa trích yếu", "subject": "Quyết định đã cập nhật trích yếu"},
        )
    ).json()
    [change] = updated["changes"]
    assert (change["business"], change["subject"]) == ("update", "Quyết định đã cập nhật trích yếu")
    assert updated["subject"] == card["subject"]
    [event] = await issued_events(change["id"])
    decode_issued(event)
    assert (event["business"], event["target_id"]) == ("update", oid)
    assert event["subject"] == "Quyết định đã cập nhật trích yếu"
    assert event["files"][0]["sha256"] == card["current_file"]["sha256"]

    body: dict[str, Any] = {
        "doc_type": "KH",
        "subject": "Kế hoạch thay thế",
        "signer": "chutich",
        "file": await desk.docs.stored("Thay thế.pdf", header_draft()),
    }
    problem(
        await desk.call("POST", f"/api/v1/outgoing/{oid}/replace", "chuyenvien", json=body),
        400,
        "invalid-input",
    )
    body |= {
        "doc_type": "QĐ",
        "subject": "Quyết định thay thế",
        "authority": "TM.",
        "recipients": [{"code": STC}, {"code": SNV}],
    }
    replacement = (
        await desk.call("POST", f"/api/v1/outgoing/{oid}/replace", "chuyenvien", 201, json=body)
    ).json()
    assert (replacement["business"], replacement["target_id"]) == ("replace", oid)
    rid = replacement["id"]
    card = (
        await desk.call(
            "POST",
            f"/api/v1/outgoing/{rid}/submit",
            "chuyenvien",
            200,
            json={"content_reviewer": "truongphong", "form_reviewer": "vanthu"},
        )
    ).json()
    for kind, user in (("content_review", "truongphong"), ("form_review", "vanthu")):
        card = (
            await desk.call(
                "POST",
                f"/api/v1/outgoing/{rid}/steps/{pending(card, kind)}/approve",
                user,
                200,
                json={},
            )
        ).json()
    await desk.call("POST", f"/api/v1/outgoing/{rid}/sign", "chutich", 200, json={"pin": PIN})
    done = (
        await desk.call("POST", f"/api/v1/outgoing/{rid}/issue", "vanthu", 200, json={"pin": PIN})
    ).json()
    [event] = await issued_events(rid)
    decode_issued(event)
    assert (event["business"], event["target_id"]) == ("replace", oid)
    original = (await desk.call("GET", f"/api/v1/outgoing/{oid}", "vanthu", 200)).json()
    assert [c["business"] for c in original["changes"]] == ["update", "replace"]
    assert original["changes"][1]["reason"].endswith(done["number_symbol"])
    assert original["revoked"] is False
