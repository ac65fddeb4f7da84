"""The pages' answers to what a browser should never be left guessing about: no session, a
request from another site, bad form input, another agency's document."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import re
import threading
import uuid
from collections.abc import Callable

import httpx
from playwright.sync_api import expect

from services.docs.app import create_app as create_docs
from tests.bad_input import Findings, page_operations, sweep_pages
from tests.web.conftest import Person


def test_without_a_session_a_page_sends_the_browser_to_log_in(gateway_http: httpx.Client) -> None:
    response = gateway_http.get("/incoming?q=abc")
    assert response.status_code == 303
    assert response.headers["location"] == "/auth/login?next=/incoming%3Fq%3Dabc"
    fragment = gateway_http.get("/incoming", headers={"HX-Request": "true"})
    assert fragment.headers["hx-redirect"] == "/auth/login?next=/incoming"


def test_a_form_posted_from_another_site_is_refused(
    people: Callable[[str], Person],
) -> None:
    clerk = people("vanthu")
    response = clerk.http.post(
        "/incoming/new",
        headers={"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
        files={"sender_name": (None, "X")},
    )
    assert response.status_code == 403
    assert "không đến từ trang của hệ thống" in response.text


def test_bad_input_gets_a_clear_page_and_writes_nothing(
    people: Callable[[str], Person],
) -> None:
    clerk = people("vanthu")
    marker = uuid.uuid4().hex
    response = clerk.http.post(
        "/incoming/new",
        headers={"Sec-Fetch-Site": "same-origin"},
        files={
            "sender_name": (None, f"Sở Nội vụ {marker}"),
            "number_symbol": (None, "12/SNV"),
            "doc_type": (None, "CV"),
            "issued_on": (None, "not a date"),
            "subject": (None, "Về việc thử"),
        },
    )
    assert response.status_code == 400
    assert "Ngày «not a date» không hợp lệ: hãy nhập ngày/tháng/năm" in response.text
    listing = clerk.http.get(f"/incoming?q={marker}")
    assert listing.status_code == 200
    assert f"Sở Nội vụ {marker}" not in listing.text
    assert "Không có văn bản nào." in listing.text


def test_another_agencys_document_is_not_found(
    people: Callable[[str], Person],
) -> None:
    province_clerk = people("vanthu")
    page = province_clerk.go("/incoming")
    first = page.get_by_test_id("incoming-rows").locator("a").first.get_attribute("href")
    assert first is not None
    assert first.startswith("/incoming/")
    commune_clerk = people("vanthu.xa")
    response = commune_clerk.http.get(first)
    assert response.status_code == 404
    assert "Không tìm thấy văn bản" in response.text
    own = province_clerk.http.get(first)
    assert own.status_code == 200
    # The document's files and their signature check: not another agency's, not a file the
    # document does not list.
    unknown_file = f"{first}/files/{uuid.uuid4()}"
    assert commune_clerk.http.get(f"{unknown_file}/signatures").status_code == 404
    assert province_clerk.http.get(unknown_file).status_code == 404
    assert province_clerk.http.get(f"{unknown_file}/signatures").status_code == 404


def test_dates_are_typed_day_first(people: Callable[[str], Person]) -> None:
    """The pages show dates day first; what a person types in them is read the same way (a
    browser's own date field follows the browser's language, often month first)."""
    clerk = people("vanthu")
    issued = dt.date.today() - dt.timedelta(days=3)
    response = clerk.http.post(
        "/incoming/new",
        headers={"Sec-Fetch-Site": "same-origin"},
        files={
            "sender_name": (None, "Sở Tư pháp"),
            "number_symbol": (None, f"{uuid.uuid4().hex[:6]}/STP-VP"),
            "doc_type": (None, "CV"),
            "issued_on": (None, f"{issued.day}/{issued.month}/{issued.year}"),
            "subject": (None, "Về việc rà soát văn bản quy phạm pháp luật"),
        },
    )
    assert response.status_code == 303, response.text
    card = clerk.http.get(response.headers["location"])
    assert f"<dd>{issued.strftime('%d/%m/%Y')}</dd>" in card.text

    leader = people("chutich")
    chosen = leader.http.get("/overdue?as_of=31/12/2026")
    assert chosen.status_code == 200
    assert 'name="as_of" value="31/12/2026"' in chosen.text
    impossible = leader.http.get("/overdue?as_of=31/02/2026")
    assert impossible.status_code == 400
    assert "Ngày «31/02/2026» không hợp lệ" in impossible.text


def test_a_day_chosen_on_the_calendar_is_written_day_first(
    people: Callable[[str], Person],
) -> None:
    page = people("vanthu").go("/incoming/new")
    field = page.locator("input[name=due_on]")
    calendar = page.locator(".date-field", has=field)
    expect(calendar.locator("button[data-calendar]")).to_be_visible()
    # What the browser's picker does when a day is chosen: the hidden date field changes.
    calendar.locator("input.date-picker").fill("2026-12-24")
    expect(field).to_have_value("24/12/2026")


def test_static_files_are_addressed_by_their_version_and_kept_a_year(
    people: Callable[[str], Person], gateway_http: httpx.Client
) -> None:
    home = people("vanthu").http.get("/")
    links = re.findall(r'(?:href|src)="(/static/[^"?]+)\?v=([0-9a-f]{12})"', home.text)
    assert {path for path, _ in links} >= {"/static/qlvb.css", "/static/qlvb.js"}
    for path, version in links:
        answer = gateway_http.get(f"{path}?v={version}")  # no session needed
        assert answer.status_code == 200, path
        assert hashlib.sha256(answer.content).hexdigest()[:12] == version, path
        cache = answer.headers["cache-control"]
        assert "max-age=31536000" in cache, path
        assert "immutable" in cache, path


def test_no_bad_input_to_a_page_gets_a_server_error(people: Callable[[str], Person]) -> None:
    """Every page and form of the docs service given malformed and unknown ids, junk query
    values and broken form bodies, as a clerk and as a leader: a page that says what is wrong,
    never a server error (tests/bad_input.py)."""
    app = create_docs()
    pages = page_operations(app)
    try:
        for username in ("vanthu", "chutich"):
            findings = Findings(pages=True)
            sweep_pages(people(username).http, pages, {"Sec-Fetch-Site": "same-origin"}, findings)
            assert findings.refused_as_input > 200, findings.statuses
            assert findings.failures == [], "\n".join(findings.failures[:40])
    finally:
        # Playwright's loop runs in this thread; the app's (unused) resources close in another.
        closing = threading.Thread(target=asyncio.run, args=(app.state["resources"].close(),))
        closing.start()
        closing.join()
