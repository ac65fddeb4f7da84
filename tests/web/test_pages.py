"""The pages' answers to what a browser should never be left guessing about: no session, a
request from another site, bad form input, another agency's document."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx

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
    assert "Thông tin nhập chưa đúng" in response.text
    assert "issued_on" in response.text
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
