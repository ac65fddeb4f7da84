"""Dossiers (hồ sơ công việc) with real servers and tokens: the catalogue, documents of three
kinds, closing and reopening, the archive package (checked from its bytes), acceptance by the
agency archive, the transfer reminder, retention review and disposal."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import json
import os
import subprocess
import tempfile
import uuid
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import SigFieldSpec, SigSeedSubFilter
from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata, PdfSigner
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas
from sqlalchemy import select

from services.common.auth.service_tokens import ServiceTokens
from services.common.db import Database
from services.docs.app import create_app as create_docs
from services.docs.dossiers.reminders import TOPIC, send_transfer_reminders
from services.docs.files.storage_client import StorageClient
from services.docs.incoming.directory import IdentityDirectory
from services.docs.incoming.service import today
from services.docs.outgoing.agencies import IdentityAgencies
from services.docs.settings import load as load_docs
from services.docs.signatures.demo import demo_pin, seed_demo_signing
from services.docs.signatures.desk import credential_box
from services.docs.signing import Pkcs12Key, TrustStore
from services.docs.tables import dossier_reminder, outbox
from services.identity.app import create_app as create_identity
from services.storage.app import create_app as create_storage
from tests.docs.conftest import UBND_TINH, Docs
from tests.docs.test_incoming_workflow import paper
from tests.signing.pki import PASSPHRASE, SigningPki, serve_test_pki
from tests.storage.conftest import storage_settings

XA = "07c7e4ab-dbea-5483-8930-cfa839d6beae"  # xã Tiên Lương, where vanthu.xa works
STC = "000.00.05.H44"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module", autouse=True)
def short_retention() -> Iterator[None]:
    """Issued files go under object lock (compliance mode: nobody can lift it); two days is
    enough for the tests' bucket."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("QLVB_DOCS_ISSUED_RETENTION_DAYS", "2")
        yield


@pytest.fixture(scope="module")
async def signing_pin(province: dict[str, Any]) -> str:
    """The demo signing credentials of `qlvb seed-demo`, made afresh as test_outgoing makes
    them (the signature tests enrol keys with other PINs for the same people); their PIN."""
    settings = load_docs()
    box = credential_box(settings)
    assert box is not None
    db = Database.from_url(settings.database_url, pool_size=1)
    try:
        await seed_demo_signing(db, province, box, replace=True)
    finally:
        await db.dispose()
    return demo_pin(province)


@pytest.fixture(scope="session")
def archive_pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SigningPki]:
    with serve_test_pki(tmp_path_factory.mktemp("dossier-pki")) as served:
        yield served


@pytest.fixture
async def archive(
    province: dict[str, Any], user_tokens: dict[str, str], archive_pki: SigningPki
) -> AsyncIterator[Docs]:
    """The docs service as `docs` builds it, trusting the test PKI for signature reports."""
    identity_app = create_identity()
    identity_http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=identity_app), base_url="http://identity.test"
    )
    settings = load_docs()
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
        trust=TrustStore(roots=(archive_pki.root,), intermediates=tuple(archive_pki.intermediates)),
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://docs.test") as client:
        yield Docs(client, user_tokens, storage_http, tokens)
    await storage_http.aclose()
    await storage_app.state["resources"].close()
    await identity_http.aclose()
    await keycloak_http.aclose()
    await app.state["resources"].close()
    await identity_app.state["resources"].close()


# --------------------------------------------------------------------------- helpers


def pdf_with(marker: str, pages: int) -> bytes:
    """A real PDF whose every page carries `marker` (ASCII, so its text extracts exactly)."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    for number in range(1, pages + 1):
        page.drawString(72, 780, f"{marker} page {number} of {pages}")
        page.showPage()
    page.save()
    return buffer.getvalue()


# Where the leader's visible signature sits on the page (points).
SIGNATURE_BOX = (300, 100, 500, 200)


async def signed_visibly(pdf: bytes, key: Pkcs12Key) -> bytes:
    """Signed by the leader with a visible signature, as another agency's software signs."""
    meta = PdfSignatureMetadata(
        field_name="lanh-dao", md_algorithm="sha256", subfilter=SigSeedSubFilter.PADES
    )
    spec = SigFieldSpec(sig_field_name="lanh-dao", box=SIGNATURE_BOX)
    out = await PdfSigner(meta, key.signer(), new_field_spec=spec).async_sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(pdf))
    )
    return bytes(out.getvalue())


def darkest_in_box(pdf: bytes, page: int) -> tuple[int, int]:
    """Rendered by poppler at 36 dpi: the darkest grey inside the signature box, and in an
    empty corner of the page."""
    with tempfile.TemporaryDirectory() as directory:
        source = Path(directory) / "hoso.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                "36",
                "-f",
                str(page),
                "-l",
                str(page),
                "-png",
                "-singlefile",
                str(source),
                str(Path(directory) / "page"),
            ],
            check=True,
        )
        image = Image.open(Path(directory) / "page.png").convert("L")
    height = image.height
    x1, y1, x2, y2 = (v // 2 for v in SIGNATURE_BOX)  # 36 dpi: half a pixel per point
    inside = image.crop((x1, height - y2, x2, height - y1))
    corner = image.crop((5, height - 45, 60, height - 5))
    return min(inside.get_flattened_data()), min(corner.get_flattened_data())


def marker() -> str:
    return f"M{uuid.uuid4().hex[:10].upper()}"


async def incoming(
    docs: Docs, mark: str, pages: int = 1, content: bytes | None = None, **changes: Any
) -> dict[str, Any]:
    ref = await docs.stored(f"Công văn {mark}.pdf", content or pdf_with(mark, pages))
    # A number of its own: `paper`'s random ones collide with the many made before.
    number = f"{uuid.uuid4().int % 9000 + 100}/BNV-{mark}"
    body = paper(f"Công văn đến {mark}", files=[ref], number_symbol=number, **changes)
    created = await docs.call("POST", "/api/v1/incoming", "vanthu", json=body)
    assert created.status_code == 201, created.text
    card: dict[str, Any] = created.json()
    return card


async def issued(docs: Docs, mark: str, pin: str, *, internal: bool = False) -> dict[str, Any]:
    """An outgoing (or internal) document taken through review and the deputy leader's
    signature to issue, on paper or inside the agency (no agency seal needed)."""
    ref = await docs.stored(f"Văn bản {mark}.pdf", pdf_with(mark, 2))
    body: dict[str, Any] = {
        "doc_type": "TB" if internal else "QĐ",
        "subject": f"{'Thông báo nội bộ' if internal else 'Quyết định'} {mark}",
        "signer": "phochutich",
        "authority": "KT.",
        "file": ref,
        "internal": internal,
        "recipients": [] if internal else [{"code": STC, "electronic": False}],
    }
    card = (await docs.call("POST", "/api/v1/outgoing", "chuyenvien", json=body)).json()
    outgoing_id = card["id"]
    card = (
        await docs.call(
            "POST",
            f"/api/v1/outgoing/{outgoing_id}/submit",
            "chuyenvien",
            json={"content_reviewer": "truongphong", "form_reviewer": "vanthu"},
        )
    ).json()
    for kind, user in (("content_review", "truongphong"), ("form_review", "vanthu")):
        step = next(s["id"] for s in card["steps"] if s["kind"] == kind and s["state"] == "pending")
        decided = await docs.call(
            "POST", f"/api/v1/outgoing/{outgoing_id}/steps/{step}/approve", user, json={}
        )
        assert decided.status_code == 200, decided.text
        card = decided.json()
    signed = await docs.call(
        "POST", f"/api/v1/outgoing/{outgoing_id}/sign", "phochutich", json={"pin": pin}
    )
    assert signed.status_code == 200, signed.text
    done = await docs.call("POST", f"/api/v1/outgoing/{outgoing_id}/issue", "vanthu", json={})
    assert done.status_code == 200, done.text
    result: dict[str, Any] = done.json()
    return result


def code() -> str:
    return f"{uuid.uuid4().int % 90 + 10}.T{uuid.uuid4().hex[:6].upper()}"


async def new_dossier(
    docs: Docs, user: str = "chuyenvien", *, start_on: str | None = None, **changes: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "year": int((start_on or today().isoformat())[:4]),
        "code": code(),
        "title": "Hồ sơ về việc tuyển dụng công chức",
        "retention": 10,
        "heading": "I. Tổ chức cán bộ",
    }
    body.update(changes)
    created = await docs.call("POST", "/api/v1/dossiers", user, json=body)
    assert created.status_code == 201, created.text
    dossier_id = created.json()["id"]
    opened = await docs.call(
        "POST",
        f"/api/v1/dossiers/{dossier_id}/open",
        user,
        json={"start_on": start_on} if start_on else {},
    )
    assert opened.status_code == 200, opened.text
    result: dict[str, Any] = opened.json()
    return result


async def add(docs: Docs, dossier_id: str, user: str, *refs: tuple[str, str]) -> httpx.Response:
    return await docs.call(
        "POST",
        f"/api/v1/dossiers/{dossier_id}/documents",
        user,
        json={"documents": [{"kind": kind, "id": ident} for kind, ident in refs]},
    )


async def closed_dossier(docs: Docs, **changes: Any) -> dict[str, Any]:
    dossier = await new_dossier(docs, "vanthu", **changes)
    document = await incoming(docs, marker())
    assert (await add(docs, dossier["id"], "vanthu", ("incoming", document["id"]))).is_success
    closed = await docs.call("POST", f"/api/v1/dossiers/{dossier['id']}/close", "vanthu", json={})
    assert closed.status_code == 200, closed.text
    result: dict[str, Any] = closed.json()
    return result


def is_problem(response: httpx.Response, status: int) -> bool:
    return response.status_code == status and response.headers["content-type"].startswith(
        "application/problem+json"
    )


# --------------------------------------------------------------------------- tests


async def test_a_dossier_of_three_kinds_is_closed_and_exported_as_one_verifiable_package(
    archive: Docs, archive_pki: SigningPki, signing_pin: str
) -> None:
    docs = archive
    marks = [marker() for _ in range(3)]
    # Signed by another agency's leader, with its software: it arrives signed.
    leader = Pkcs12Key.from_bytes(archive_pki.pkcs12("leader"), PASSPHRASE)
    signed = await signed_visibly(pdf_with(marks[0], 3), leader)
    received = await incoming(docs, marks[0], content=signed)
    sent = await issued(docs, marks[1], signing_pin)
    internal = await issued(docs, marks[2], signing_pin, internal=True)

    dossier = await new_dossier(docs)
    dossier_id = dossier["id"]
    assert dossier["state"] == "open"
    response = await add(
        docs,
        dossier_id,
        "chuyenvien",
        ("incoming", received["id"]),
        ("outgoing", sent["id"]),
        ("outgoing", internal["id"]),
    )
    assert response.status_code == 200, response.text
    card = response.json()
    assert [(i["ordinal"], i["kind"]) for i in card["items"]] == [
        (1, "incoming"),
        (2, "outgoing"),
        (3, "internal"),
    ]
    assert card["doc_total"] == 3

    still_open = await docs.call("GET", f"/api/v1/dossiers/{dossier_id}/package", "chuyenvien")
    assert is_problem(still_open, 409)
    assert "chưa kết thúc" in still_open.json()["detail"]

    closed = await docs.call(
        "POST", f"/api/v1/dossiers/{dossier_id}/close", "chuyenvien", json={"note": "Đã xong"}
    )
    assert closed.status_code == 200, closed.text
    end_on = dt.date.fromisoformat(closed.json()["end_on"])
    assert closed.json()["transfer_due_on"] == end_on.replace(year=end_on.year + 1).isoformat()

    exported = await docs.call("GET", f"/api/v1/dossiers/{dossier_id}/package", "chuyenvien")
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"] == "application/zip"
    assert "attachment" in exported.headers["content-disposition"]
    package = zipfile.ZipFile(io.BytesIO(exported.content))
    assert package.testzip() is None

    # Every entry's hash is in the manifest, and each recomputes from the bytes.
    manifest = package.read("manifest-sha256.txt").decode()
    listed = dict(reversed(line.split("  ", 1)) for line in manifest.splitlines())
    assert set(listed) == set(package.namelist()) - {"manifest-sha256.txt"}
    for name, digest in listed.items():
        assert hashlib.sha256(package.read(name)).hexdigest() == digest, name
    assert exported.headers["x-joined-pdf-sha256"] == listed["hoso.pdf"]

    # The originals are the stored files, byte for byte.
    originals = sorted(n for n in package.namelist() if n.startswith("files/"))
    assert [n[6:9] for n in originals] == ["001", "002", "003"]
    assert package.read(originals[0]) == signed

    # One PDF: the parts in ordinal order, every page there, every part's text found.
    joined = PdfReader(io.BytesIO(package.read("hoso.pdf")))
    parts = [PdfReader(io.BytesIO(package.read(n))) for n in originals]
    assert len(joined.pages) == sum(len(p.pages) for p in parts) == 3 + 2 + 2
    texts = [page.extract_text() for page in joined.pages]
    pages_of = [marks[0]] * 3 + [marks[1]] * 2 + [marks[2]] * 2
    assert all(mark in text for mark, text in zip(pages_of, texts, strict=True)), texts
    # Signatures show on the reading copy, drawn into the pages: a live signature field there
    # would point at bytes that are not in this file.
    assert joined.get_fields() is None
    assert all("/Annots" not in page for page in joined.pages)
    assert darkest_in_box(package.read("hoso.pdf"), 1) == (0, 255)
    assert darkest_in_box(package.read("hoso.pdf"), 2)[0] == 255

    meta = json.loads(package.read("metadata.json"))
    assert meta["File"]["FileCode"]["FileNotation"] == dossier["code"]
    assert meta["File"]["FileCode"]["OrganId"] == "000.00.00.H44"
    assert meta["File"]["DocTotal"] == 3
    assert meta["File"]["PageTotal"] == 7
    assert meta["File"]["Maintenance"] == "10 năm"
    assert meta["File"]["EndDate"] == end_on.isoformat()
    documents = meta["Documents"]
    assert [(d["DocOrdinal"], d["Kind"]) for d in documents] == [
        (1, "incoming"),
        (2, "outgoing"),
        (3, "internal"),
    ]
    assert documents[0]["ArrivalNumber"] == received["arrival_number"]
    assert documents[0]["OrganName"] == "Bộ Nội vụ"
    assert f"{documents[1]['CodeNumber']}/{documents[1]['CodeNotation']}" == sent["number_symbol"]
    assert documents[1]["To"] == [{"OrganId": STC, "OrganName": documents[1]["To"][0]["OrganName"]}]
    assert meta["JoinedPdf"]["Parts"] == [
        {"DocOrdinal": 1, "FirstPage": 1, "LastPage": 3},
        {"DocOrdinal": 2, "FirstPage": 4, "LastPage": 5},
        {"DocOrdinal": 3, "FirstPage": 6, "LastPage": 7},
    ]
    xml = ET.fromstring(package.read("metadata.xml"))  # noqa: S314 - the bytes we just built
    assert xml.findtext("File/Title") == dossier["title"]
    assert [d.findtext("DocOrdinal") for d in xml.findall("Documents/Document")] == ["1", "2", "3"]

    # Each PDF original has its signature validation report.
    reports = {
        json.loads(package.read(n))["file"]: json.loads(package.read(n))
        for n in package.namelist()
        if n.startswith("signatures/")
    }
    assert set(reports) == set(originals)
    arrived = reports[originals[0]]
    assert arrived["report"]["verdict"] == "valid"
    assert arrived["report"]["signatures"][0]["signer"]["common_name"] == "Nguyễn Văn Bình"
    assert "HỢP LỆ" in arrived["summary_vi"]
    for original in originals[1:]:  # our own deputy leader's, chained to the agency's anchors
        report = reports[original]["report"]
        assert [s["verdict"] for s in report["signatures"]] == ["valid"], report

    history = (await docs.call("GET", f"/api/v1/dossiers/{dossier_id}", "chuyenvien")).json()
    exported_entry = next(h for h in history["history"] if h["action"] == "dossier.exported")
    assert exported_entry["data"]["joined_sha256"] == listed["hoso.pdf"]


async def test_reopening_needs_a_reason_and_the_reason_is_audited(docs: Docs) -> None:
    dossier = await closed_dossier(docs)
    dossier_id = dossier["id"]
    again = await docs.call("POST", f"/api/v1/dossiers/{dossier_id}/close", "vanthu", json={})
    assert is_problem(again, 409)
    assert "đã kết thúc" in again.json()["detail"]
    document = await incoming(docs, marker())
    late = await add(docs, dossier_id, "vanthu", ("incoming", document["id"]))
    assert is_problem(late, 409)

    no_reason = await docs.call("POST", f"/api/v1/dossiers/{dossier_id}/reopen", "vanthu", json={})
    assert is_problem(no_reason, 400)
    reopened = await docs.call(
        "POST",
        f"/api/v1/dossiers/{dossier_id}/reopen",
        "vanthu",
        json={"reason": "Bổ sung quyết định phê duyệt kết quả"},
    )
    assert reopened.status_code == 200, reopened.text
    card = reopened.json()
    assert (card["state"], card["end_on"], card["transfer_due_on"]) == ("open", None, None)
    entry = card["history"][-1]
    assert entry["action"] == "dossier.reopened"
    assert entry["data"]["reason"] == "Bổ sung quyết định phê duyệt kết quả"
    added = await add(docs, dossier_id, "vanthu", ("incoming", document["id"]))
    assert added.status_code == 200
    assert [i["ordinal"] for i in added.json()["items"]] == [1, 2]


async def test_acceptance_by_the_archive_makes_the_dossier_read_only(docs: Docs) -> None:
    dossier = await closed_dossier(docs, retention="permanent")
    dossier_id = dossier["id"]
    receipt = {"receipt_number": f"BB-{uuid.uuid4().hex[:6]}"}
    specialist = await docs.call(
        "POST", f"/api/v1/dossiers/{dossier_id}/acceptance", "chuyenvien", json=receipt
    )
    assert is_problem(specialist, 403)
    accepted = await docs.call(
        "POST", f"/api/v1/dossiers/{dossier_id}/acceptance", "vanthu", json=receipt
    )
    assert accepted.status_code == 200, accepted.text
    card = accepted.json()
    assert card["state"] == "archived"
    assert card["acceptance"]["receipt_number"] == receipt["receipt_number"]
    assert card["acceptance"]["accepted_by"] == "vanthu"

    document = await incoming(docs, marker())
    refusals = [
        await add(docs, dossier_id, "vanthu", ("incoming", document["id"])),
        await docs.call(
            "POST", f"/api/v1/dossiers/{dossier_id}/reopen", "vanthu", json={"reason": "Sửa lại"}
        ),
        await docs.call(
            "PATCH", f"/api/v1/dossiers/{dossier_id}", "vanthu", json={"title": "Tên khác"}
        ),
        await docs.call("DELETE", f"/api/v1/dossiers/{dossier_id}/documents/1", "vanthu"),
        await docs.call(
            "POST", f"/api/v1/dossiers/{dossier_id}/acceptance", "vanthu", json=receipt
        ),
    ]
    for refused in refusals:
        assert is_problem(refused, 409), refused.text
        assert "chỉ còn để đọc" in refused.json()["detail"]
    after = (await docs.call("GET", f"/api/v1/dossiers/{dossier_id}", "vanthu")).json()
    assert (after["title"], after["doc_total"]) == (card["title"], 1)


async def test_short_retention_dossiers_stay_with_the_unit(docs: Docs) -> None:
    dossier = await closed_dossier(docs, retention=2)
    assert dossier["transfer_due_on"] is None
    refused = await docs.call(
        "POST",
        f"/api/v1/dossiers/{dossier['id']}/acceptance",
        "vanthu",
        json={"receipt_number": "BB-01"},
    )
    assert is_problem(refused, 409)
    assert "dưới 5 năm" in refused.json()["detail"]


async def test_another_agency_sees_404_and_cannot_link_our_documents(docs: Docs) -> None:
    ours = await new_dossier(docs)
    headers = docs.as_("vanthu.xa", agency=XA)
    assert (
        await docs.client.get(f"/api/v1/dossiers/{ours['id']}", headers=headers)
    ).status_code == 404
    closing = await docs.client.post(
        f"/api/v1/dossiers/{ours['id']}/close", json={}, headers=headers
    )
    assert is_problem(closing, 404)
    catalogue = await docs.client.get("/api/v1/dossiers", headers=headers)
    assert ours["id"] not in {d["id"] for d in catalogue.json()}

    theirs = await docs.client.post(
        "/api/v1/dossiers",
        json={"year": today().year, "code": code(), "title": "Hồ sơ của xã", "retention": 5},
        headers=headers,
    )
    assert theirs.status_code == 201, theirs.text
    xa_id = theirs.json()["id"]
    await docs.client.post(f"/api/v1/dossiers/{xa_id}/open", json={}, headers=headers)
    document = await incoming(docs, marker())
    linked = await docs.client.post(
        f"/api/v1/dossiers/{xa_id}/documents",
        json={"documents": [{"kind": "incoming", "id": document["id"]}]},
        headers=headers,
    )
    assert is_problem(linked, 400)
    assert "Không tìm thấy văn bản" in linked.json()["detail"]


async def test_bad_requests_are_refused_and_nothing_is_written(docs: Docs) -> None:
    dossier = await new_dossier(docs, "vanthu")
    dossier_id = dossier["id"]
    document = await incoming(docs, marker())
    waiting = await incoming(docs, marker(), register=False)
    assert waiting["state"] == "waiting"

    cases = [
        (
            "POST",
            "/api/v1/dossiers",
            {"year": 2026, "code": "sai mã", "title": "X", "retention": 5},
        ),
        ("POST", "/api/v1/dossiers", {"year": 2026, "code": "01.X", "title": "X", "retention": 0}),
        ("POST", "/api/v1/dossiers", {"year": 2026, "code": "01.X", "title": "", "retention": 5}),
        (
            "POST",
            "/api/v1/dossiers",
            {"year": 2026, "code": "01.Y", "title": "Y", "retention": 5, "responsible": "ai.do"},
        ),
        ("POST", f"/api/v1/dossiers/{dossier_id}/documents", {"documents": []}),
        (
            "POST",
            f"/api/v1/dossiers/{dossier_id}/documents",
            {"documents": [{"kind": "incoming", "id": str(uuid.uuid4())}]},
        ),
        (
            "POST",
            f"/api/v1/dossiers/{dossier_id}/documents",
            {"documents": [{"kind": "outgoing", "id": document["id"]}]},
        ),
        (
            "POST",
            f"/api/v1/dossiers/{dossier_id}/documents",
            {"documents": [{"kind": "incoming", "id": document["id"]}] * 2},
        ),
        ("POST", f"/api/v1/dossiers/{dossier_id}/close", {"end_on": "2001-01-01"}),
        (
            "POST",
            f"/api/v1/dossiers/{dossier_id}/close",
            {"end_on": (today() + dt.timedelta(days=3)).isoformat()},
        ),
    ]
    for method, path, body in cases:
        response = await docs.call(method, path, "vanthu", json=body)
        assert is_problem(response, 400), (body, response.text)
        assert response.json()["detail"] or response.json()["errors"], body

    conflicts = [
        ("POST", f"/api/v1/dossiers/{dossier_id}/close", {}),  # nothing in it yet
        (
            "POST",
            f"/api/v1/dossiers/{dossier_id}/documents",
            {"documents": [{"kind": "incoming", "id": waiting["id"]}]},
        ),
        (
            "POST",
            "/api/v1/dossiers",
            {"year": dossier["year"], "code": dossier["code"], "title": "Trùng", "retention": 5},
        ),
        ("POST", f"/api/v1/dossiers/{dossier_id}/open", {}),
    ]
    for method, path, body in conflicts:
        response = await docs.call(method, path, "vanthu", json=body)
        assert is_problem(response, 409), (path, body, response.text)

    planned = await docs.call(
        "POST",
        "/api/v1/dossiers",
        "vanthu",
        json={"year": today().year, "code": code(), "title": "Chưa mở", "retention": 5},
    )
    not_open = await add(docs, planned.json()["id"], "vanthu", ("incoming", document["id"]))
    assert is_problem(not_open, 409)
    assert "chưa được mở" in not_open.json()["detail"]
    stranger = await add(docs, dossier_id, "chuyenvien", ("incoming", document["id"]))
    assert is_problem(stranger, 403)

    after = (await docs.call("GET", f"/api/v1/dossiers/{dossier_id}", "vanthu")).json()
    assert (after["state"], after["doc_total"], after["items"]) == ("open", 0, [])
    assert [h["action"] for h in after["history"]] == ["dossier.created", "dossier.opened"]


async def test_one_document_sits_in_many_dossiers_and_ordinals_stay_gapless(docs: Docs) -> None:
    shared = await incoming(docs, marker())
    others = [await incoming(docs, marker()) for _ in range(3)]
    first = await new_dossier(docs)
    second = await new_dossier(docs)
    for dossier in (first, second):
        response = await add(docs, dossier["id"], "chuyenvien", ("incoming", shared["id"]))
        assert response.status_code == 200, response.text
    more = await add(docs, first["id"], "chuyenvien", *(("incoming", o["id"]) for o in others))
    assert [i["document_id"] for i in more.json()["items"]] == [
        shared["id"],
        *(o["id"] for o in others),
    ]
    second_card = (await docs.call("GET", f"/api/v1/dossiers/{second['id']}", "chuyenvien")).json()
    assert [(i["ordinal"], i["document_id"]) for i in second_card["items"]] == [(1, shared["id"])]

    removed = await docs.call("DELETE", f"/api/v1/dossiers/{first['id']}/documents/2", "chuyenvien")
    assert removed.status_code == 200, removed.text
    card = removed.json()
    assert [(i["ordinal"], i["document_id"]) for i in card["items"]] == [
        (1, shared["id"]),
        (2, others[1]["id"]),
        (3, others[2]["id"]),
    ]
    assert card["doc_total"] == 3
    assert card["history"][-1]["action"] == "dossier.document_removed"
    readded = await add(docs, first["id"], "chuyenvien", ("incoming", others[0]["id"]))
    assert [i["ordinal"] for i in readded.json()["items"]] == [1, 2, 3, 4]
    missing = await docs.call("DELETE", f"/api/v1/dossiers/{first['id']}/documents/9", "chuyenvien")
    assert is_problem(missing, 404)


async def test_concurrent_additions_number_without_gaps_or_half_writes(docs: Docs) -> None:
    dossier = await new_dossier(docs)
    made = [await incoming(docs, marker()) for _ in range(8)]
    half_bad = await add(
        docs,
        dossier["id"],
        "chuyenvien",
        ("incoming", made[0]["id"]),
        ("incoming", str(uuid.uuid4())),
    )
    assert is_problem(half_bad, 400)
    responses = await asyncio.gather(
        *(add(docs, dossier["id"], "chuyenvien", ("incoming", m["id"])) for m in made)
    )
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    card = (await docs.call("GET", f"/api/v1/dossiers/{dossier['id']}", "chuyenvien")).json()
    assert [i["ordinal"] for i in card["items"]] == list(range(1, 9))
    assert {i["document_id"] for i in card["items"]} == {m["id"] for m in made}
    assert card["doc_total"] == 8


async def test_confidential_documents_stay_with_the_people_who_may_see_them(docs: Docs) -> None:
    secret = await incoming(docs, marker(), confidentiality="mat")
    normal = await incoming(docs, marker())
    dossier = await new_dossier(docs, "vanthu")
    response = await add(
        docs, dossier["id"], "vanthu", ("incoming", secret["id"]), ("incoming", normal["id"])
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["items"]) == 2

    seen = (await docs.call("GET", f"/api/v1/dossiers/{dossier['id']}", "chuyenvien")).json()
    assert [i["document_id"] for i in seen["items"]] == [normal["id"]]
    assert (seen["hidden_items"], seen["doc_total"]) == (1, 2)

    mine = await new_dossier(docs)
    refused = await add(docs, mine["id"], "chuyenvien", ("incoming", secret["id"]))
    assert is_problem(refused, 400)

    await docs.call("POST", f"/api/v1/dossiers/{dossier['id']}/close", "vanthu", json={})
    package = await docs.call("GET", f"/api/v1/dossiers/{dossier['id']}/package", "chuyenvien")
    assert is_problem(package, 403)


async def test_the_transfer_reminder_is_created_once(docs: Docs) -> None:
    dossier = await closed_dossier(docs)
    due = dt.date.fromisoformat(dossier["transfer_due_on"])
    maintenance = Database.from_url(os.environ["QLVB_DOCS_RELAY_DATABASE_URL"], pool_size=1)
    try:
        await send_transfer_reminders(maintenance, due - dt.timedelta(days=31))
        assert await reminders_of(dossier["id"]) == ([], [])
        await send_transfer_reminders(maintenance, due - dt.timedelta(days=30))
        await send_transfer_reminders(maintenance, due - dt.timedelta(days=29))
        await send_transfer_reminders(maintenance, due + dt.timedelta(days=5))
    finally:
        await maintenance.dispose()
    rows, events = await reminders_of(dossier["id"])
    assert rows == [due]
    assert len(events) == 1
    assert (events[0]["due_on"], events[0]["recipient"], events[0]["late"]) == (
        due.isoformat(),
        "vanthu",
        False,
    )
    card = (await docs.call("GET", f"/api/v1/dossiers/{dossier['id']}", "vanthu")).json()
    assert card["transfer_reminded_at"] is not None
    due_list = await docs.call(
        "GET", "/api/v1/dossiers/transfer-due", "vanthu", params={"within_days": 400}
    )
    assert dossier["id"] in {d["id"] for d in due_list.json()}
    soon = await docs.call("GET", "/api/v1/dossiers/transfer-due", "vanthu")
    assert dossier["id"] not in {d["id"] for d in soon.json()}


async def reminders_of(dossier_id: str) -> tuple[list[dt.date], list[dict[str, Any]]]:
    db = Database.from_url(os.environ["QLVB_DOCS_DATABASE_URL"], pool_size=1)
    try:
        async with db.transaction(uuid.UUID(UBND_TINH), read_only=True) as conn:
            rows = (
                await conn.execute(
                    select(dossier_reminder.c.due_on).where(
                        dossier_reminder.c.dossier_id == uuid.UUID(dossier_id)
                    )
                )
            ).scalars()
            due = list(rows)
            payloads = (
                await conn.execute(select(outbox.c.payload).where(outbox.c.topic == TOPIC))
            ).scalars()
            events = [p for p in payloads if p["dossier_id"] == dossier_id]
    finally:
        await db.dispose()
    return due, events


async def test_expired_dossiers_go_to_review_then_to_a_recorded_disposal(docs: Docs) -> None:
    # Work of 2014-2015 kept five years: kept to the end of 2020.
    old = await new_dossier(docs, "vanthu", start_on="2014-02-10", retention=5)
    document = await incoming(docs, marker())
    await add(docs, old["id"], "vanthu", ("incoming", document["id"]))
    closed = await docs.call(
        "POST", f"/api/v1/dossiers/{old['id']}/close", "vanthu", json={"end_on": "2015-06-30"}
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["retention_ends_on"] == "2020-12-31"
    kept = await closed_dossier(docs, retention="permanent")

    review = "/api/v1/dossiers/retention-expired"
    assert is_problem(await docs.call("GET", review, "chuyenvien"), 403)
    listed = await docs.call("GET", review, "vanthu", params={"year": 2014})
    assert old["id"] in {d["id"] for d in listed.json()}
    still_kept = await docs.call(
        "POST", f"/api/v1/dossiers/{kept['id']}/disposal", "vanthu", json={"reason": "Hết giá trị"}
    )
    assert is_problem(still_kept, 409)

    reason = "Hết thời hạn bảo quản, không còn giá trị sử dụng"
    leader_lists = await docs.call(
        "POST", f"/api/v1/dossiers/{old['id']}/disposal", "chutich", json={"reason": reason}
    )
    assert is_problem(leader_lists, 403)
    proposed = await docs.call(
        "POST", f"/api/v1/dossiers/{old['id']}/disposal", "vanthu", json={"reason": reason}
    )
    assert proposed.status_code == 200, proposed.text
    assert proposed.json()["disposal"]["reason"] == reason
    twice = await docs.call(
        "POST", f"/api/v1/dossiers/{old['id']}/disposal", "vanthu", json={"reason": reason}
    )
    assert is_problem(twice, 409)
    listed = await docs.call("GET", review, "vanthu", params={"year": 2014})
    assert old["id"] not in {d["id"] for d in listed.json()}
    pending = (await docs.call("GET", "/api/v1/dossiers/disposal", "chutich")).json()
    entry = next(e for e in pending if e["dossier"]["id"] == old["id"])
    assert entry["disposal"]["decision_number"] is None

    decision = {"decision_number": f"{uuid.uuid4().int % 900 + 100}/QĐ-UBND"}
    clerk_decides = await docs.call(
        "POST", f"/api/v1/dossiers/{old['id']}/disposal/decision", "vanthu", json=decision
    )
    assert is_problem(clerk_decides, 403)
    decided = await docs.call(
        "POST", f"/api/v1/dossiers/{old['id']}/disposal/decision", "chutich", json=decision
    )
    assert decided.status_code == 200, decided.text
    card = decided.json()
    assert card["state"] == "disposed"
    assert card["disposal"]["decision_number"] == decision["decision_number"]
    assert card["disposal"]["decided_by"] == "chutich"
    assert [h["action"] for h in card["history"]][-2:] == [
        "dossier.disposal_listed",
        "dossier.disposed",
    ]
    # Nothing is deleted: the dossier and its documents are still on record.
    assert card["items"][0]["document_id"] == document["id"]
    done = (
        await docs.call("GET", "/api/v1/dossiers/disposal", "chutich", params={"decided": "true"})
    ).json()
    assert old["id"] in {e["dossier"]["id"] for e in done}
    reopened = await docs.call(
        "POST", f"/api/v1/dossiers/{old['id']}/reopen", "vanthu", json={"reason": "Xem lại"}
    )
    assert is_problem(reopened, 409)


async def test_the_catalogue_lists_a_years_dossiers(docs: Docs) -> None:
    year = 2019
    mine = await new_dossier(docs, start_on=f"{year}-03-01")
    catalogue = await docs.call("GET", "/api/v1/dossiers", "truongphong", params={"year": year})
    assert catalogue.status_code == 200
    entry = next(d for d in catalogue.json() if d["id"] == mine["id"])
    assert (entry["code"], entry["retention_label"], entry["responsible"]) == (
        mine["code"],
        "10 năm",
        "chuyenvien",
    )
    assert entry["responsible_name"]  # the directory's full name
    updated = await docs.call(
        "PATCH",
        f"/api/v1/dossiers/{mine['id']}",
        "chuyenvien",
        json={"retention": "permanent", "title": "Hồ sơ tuyển dụng (bổ sung)"},
    )
    assert updated.status_code == 200, updated.text
    assert (updated.json()["retention"], updated.json()["retention_label"]) == (
        "permanent",
        "Vĩnh viễn",
    )
    entry = updated.json()["history"][-1]
    assert entry["action"] == "dossier.updated"
    assert entry["data"]["before"]["retention_years"] == 10
