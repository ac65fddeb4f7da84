"""Signature validation reports stored with the document: a signed electronic arrival is
checked by the worker's job against the operator's trust store (the test PKI of tests/signing,
served with its CRLs, OCSP responder and TSA), the report is stored once, shown on the card and
served by the API to the agency alone; a tampered file is stored as invalid; a person can
check again; our own signed files are checked after each signature; the sweep finds what a
lost job left unchecked."""

# ruff: noqa: F811
# (The signing tests' fixtures are imported below, and fixtures are requested by argument name.)

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from saq import Queue
from sqlalchemy import select

from services.common.db import Database
from services.common.outbox import Event
from services.common.worker import make_queue
from services.docs import jobs
from services.docs.consumers import DELIVERY_RECEIVED, on_delivery
from services.docs.files.storage_client import StorageClient
from services.docs.settings import DocsSettings
from services.docs.settings import load as load_docs
from services.docs.signatures.reports import INCOMING_JOB, OUTGOING_JOB, unchecked
from services.docs.signing import Pkcs12Key
from services.docs.signing.validation import certificate_info
from services.docs.tables import document
from tests.docs.conftest import UBND_TINH
from tests.docs.test_outgoing_signatures import (  # noqa: F401
    PIN,
    Desk,
    admin_token,
    desk,
    enrolled,
    reviewed,
    trust_files,
)
from tests.signing.conftest import keys, pki  # noqa: F401
from tests.signing.documents import draft_pdf
from tests.signing.helpers import sign_elsewhere
from tests.signing.pki import SigningPki

XA = "07c7e4ab-dbea-5483-8930-cfa839d6beae"
TENANT = uuid.UUID(UBND_TINH)


class Worker:
    """What `qlvb worker docs` gives a job: its context (the database, the settings with the
    operator's trust store, the storage client), and the queue the jobs were asked for on."""

    def __init__(self, ctx: dict[str, Any], queue: Queue) -> None:
        self.ctx = ctx
        self.queue = queue

    async def run(self, function: str, target: uuid.UUID) -> int:
        """Run the job that was asked for `target`, as the worker would."""
        job = await self.queue.job(f"{function}:{TENANT}:{target}")
        assert job is not None, f"no {function} job was queued for {target}"
        assert job.kwargs == {"tenant": str(TENANT), "target": str(target)}
        await self.queue.abort(job, "run by the test")  # no worker of the test run takes it
        checked: int = await getattr(jobs, function)(self.ctx, **job.kwargs)
        return checked


@pytest.fixture
async def worker(desk: Desk, trust_files: tuple[Path, Path]) -> AsyncIterator[Worker]:
    root, intermediates = trust_files
    settings: DocsSettings = msgspec.structs.replace(
        load_docs(), signing_trust_roots=str(root), signing_intermediates=str(intermediates)
    )
    db = Database.from_url(settings.database_url, pool_size=2)
    queue = make_queue(settings)
    storage = StorageClient("http://storage.test", desk.docs.storage, desk.docs.service_token)
    try:
        yield Worker({"db": db, "settings": settings, "storage": storage}, queue)
    finally:
        await queue.disconnect()
        await db.dispose()


async def arrive(desk: Desk, name: str, content: bytes) -> uuid.UUID:
    """An electronic arrival with one PDF, handled by the docs consumer as the stream would
    deliver it."""
    file = await desk.docs.stored(name, content)
    delivery_id = uuid.uuid4()
    event = Event(
        id=uuid.uuid4(),
        topic=DELIVERY_RECEIVED,
        tenant_id=TENANT,
        occurred_at=dt.datetime.now(dt.UTC),
        payload={
            "delivery_id": str(delivery_id),
            "edxml_document_id": f"EDX-{uuid.uuid4().hex[:8]}",
            "fields": {
                "sender_name": "Sở Tài chính tỉnh Lào Cai",
                "sender_code": "000.00.05.H29",
                "number_symbol": "1234/STC-NS",
                "doc_type": "CV",
                "issued_on": (dt.date.today() - dt.timedelta(days=1)).isoformat(),
                "subject": f"Về việc thẩm định dự toán {name}",
            },
            "files": [file | {"role": "main"}],
        },
    )
    db = Database.from_url(os.environ["QLVB_DOCS_DATABASE_URL"], pool_size=1)
    try:
        async with db.transaction(TENANT) as conn:
            await on_delivery(conn, event)
            found = await conn.execute(
                select(document.c.id).where(document.c.delivery_id == delivery_id)
            )
            return uuid.UUID(str(found.scalar_one()))
    finally:
        await db.dispose()


def report_path(document_id: uuid.UUID, object_id: str) -> str:
    return f"/api/v1/incoming/{document_id}/files/{object_id}/signatures"


async def signed_by_the_leader(keys: dict[str, Pkcs12Key]) -> bytes:
    return await sign_elsewhere(draft_pdf(), keys["leader"])


async def test_a_signed_arrival_gets_its_report_stored_by_the_job(
    desk: Desk, worker: Worker, keys: dict[str, Pkcs12Key], pki: SigningPki
) -> None:
    document_id = await arrive(desk, "cong-van-ky-so.pdf", await signed_by_the_leader(keys))
    card = (await desk.call("GET", f"/api/v1/incoming/{document_id}", "vanthu", 200)).json()
    (file,) = card["files"]
    assert file["signature_check"] is None  # not checked before the job runs

    assert await worker.run(INCOMING_JOB, document_id) == 1

    card = (await desk.call("GET", f"/api/v1/incoming/{document_id}", "vanthu", 200)).json()
    (file,) = card["files"]
    assert file["signature_check"]["verdict"] == "valid"
    assert file["signature_check"]["signatures"] == 1
    assert file["signature_check"]["checked_at"]
    assert [h["action"] for h in card["history"]][-1] == "incoming.signatures_checked"
    stored = (
        await desk.call("GET", report_path(document_id, file["object_id"]), "vanthu", 200)
    ).json()
    assert stored["sha256"] == file["sha256"] == stored["report"]["document_sha256"]
    assert stored["verdict"] == stored["report"]["verdict"] == "valid"
    assert stored["checked_by"] == "service-account-qlvb-docs"
    (signature,) = stored["report"]["signatures"]
    leader = certificate_info(pki.cert("leader"))
    assert signature["signer"]["common_name"] == leader.common_name
    assert signature["signer"]["serial"] == leader.serial
    assert stored["summary_vi"].startswith("Văn bản có 1 chữ ký số. Kết luận: HỢP LỆ.")
    assert leader.common_name in stored["summary_vi"]


async def test_the_job_stores_a_report_once(
    desk: Desk, worker: Worker, keys: dict[str, Pkcs12Key]
) -> None:
    document_id = await arrive(desk, "mot-lan.pdf", await signed_by_the_leader(keys))
    assert await worker.run(INCOMING_JOB, document_id) == 1
    # Asked again (a retry, the sweep): nothing is left to check, nothing is written.
    again = await jobs.check_incoming_signatures(
        worker.ctx, tenant=str(TENANT), target=str(document_id)
    )
    assert again == 0
    card = (await desk.call("GET", f"/api/v1/incoming/{document_id}", "vanthu", 200)).json()
    checks = [h for h in card["history"] if h["action"] == "incoming.signatures_checked"]
    assert len(checks) == 1


async def test_a_tampered_arrival_is_stored_as_invalid(
    desk: Desk, worker: Worker, keys: dict[str, Pkcs12Key]
) -> None:
    signed = await signed_by_the_leader(keys)
    tampered = signed.replace(b"(Dieu 1. Noi dung", b"(Dieu 7. Noi dung", 1)
    assert tampered != signed
    document_id = await arrive(desk, "da-sua.pdf", tampered)

    assert await worker.run(INCOMING_JOB, document_id) == 1

    card = (await desk.call("GET", f"/api/v1/incoming/{document_id}", "vanthu", 200)).json()
    (file,) = card["files"]
    assert file["signature_check"]["verdict"] == "invalid"
    stored = (
        await desk.call("GET", report_path(document_id, file["object_id"]), "vanthu", 200)
    ).json()
    assert stored["verdict"] == "invalid"
    (signature,) = stored["report"]["signatures"]
    assert "tampered" in signature["problems"]
    assert "nội dung đã bị sửa sau khi ký" in stored["summary_vi"]


async def test_another_agency_does_not_find_the_report(
    desk: Desk, worker: Worker, keys: dict[str, Pkcs12Key]
) -> None:
    document_id = await arrive(desk, "co-quan-khac.pdf", await signed_by_the_leader(keys))
    assert await worker.run(INCOMING_JOB, document_id) == 1
    card = (await desk.call("GET", f"/api/v1/incoming/{document_id}", "vanthu", 200)).json()
    path = report_path(document_id, card["files"][0]["object_id"])

    for method in ("GET", "POST"):
        response = await desk.docs.client.request(
            method, path, headers=desk.docs.as_("vanthu.xa", XA)
        )
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "not-found"
    # A file the document does not list is not found either, in its own agency.
    unknown = report_path(document_id, str(uuid.uuid4()))
    assert (await desk.call("GET", unknown, "vanthu")).status_code == 404


async def test_checking_again_stores_a_fresh_report(
    desk: Desk, worker: Worker, keys: dict[str, Pkcs12Key]
) -> None:
    document_id = await arrive(desk, "kiem-tra-lai.pdf", await signed_by_the_leader(keys))
    card = (await desk.call("GET", f"/api/v1/incoming/{document_id}", "vanthu", 200)).json()
    path = report_path(document_id, card["files"][0]["object_id"])
    pending = await desk.call("GET", path, "vanthu", 404)
    assert pending.json()["code"] == "signatures-not-checked"

    assert await worker.run(INCOMING_JOB, document_id) == 1
    first = (await desk.call("GET", path, "vanthu", 200)).json()
    again = (await desk.call("POST", path, "vanthu", 200)).json()

    assert again["checked_by"] == "vanthu"
    assert again["verdict"] == "valid"
    assert again["checked_at"] >= first["checked_at"]
    assert (await desk.call("GET", path, "vanthu", 200)).json() == again
    card = (await desk.call("GET", f"/api/v1/incoming/{document_id}", "vanthu", 200)).json()
    checks = [h for h in card["history"] if h["action"] == "incoming.signatures_checked"]
    system, clerk = checks
    assert system["actor_name"] == "Hệ thống kiểm tra chữ ký số"
    assert "Nguyễn Thị" in clerk["actor_name"]


async def test_the_sweep_finds_files_a_lost_job_left_unchecked(
    desk: Desk, worker: Worker, keys: dict[str, Pkcs12Key]
) -> None:
    document_id = await arrive(desk, "viec-bi-mat.pdf", await signed_by_the_leader(keys))
    settings: DocsSettings = worker.ctx["settings"]
    maintenance = Database.from_url(settings.relay_database_url, pool_size=1)
    window = dt.timedelta(minutes=30)
    try:
        before = await unchecked(maintenance, window=window, limit=100_000)
        assert (INCOMING_JOB, TENANT, document_id) in before
        assert await worker.run(INCOMING_JOB, document_id) == 1
        after = await unchecked(maintenance, window=window, limit=100_000)
        assert (INCOMING_JOB, TENANT, document_id) not in after
    finally:
        await maintenance.dispose()


async def test_our_signed_file_gets_its_report_after_the_signature(
    enrolled: Desk, worker: Worker, pki: SigningPki
) -> None:
    desk = enrolled
    card = await reviewed(desk, "Quyết định kiểm tra báo cáo chữ ký số")
    oid = uuid.UUID(card["id"])
    signed = await desk.call(
        "POST", f"/api/v1/outgoing/{oid}/sign", "chutich", 200, json={"pin": PIN}
    )
    (signature,) = signed.json()["signatures"]

    assert await worker.run(OUTGOING_JOB, oid) == 1

    path = f"/api/v1/outgoing/{oid}/files/{signature['object_id']}/signatures"
    stored = (await desk.call("GET", path, "vanthu", 200)).json()
    assert stored["outgoing_id"] == str(oid)
    assert stored["sha256"] == signature["sha256"]
    assert stored["verdict"] == "valid"
    (reported,) = stored["report"]["signatures"]
    assert reported["signer"]["serial"] == certificate_info(pki.cert("leader")).serial
