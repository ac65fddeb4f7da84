"""A signature needs a recent login: with a login that is no longer recent (here the platform
accepts only a login of the same second), the card says so before the PIN is typed, a
signature is refused with a clear message, and one click logs the person in again through
Keycloak's own form (which asks for the password even within Keycloak's session) and brings
them back to the document, nothing signed meanwhile."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import expect

from tests.web.conftest import Person
from tests.web.test_browser import DEMO_PIN, _pdf

DOCS_SETTINGS = {"signing_fresh_auth_seconds": 0}


def reviewed(people: Callable[[str], Person], tmp_path: Path) -> str:
    """A draft for chutich to sign, through the pages: drafted, submitted, both reviews
    approved; its card's path."""
    marker = uuid.uuid4().hex[:8]
    drafter = people("chuyenvien")
    page = drafter.go("/outgoing/new")
    page.select_option("select[name=doc_type]", "CV")
    page.select_option("select[name=signer]", "chutich")
    page.fill("textarea[name=subject]", f"V/v ký số sau khi đăng nhập lại {marker}")
    page.fill("input[name=unit_abbr]", "VX")
    page.check("input[name=internal]")
    page.set_input_files("input[name=file]", str(_pdf(tmp_path, "du-thao.pdf")))
    page.get_by_role("button", name="Lưu").click()
    expect(page.get_by_test_id("state")).to_have_text("Dự thảo")
    card_path = page.url.split("?")[0].removeprefix(drafter.platform.origin)
    form = page.get_by_test_id("submit-form")
    form.locator("select[name=content_reviewer]").select_option("truongphong")
    form.locator("select[name=form_reviewer]").select_option("vanthu")
    form.get_by_role("button", name="Trình duyệt").click()
    expect(page.get_by_test_id("state")).to_have_text("Đang trình duyệt")
    for username in ("truongphong", "vanthu"):
        page = people(username).go(card_path)
        decide = page.get_by_test_id("decide-form")
        decide.locator("textarea[name=comment]").fill("Đồng ý.")
        decide.get_by_role("button", name="Đồng ý").click()
        expect(page.get_by_test_id("notice")).to_be_visible()
    return card_path


def test_a_stale_login_logs_in_again_before_signing(
    people: Callable[[str], Person], tmp_path: Path
) -> None:
    card_path = reviewed(people, tmp_path)
    leader = people("chutich")
    time.sleep(1.1)  # the login is now of an earlier second: too old for this platform
    page = leader.go(card_path)
    expect(page.get_by_test_id("login-too-old")).to_contain_text("hãy đăng nhập lại")

    sign = page.get_by_test_id("sign-form")
    sign.locator("input[name=pin]").fill(DEMO_PIN)
    sign.get_by_role("button", name="Ký số").click()
    error = page.get_by_test_id("error")
    expect(error).to_contain_text("Để ký số, hãy đăng nhập lại rồi ký.")
    leader.shot("signing-login-too-old")

    page.get_by_test_id("log-in-again").click()
    # Keycloak's own form again, although its session of this browser is still open.
    page.wait_for_selector("#password")
    if page.locator("#username").count():  # Keycloak may ask for the password only
        page.fill("#username", leader.username)
    page.fill("#password", leader.platform.password)
    page.click("#kc-login")
    page.wait_for_url(leader.platform.origin + card_path)
    expect(page.get_by_test_id("state")).to_have_text("Đang trình duyệt")
    expect(page.get_by_test_id("signatures")).to_have_count(0)
