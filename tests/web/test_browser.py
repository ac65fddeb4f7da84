"""Officials at work in a real browser: Debian's Chromium, the real Keycloak login page, the
platform behind one host name. Each test leaves screenshots of the pages it visits at desktop
and phone widths in the artefacts directory."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import expect

from tests.signing.documents import draft_pdf
from tests.web.conftest import ARTEFACTS, PHONE, PROVINCE, Person

# The demo PIN of every demo signing credential (devstack/demo-province.json).
DEMO_PIN = json.loads(PROVINCE.read_text(encoding="utf-8"))["signing"]["pin"]


def tile(person: Person, label: str) -> int:
    """The count on one tile of the person's home page."""
    page = person.go("/")
    link = page.get_by_test_id("counts").get_by_role("link", name=re.compile(label))
    return int(link.locator("strong").inner_text())


def _pdf(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(draft_pdf(1))
    return path


def test_receive_register_assign_process_complete(
    people: Callable[[str], Person], tmp_path: Path
) -> None:
    marker = uuid.uuid4().hex[:8]
    subject = f"Quyết định về việc kiểm tra công tác văn thư năm 2026 {marker}"

    clerk = people("vanthu")
    clerk.shot("home-clerk")
    page = clerk.go("/incoming/new")
    page.fill("input[name=sender_name]", "Sở Tài chính tỉnh")
    page.fill("input[name=number_symbol]", f"{marker[:4]}/QĐ-STC")
    page.select_option("select[name=doc_type]", "QĐ")
    # Typed day first, as the page shows dates (a browser's own date field may not).
    page.fill("input[name=issued_on]", "20/11/2026")
    page.fill("textarea[name=subject]", subject)
    page.set_input_files("input[name=scan]", str(_pdf(tmp_path, "scan.pdf")))
    clerk.shot("incoming-new")
    page.click("button[type=submit].primary")
    expect(page.get_by_test_id("notice")).to_be_visible()
    expect(page.get_by_test_id("state")).to_have_text("Đã vào sổ")
    expect(page.get_by_test_id("arrival-number")).to_be_visible()
    document_url = page.url.split("?")[0]
    document_path = document_url.removeprefix(clerk.platform.origin)
    clerk.shot("incoming-card")

    leader = people("chutich")
    page = leader.go(document_path)
    form = page.get_by_test_id("assign-form")
    form.locator("select[name=lead]").select_option("chuyenvien")
    form.locator("textarea[name=direction]").fill("Đề nghị chủ trì tham mưu, báo cáo trước hạn.")
    form.locator("button[type=submit]").click()
    expect(page.get_by_test_id("state")).to_have_text("Đã phân công")
    leader.shot("incoming-assigned")

    specialist = people("chuyenvien")
    page = specialist.go("/")
    expect(page.get_by_test_id("counts")).to_contain_text("Đang xử lý")
    specialist.shot("home-specialist")
    page.get_by_test_id("counts").get_by_role("link", name=re.compile("Đang xử lý")).click()
    page.get_by_test_id("search").fill(marker)
    page.get_by_test_id("search").press("Enter")
    page.get_by_test_id("incoming-rows").get_by_role("link", name=re.compile(marker)).click()
    page.fill("textarea[name=text]", "Đã làm việc với Sở Tài chính.")
    page.get_by_role("button", name="Gửi ý kiến").click()
    expect(page.get_by_test_id("notice")).to_be_visible()
    # The lead drafts the reply from the document itself.
    page.get_by_role("link", name="Soạn văn bản trả lời").click()
    expect(page.get_by_test_id("answers")).to_contain_text(marker)
    expect(page.locator("textarea[name=subject]")).to_have_value(re.compile("V/v trả lời"))
    page.go_back()
    page.fill("textarea[name=result]", "Đã tham mưu văn bản trả lời.")
    page.get_by_role("button", name="Hoàn thành xử lý").click()
    expect(page.get_by_test_id("state")).to_have_text("Hoàn thành")
    expect(page.locator(".history")).to_contain_text("Đã làm việc với Sở Tài chính.")

    # Search without diacritics finds the document by its Vietnamese subject.
    page = clerk.go("/incoming")
    page.get_by_test_id("search").fill(f"quyet dinh kiem tra cong tac van thu {marker}")
    page.get_by_test_id("search").press("Enter")
    rows = page.get_by_test_id("incoming-rows")
    expect(rows).to_contain_text(subject)
    clerk.shot("incoming-search")


def test_a_person_with_two_positions_switches_agency(people: Callable[[str], Person]) -> None:
    person = people("kiemnhiem")
    page = person.page
    # Two positions and none chosen yet: the chooser comes first.
    expect(page).to_have_url(re.compile(r"/agency$"))
    person.shot("agency-chooser")
    first = page.locator("label.choice").nth(0).inner_text().strip()
    second = page.locator("label.choice").nth(1).inner_text().strip()
    page.get_by_role("button", name="Mở").click()
    expect(page.locator("#agency-switch")).to_have_value(re.compile(".+"))
    chosen = page.locator("#agency-switch option:checked").inner_text().strip()
    assert chosen == first
    page.locator("#agency-switch").select_option(label=second)
    page.wait_for_load_state("networkidle")
    expect(page.locator("#agency-switch option:checked")).to_have_text(second)


def test_log_out_ends_the_session(people: Callable[[str], Person]) -> None:
    person = people("truongphong")
    page = person.page
    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_selector("#username")  # back on Keycloak's login page
    page = person.go("/incoming")
    page.wait_for_selector("#username")


def test_pages_fit_a_phone_screen(people: Callable[[str], Person]) -> None:
    person = people("vanthu")
    page = person.page
    page.set_viewport_size(PHONE)
    for path in ("/", "/incoming", "/incoming/new", "/outgoing", "/outgoing/new"):
        person.go(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width}px wide on a 360px screen"
    page.screenshot(path=str(ARTEFACTS / "outgoing-new-phone.png"), full_page=True)


def test_english_is_the_second_locale(people: Callable[[str], Person]) -> None:
    person = people("chuyenvien")
    page = person.page
    page.get_by_role("button", name="English").click()
    expect(page.locator("h1")).to_have_text("Waiting for me")
    page.get_by_role("button", name="Tiếng Việt").click()
    expect(page.locator("h1")).to_have_text("Việc chờ tôi")


def test_draft_review_approve_and_issue(people: Callable[[str], Person], tmp_path: Path) -> None:
    marker = uuid.uuid4().hex[:8]
    drafter = people("chuyenvien")
    page = drafter.go("/outgoing/new")
    page.select_option("select[name=doc_type]", "CV")
    page.select_option("select[name=signer]", "chutich")
    page.fill(
        "textarea[name=subject]", f"V/v báo cáo tình hình ứng dụng công nghệ thông tin {marker}"
    )
    page.fill("input[name=unit_abbr]", "VX")
    page.check("input[name=internal]")
    page.set_input_files("input[name=file]", str(_pdf(tmp_path, "du-thao.pdf")))
    drafter.shot("outgoing-new")
    page.get_by_role("button", name="Lưu").click()
    expect(page.get_by_test_id("state")).to_have_text("Dự thảo")
    card_path = page.url.split("?")[0].removeprefix(drafter.platform.origin)
    form = page.get_by_test_id("submit-form")
    form.locator("select[name=content_reviewer]").select_option("truongphong")
    form.locator("select[name=form_reviewer]").select_option("vanthu")
    form.get_by_role("button", name="Trình duyệt").click()
    expect(page.get_by_test_id("state")).to_have_text("Đang trình duyệt")

    for username in ("truongphong", "vanthu"):
        reviewer = people(username)
        page = reviewer.go(card_path)
        decide = page.get_by_test_id("decide-form")
        decide.locator("textarea[name=comment]").fill("Đồng ý.")
        decide.get_by_role("button", name="Đồng ý").click()
        expect(page.get_by_test_id("notice")).to_be_visible()

    leader = people("chutich")
    clerk = people("vanthu")
    to_sign, to_issue = tile(leader, "Chờ ký"), tile(clerk, "Chờ ban hành")
    assert to_sign >= 1
    page = leader.go(card_path)
    sign = page.get_by_test_id("sign-form")
    sign.locator("input[name=pin]").fill("000000")
    sign.get_by_role("button", name="Ký số").click()
    expect(page.get_by_test_id("error")).to_contain_text("PIN")  # a wrong PIN says so
    page = leader.go(card_path)
    sign = page.get_by_test_id("sign-form")
    sign.locator("input[name=pin]").fill(DEMO_PIN)
    sign.get_by_role("button", name="Ký số").click()
    expect(page.get_by_test_id("state")).to_have_text("Đã ký, chờ ban hành")
    expect(page.get_by_test_id("signatures")).to_contain_text("Chữ ký của người có thẩm quyền")
    # The review steps and the drafter in words people use, not codes or usernames.
    main = page.locator("main")
    expect(main).to_contain_text("Duyệt nội dung")
    expect(main).to_contain_text("Kiểm tra thể thức")
    expect(main).not_to_contain_text("content_review")
    expect(main).to_contain_text("Trần Văn Minh")
    leader.shot("outgoing-signed")

    # Signed: off the leader's list, onto the clerk's.
    assert tile(leader, "Chờ ký") == to_sign - 1
    assert tile(clerk, "Chờ ban hành") == to_issue + 1
    page = clerk.go(card_path)
    issue = page.get_by_test_id("issue-form")
    issue.locator("input[name=pin]").fill(DEMO_PIN)
    issue.get_by_role("button", name="Cấp số và ban hành").click()
    expect(page.get_by_test_id("state")).to_have_text("Đã ban hành")
    expect(page.get_by_test_id("signatures")).to_contain_text("Chữ ký số của cơ quan")
    assert tile(clerk, "Chờ ban hành") == to_issue
    page = clerk.go(card_path)
    expect(page.get_by_test_id("number-symbol")).to_have_text(re.compile(r"^\d+/UBND-VX$"))
    clerk.shot("outgoing-issued")
    # The issued file's signatures, checked and told in plain Vietnamese.
    page.get_by_test_id("signatures").get_by_role("link", name="Kiểm tra chữ ký số").last.click()
    expect(page.get_by_test_id("signature-check")).to_contain_text("Văn bản có 2 chữ ký số")
    expect(page.get_by_test_id("verdict")).to_have_text("Hợp lệ")
    clerk.shot("signature-check")
    # The report is stored with the file; checking again stores a fresh one.
    page.get_by_test_id("check-again").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Đã kiểm tra lại chữ ký số")
    expect(page.get_by_test_id("verdict")).to_have_text("Hợp lệ")
    expect(page.get_by_test_id("checked-at")).to_contain_text("vanthu")
