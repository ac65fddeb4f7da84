"""Electronic arrivals in the clerk's queue: the fields the sender declared come pre-filled, the
clerk corrects what is wrong and registers, or returns the document with a reason."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import os
import re
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from services.common.auth.service_tokens import ServiceTokens
from services.common.db import Database
from services.common.outbox import Event
from services.docs.consumers import DELIVERY_RECEIVED, DELIVERY_REVOKED, on_incoming
from services.docs.files.ocr import ocr_document
from services.docs.files.storage_client import StorageClient
from services.docs.jobs import check_incoming_signatures
from services.docs.settings import load as load_docs
from tests.docs.conftest import UBND_TINH
from tests.signing.documents import draft_pdf
from tests.web.conftest import Person


def arrive(subject: str) -> uuid.UUID:
    """A delivery from another province lands in UBND tỉnh's queue, through the docs service's
    own consumer of `delivery.received`; its delivery id."""
    delivery_id = uuid.uuid4()
    consume(
        DELIVERY_RECEIVED,
        {
            "delivery_id": str(delivery_id),
            "edxml_document_id": f"EDX-{uuid.uuid4().hex[:10]}",
            "fields": {
                "sender_name": "Sở Tài chính tỉnh Lào Cai",
                "sender_code": "000.00.05.H29",
                "number_symbol": f"{uuid.uuid4().hex[:4]}/STC-NS",
                "doc_type": "CV",
                "issued_on": (dt.date.today() - dt.timedelta(days=1)).isoformat(),
                "subject": subject,
            },
            "files": [],
        },
    )
    return delivery_id


def consume(topic: str, payload: dict[str, object]) -> None:
    """One event for UBND tỉnh through the docs consumer's own dispatcher (`qlvb consume docs`)."""
    event = Event(
        id=uuid.uuid4(),
        topic=topic,
        tenant_id=uuid.UUID(UBND_TINH),
        occurred_at=dt.datetime.now(dt.UTC),
        payload=payload,
    )

    async def deliver() -> None:
        db = Database.from_url(os.environ["QLVB_DOCS_DATABASE_URL"], pool_size=1)
        try:
            async with db.transaction(uuid.UUID(UBND_TINH)) as conn:
                await on_incoming(conn, event)
        finally:
            await db.dispose()

    # Playwright's sync API keeps an event loop running in this thread; the delivery gets its own.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, deliver()).result()


def _open_waiting(clerk: Person, marker: str) -> None:
    page = clerk.go(f"/incoming?state=waiting&q={marker}")
    page.get_by_test_id("incoming-rows").get_by_role("link", name=re.compile(marker)).click()


def test_the_clerk_corrects_an_arrival_and_registers_it(people: Callable[[str], Person]) -> None:
    marker = uuid.uuid4().hex[:8]
    arrive(f"Về việc thẩm định dự toán năm 2027 {marker}")
    clerk = people("vanthu")
    _open_waiting(clerk, marker)
    page = clerk.page
    form = page.get_by_test_id("register-form")
    subject = form.locator("textarea[name=subject]")
    expect(subject).to_have_value(f"Về việc thẩm định dự toán năm 2027 {marker}")
    expect(form.locator("input[name=sender_name]")).to_have_value("Sở Tài chính tỉnh Lào Cai")
    clerk.shot("incoming-arrival")
    subject.fill(f"Về việc thẩm định dự toán ngân sách năm 2027 {marker}")
    form.get_by_role("button", name="Vào sổ").click()
    expect(page.get_by_test_id("state")).to_have_text("Đã vào sổ")
    expect(page.locator("h1.subject")).to_have_text(
        f"Về việc thẩm định dự toán ngân sách năm 2027 {marker}"
    )
    expect(page.get_by_test_id("arrival-number")).to_be_visible()


def test_the_clerk_returns_an_arrival_with_a_reason(people: Callable[[str], Person]) -> None:
    marker = uuid.uuid4().hex[:8]
    arrive(f"Về việc gửi nhầm nơi nhận {marker}")
    clerk = people("vanthu")
    _open_waiting(clerk, marker)
    page = clerk.page
    page.fill("textarea[name=reason]", "Văn bản gửi nhầm, đề nghị gửi Sở Tài chính.")
    page.get_by_role("button", name="Trả lại").click()
    expect(page.get_by_test_id("state")).to_have_text("Đã trả lại")


@contextlib.asynccontextmanager
async def _worker(stack: dict[str, str]) -> AsyncIterator[dict[str, Any]]:
    """What the docs worker's jobs get in their context: the database, settings, storage."""
    settings = load_docs()
    db = Database.from_url(os.environ["QLVB_DOCS_DATABASE_URL"], pool_size=1)
    async with httpx.AsyncClient(timeout=120) as http:
        tokens = ServiceTokens(settings.oidc, settings.client_id, settings.client_secret, http)
        storage = StorageClient(f"http://127.0.0.1:{stack['QLVB_STORAGE_TEST_PORT']}", http, tokens)
        try:
            yield {"db": db, "settings": settings, "storage": storage}
        finally:
            await db.dispose()


def _receive_a_scan(
    clerk: Person, scan: Path, *, sender: str, number_symbol: str, issued_on: str, subject: str
) -> Page:
    """The clerk receives a paper document with its scan; the page is the new card."""
    page = clerk.go("/incoming/new")
    page.fill("input[name=sender_name]", sender)
    page.fill("input[name=number_symbol]", number_symbol)
    page.fill("input[name=issued_on]", issued_on)
    page.fill("textarea[name=subject]", subject)
    scan.write_bytes(draft_pdf(1))
    page.set_input_files("input[name=scan]", str(scan))
    page.click("button[type=submit].primary")
    return page


def test_a_scan_is_recognised_and_the_card_says_so_by_itself(
    people: Callable[[str], Person], stack: dict[str, str], tmp_path: Path
) -> None:
    marker = uuid.uuid4().hex[:8]
    clerk = people("vanthu")
    page = _receive_a_scan(
        clerk,
        tmp_path / "scan.pdf",
        sender="Sở Y tế",
        number_symbol=f"{marker[:4]}/SYT-NVY",
        issued_on="18/11/2026",
        subject=f"Về việc phòng chống dịch bệnh mùa đông {marker}",
    )
    status = page.get_by_test_id("ocr-status")
    expect(status).to_contain_text("Đang nhận dạng chữ")
    document_id = uuid.UUID(page.url.split("?")[0].rsplit("/", 1)[1])

    async def recognise() -> bool:
        async with _worker(stack) as ctx:
            return await ocr_document(ctx["db"], ctx["storage"], uuid.UUID(UBND_TINH), document_id)

    # What the docs worker's job does, run here: the page is left open and polls on its own.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(asyncio.run, recognise()).result() is True
    expect(status).to_contain_text("Đã nhận dạng chữ", timeout=30_000)


def test_the_sender_revokes_and_the_clerk_agrees_on_the_card(
    people: Callable[[str], Person],
) -> None:
    marker = uuid.uuid4().hex[:8]
    delivery_id = arrive(f"Về việc điều chỉnh kế hoạch {marker}")
    clerk = people("vanthu")
    _open_waiting(clerk, marker)
    page = clerk.page
    page.get_by_test_id("register-form").get_by_role("button", name="Vào sổ").click()
    expect(page.get_by_test_id("state")).to_have_text("Đã vào sổ")
    consume(
        DELIVERY_REVOKED,
        {
            "delivery_id": str(delivery_id),
            "revocation_id": str(uuid.uuid4()),
            "edxml_document_id": f"EDX-{marker}",
            "sender_code": "000.00.05.H29",
            "reason": "Văn bản ban hành sai thẩm quyền",
        },
    )
    page.reload()
    changes = page.get_by_test_id("changes")
    expect(changes).to_contain_text("Thu hồi văn bản")
    expect(changes).to_contain_text("Văn bản ban hành sai thẩm quyền")
    clerk.shot("incoming-revocation")
    # Refusing needs a reason: without one the page says so and nothing changes.
    changes.get_by_role("button", name="Từ chối").click()
    expect(page.get_by_test_id("error")).to_contain_text("lý do")
    page.go_back()
    page.reload()
    page.get_by_test_id("changes").get_by_role("button", name="Đồng ý").click()
    expect(page.get_by_test_id("changes")).to_contain_text("Đã đồng ý")
    expect(page.locator(".badges")).to_contain_text("Đã thu hồi")


def test_the_card_shows_each_files_stored_signature_verdict(
    people: Callable[[str], Person], stack: dict[str, str], tmp_path: Path
) -> None:
    marker = uuid.uuid4().hex[:8]
    clerk = people("vanthu")
    page = _receive_a_scan(
        clerk,
        tmp_path / "cong-van.pdf",
        sender="Sở Xây dựng",
        number_symbol=f"{marker[:4]}/SXD-QLN",
        issued_on="19.11.2026",
        subject=f"Về việc kiểm tra chất lượng công trình {marker}",
    )
    verdict = page.get_by_test_id("file-verdict")
    expect(verdict).to_contain_text("Chưa kiểm tra chữ ký số")
    document_id = uuid.UUID(page.url.split("?")[0].rsplit("/", 1)[1])

    async def check() -> int:
        async with _worker(stack) as ctx:
            return await check_incoming_signatures(ctx, tenant=UBND_TINH, target=str(document_id))

    # What the docs worker's job does after the reception, run here.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(asyncio.run, check()).result() == 1
    page.reload()
    expect(page.get_by_test_id("file-verdict")).to_contain_text("Không có chữ ký số")
    expect(page.locator("ol.history")).to_contain_text("Kiểm tra chữ ký số")
    clerk.shot("incoming-signature-verdict")
