"""The clerk's register books and the leaders' overdue work, as pages."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from playwright.sync_api import expect

from tests.web.conftest import Person


def _receive(clerk: Person, subject: str, confidentiality: str) -> str:
    response = clerk.http.post(
        "/incoming/new",
        headers={"Sec-Fetch-Site": "same-origin"},
        files={
            "sender_name": (None, "Sở Xây dựng"),
            "number_symbol": (None, f"{uuid.uuid4().hex[:5]}/SXD-QLN"),
            "doc_type": (None, "CV"),
            "issued_on": (None, "2026-11-02"),
            "subject": (None, subject),
            "confidentiality": (None, confidentiality),
        },
    )
    assert response.status_code == 303, response.text
    return response.headers["location"].split("?")[0]


def test_the_register_book_lists_every_number_and_withholds_confidential_subjects(
    people: Callable[[str], Person],
) -> None:
    marker = uuid.uuid4().hex[:8]
    clerk = people("vanthu")
    _receive(clerk, f"Về việc cấp phép xây dựng {marker}", "normal")
    _receive(clerk, f"Về việc bảo vệ bí mật nhà nước {marker}", "mat")

    registers = clerk.http.get("/registers")
    assert registers.status_code == 200
    links = dict(
        (name, href)
        for href, name in re.findall(r'<a href="(/registers/[^"]+)">([^<]+)</a>', registers.text)
    )
    general, secret = links["Sổ văn bản đến"], links["Sổ văn bản đến mật"]

    def last_page(href: str, reader: Person) -> str:
        text = reader.http.get(href).text
        while (more := re.search(r'href="(/registers/[^"]+after=\d+)"', text)) is not None:
            text = reader.http.get(more.group(1).replace("&amp;", "&")).text
        return text

    assert f"cấp phép xây dựng {marker}" in last_page(general, clerk)
    # The clerk who registered the confidential document reads its line; the leader, who was
    # not assigned it, sees the line with its subject withheld.
    assert f"bí mật nhà nước {marker}" in last_page(secret, clerk)
    leader = people("chutich")
    leaders_view = last_page(secret, leader)
    assert f"bí mật nhà nước {marker}" not in leaders_view
    assert "Văn bản mật (không hiển thị trích yếu)" in leaders_view

    specialist = people("chuyenvien")
    refused = specialist.http.get(general)
    assert refused.status_code == 403


def test_leaders_follow_the_overdue_work_of_their_units(people: Callable[[str], Person]) -> None:
    leader = people("chutich")
    page = leader.go("/overdue")
    expect(page.get_by_test_id("overdue-departments")).to_be_visible()
    expect(page.get_by_test_id("overdue-people")).to_be_visible()
    leader.shot("overdue")
    page = leader.go("/registers")
    page.get_by_test_id("registers").get_by_role("link", name="Sổ văn bản đi", exact=True).click()
    expect(page.get_by_test_id("register-book")).to_be_visible()
    leader.shot("register-book")
