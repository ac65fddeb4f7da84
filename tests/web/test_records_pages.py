"""Dossiers, statistics and saved searches in a real browser (Debian's Chromium through the real
Keycloak login, the platform behind one host name): a specialist keeps a dossier and exports
its archive package, a leader follows the statistics and downloads the monthly report, a clerk
saves a search, runs it and exports its results. Every file is opened as its reader would.

Screenshots of each page at desktop and phone widths go to the artefacts directory."""

from __future__ import annotations

import csv
import io
import re
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.signing.documents import draft_pdf
from tests.web.conftest import PHONE, Person

CHILD_AGENCY = "Sở Tài chính tỉnh Phú Thọ"
FILE_SENT = "Tệp đã được gửi về trình duyệt."


def _receive_paper(clerk: Person, tmp_path: Path, subject: str, marker: str) -> str:
    """A paper document received and registered by the clerk; the path of its card."""
    scan = tmp_path / f"scan-{marker}.pdf"
    scan.write_bytes(draft_pdf(1))
    page = clerk.go("/incoming/new")
    page.fill("input[name=sender_name]", "Sở Xây dựng tỉnh Phú Thọ")
    page.fill("input[name=number_symbol]", f"{marker[:4]}/SXD-QH")
    page.select_option("select[name=doc_type]", "CV")
    page.fill("input[name=issued_on]", "2/11/2026")
    page.fill("textarea[name=subject]", subject)
    page.set_input_files("input[name=scan]", str(scan))
    page.click("button[type=submit].primary")
    expect(page.get_by_test_id("state")).to_have_text("Đã vào sổ")
    return page.url.split("?")[0].removeprefix(clerk.platform.origin)


def _fits_a_phone(person: Person, paths: list[str]) -> None:
    page = person.page
    page.set_viewport_size(PHONE)
    try:
        for path in paths:
            person.go(path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{path} is {width}px wide on a 360px screen"
    finally:
        page.set_viewport_size({"width": 1366, "height": 900})


def _count(text: str) -> int:
    """A count as the pages write it in Vietnamese (1.234)."""
    return int(text.strip().replace(".", ""))


def _tile(page: Page, label: str) -> str:
    tile = page.get_by_test_id("statistics-figures").locator("li", has_text=label).first
    return tile.locator("strong").inner_text()


def test_a_specialist_keeps_a_dossier_and_exports_its_package(
    people: Callable[[str], Person], tmp_path: Path
) -> None:
    marker = uuid.uuid4().hex[:8]
    subject = f"Công văn về việc chuẩn bị tài liệu nộp lưu năm 2026 {marker}"
    document_path = _receive_paper(people("vanthu"), tmp_path, subject, marker)

    specialist = people("chuyenvien")
    page = specialist.go("/dossiers")
    specialist.shot("dossier-catalogue")
    page.get_by_test_id("new-dossier").click()
    form = page.get_by_test_id("dossier-form")
    code = f"{marker[:6].upper()}.TH"
    title = f"Hồ sơ chuẩn bị tài liệu nộp lưu {marker}"
    form.locator("input[name=code]").fill(code)
    form.locator("textarea[name=title]").fill(title)
    form.locator("select[name=retention]").select_option("10")
    form.locator("input[name=heading]").fill("I. Công tác văn thư, lưu trữ")
    specialist.shot("dossier-new")
    form.get_by_role("button", name="Lưu").click()
    expect(page.get_by_test_id("notice")).to_have_text("Đã mở hồ sơ.")
    expect(page.get_by_test_id("dossier-state")).to_have_text("Đang mở")
    dossier_path = page.url.split("?")[0].removeprefix(specialist.platform.origin)
    dossier_id = dossier_path.rsplit("/", 1)[1]

    # The catalogue lists it under its heading.
    page = specialist.go("/dossiers")
    expect(page.get_by_test_id("dossier-rows").filter(has_text=code)).to_contain_text(title)

    # From the document's own card: "add to dossier".
    page = specialist.go(document_path)
    picker = page.get_by_test_id("add-to-dossier")
    picker.locator("select[name=dossier_id]").select_option(dossier_id)
    specialist.shot("incoming-card-add-to-dossier")
    picker.get_by_role("button", name="Đưa vào hồ sơ").click()
    expect(page.get_by_test_id("notice")).to_have_text("Đã đưa văn bản vào hồ sơ.")
    items = page.get_by_test_id("dossier-items")
    expect(items.locator("li")).to_have_count(1)
    expect(items.locator("li .ordinal")).to_have_text("1")
    expect(items).to_contain_text(subject)
    expect(page.get_by_test_id("dossier-count")).to_have_text("1")
    # The card now names the dossier that holds the document, with its number there.
    page = specialist.go(document_path)
    expect(page.get_by_test_id("held-in")).to_contain_text(code)
    page.get_by_test_id("held-in").get_by_role("link", name=re.compile(code)).click()
    expect(page).to_have_url(re.compile(dossier_path + "$"))
    # The dossier's document links back to its card.
    page.get_by_test_id("dossier-items").get_by_role("link", name=re.compile(marker)).click()
    expect(page).to_have_url(re.compile(document_path + "$"))

    page = specialist.go(dossier_path)
    close = page.get_by_test_id("close-form")
    close.locator("textarea[name=note]").fill("Công việc đã giải quyết xong.")
    close.get_by_role("button", name="Kết thúc hồ sơ").click()
    expect(page.get_by_test_id("notice")).to_have_text("Đã kết thúc hồ sơ.")
    expect(page.get_by_test_id("dossier-state")).to_have_text("Đã kết thúc")
    specialist.shot("dossier-closed")

    package = page.get_by_test_id("package")
    with page.expect_download() as downloading:
        package.click()
    download = downloading.value
    assert re.fullmatch(rf"hoso-\d{{4}}-{re.escape(code)}\.zip", download.suggested_filename)
    with zipfile.ZipFile(download.path()) as archive:
        names = archive.namelist()
        assert "hoso.pdf" in names
        assert "manifest-sha256.txt" in names
        joined = PdfReader(io.BytesIO(archive.read("hoso.pdf")))
        assert len(joined.pages) >= 1
    # The link was busy while the package was built and is free again now.
    expect(page.locator("[data-download-status]")).to_have_text(FILE_SENT)
    expect(package).not_to_have_attribute("aria-busy", "true")
    page.reload()
    expect(page.locator(".history")).to_contain_text("Xuất gói nộp lưu")

    # Reopening needs a reason, which the history keeps.
    reopen = page.get_by_test_id("reopen-form")
    reopen.locator("textarea[name=reason]").fill("Bổ sung văn bản trả lời của Sở Xây dựng.")
    reopen.get_by_role("button", name="Mở lại hồ sơ").click()
    expect(page.get_by_test_id("notice")).to_have_text("Đã mở lại hồ sơ.")
    expect(page.get_by_test_id("dossier-state")).to_have_text("Đang mở")
    expect(page.locator(".history")).to_contain_text("Bổ sung văn bản trả lời của Sở Xây dựng.")

    # Removing the document from the open dossier.
    page.get_by_role("button", name=re.compile("^Bỏ khỏi hồ sơ: 1\\.")).click()
    expect(page.get_by_test_id("notice")).to_contain_text("Đã bỏ văn bản khỏi hồ sơ")
    expect(page.get_by_test_id("dossier-count")).to_have_text("0")
    specialist.shot("dossier-reopened")

    # And back again from the dossier's own search, typed without diacritics.
    page.get_by_test_id("candidate-search").fill(f"chuan bi tai lieu nop luu {marker}")
    page.get_by_test_id("candidate-search").press("Enter")
    candidates = page.get_by_test_id("candidates-incoming")
    expect(candidates.locator("li")).to_have_count(1)
    candidates.get_by_role("button", name=re.compile("Đưa vào hồ sơ")).click()
    expect(page.get_by_test_id("notice")).to_have_text("Đã đưa văn bản vào hồ sơ.")
    expect(page.get_by_test_id("dossier-items").locator("li .ordinal")).to_have_text("1")

    _fits_a_phone(specialist, ["/dossiers", "/dossiers/new", dossier_path, document_path])


def test_a_leader_follows_the_statistics_and_downloads_the_report(
    people: Callable[[str], Person], tmp_path: Path
) -> None:
    leader = people("chutich")
    page = leader.go("/")
    page.get_by_role("link", name="Thống kê").click()
    expect(page.get_by_test_id("statistics-agency")).to_have_text("Ủy ban nhân dân tỉnh Phú Thọ")
    received_before = _count(_tile(page, "Văn bản đến"))

    marker = uuid.uuid4().hex[:8]
    _receive_paper(people("vanthu"), tmp_path, f"Báo cáo tình hình thu ngân sách {marker}", marker)
    page.reload()
    # Other work may land in the same agency meanwhile: at least this document more.
    assert _count(_tile(page, "Văn bản đến")) >= received_before + 1
    months_chart = page.get_by_test_id("chart-month-0")
    expect(months_chart.locator("svg[role=img]")).to_be_visible()
    expect(months_chart.locator("figcaption")).to_have_text("Văn bản đến theo tháng")
    # Six months, electronic and paper bars for each.
    expect(months_chart.locator("rect.bar")).to_have_count(12)
    expect(page.get_by_test_id("statistics-months").locator("tbody tr")).to_have_count(6)
    leader.shot("statistics-own")

    # The agencies under the province: each with its counts, never its documents.
    page.select_option("select[name=scope]", "tree")
    page.get_by_role("button", name="Xem").click()
    units = page.get_by_test_id("statistics-units")
    expect(units).to_contain_text(CHILD_AGENCY)
    expect(page.get_by_test_id("chart-units").locator("svg")).to_contain_text(CHILD_AGENCY)
    leader.shot("statistics-tree")
    received_tree = _count(_tile(page, "Văn bản đến"))

    with page.expect_download() as downloading:
        page.get_by_test_id("report-xlsx").click()
    download = downloading.value
    assert download.suggested_filename.endswith(".xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    summary = workbook.worksheets[0]
    values = {row[0]: row[1] for row in summary.iter_rows(values_only=True) if row and row[0]}
    # The report counts what the page shows: the same service, the same scope.
    assert values["Văn bản đến"] >= received_tree
    assert "Ủy ban nhân dân tỉnh Phú Thọ".upper() in values
    breakdown = workbook.worksheets[-1]
    assert CHILD_AGENCY in {row[0] for row in breakdown.iter_rows(values_only=True)}
    expect(page.locator("[data-download-status]")).to_have_text(FILE_SENT)

    # The PDF report, from the keyboard.
    page.get_by_test_id("report-pdf").focus()
    with page.expect_download() as downloading:
        page.keyboard.press("Enter")
    assert Path(downloading.value.path()).read_bytes().startswith(b"%PDF")

    # A child agency's own figures, one click away.
    units.get_by_role("link", name=CHILD_AGENCY).click()
    expect(page.get_by_test_id("statistics-agency")).to_have_text(CHILD_AGENCY)
    page.get_by_role("link", name=re.compile("Về số liệu của cơ quan mình")).click()
    expect(page.get_by_test_id("statistics-agency")).to_have_text("Ủy ban nhân dân tỉnh Phú Thọ")

    # By department: only for the own agency; asking for it over the tree says so, in place.
    page.select_option("select[name=scope]", "tree")
    page.select_option("select[name=group]", "department")
    page.get_by_role("button", name="Xem").click()
    expect(page.get_by_test_id("statistics-error")).to_contain_text("chỉ có cho cơ quan mình")
    page.select_option("select[name=scope]", "own")
    page.get_by_role("button", name="Xem").click()
    expect(page.get_by_test_id("chart-units")).to_be_visible()
    leader.shot("statistics-departments")

    _fits_a_phone(leader, ["/statistics", "/statistics?scope=tree", "/statistics?group=person"])

    # English is the second locale, the charts' words included.
    page = leader.go("/statistics")
    page.get_by_role("button", name="English").click()
    expect(page.locator("h1")).to_have_text("Statistics")
    expect(page.get_by_test_id("chart-month-0").locator("figcaption")).to_have_text(
        "Documents received by month"
    )
    page.get_by_role("button", name="Tiếng Việt").click()
    expect(page.locator("h1")).to_have_text("Thống kê")


def test_statistics_are_not_offered_to_a_specialist(people: Callable[[str], Person]) -> None:
    specialist = people("chuyenvien")
    page = specialist.go("/")
    expect(page.locator(".main-nav")).to_contain_text("Hồ sơ")
    expect(page.locator(".main-nav").get_by_role("link", name="Thống kê")).to_have_count(0)
    page = specialist.go("/statistics")
    expect(page.get_by_test_id("error")).to_contain_text("Thống kê dành cho")


def test_a_clerk_saves_a_search_runs_it_and_exports_it(
    people: Callable[[str], Person], tmp_path: Path
) -> None:
    marker = uuid.uuid4().hex[:8]
    subject = f"Kế hoạch phát triển đô thị bền vững đến năm 2030 {marker}"
    clerk = people("vanthu")
    _receive_paper(clerk, tmp_path, subject, marker)

    # Without diacritics, as people type on a phone.
    query = f"ke hoach phat trien do thi {marker}"
    page = clerk.go("/incoming")
    page.get_by_test_id("search").fill(query)
    page.get_by_test_id("search").press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]q=ke(%20|\+)hoach"))
    rows = page.get_by_test_id("incoming-rows")
    expect(rows.locator("li")).to_have_count(1)
    expect(rows).to_contain_text(subject)

    name = f"Quy hoạch đô thị {marker}"
    save = page.get_by_test_id("save-search")
    save.locator("input[name=name]").fill(name)
    save.get_by_role("button", name="Lưu tìm kiếm").click()
    expect(page.get_by_test_id("notice")).to_have_text("Đã lưu tìm kiếm.")

    # Later, from the plain list: run it by its name.
    page = clerk.go("/incoming")
    page.get_by_test_id("saved-searches").get_by_role("link", name=name).click()
    expect(page.get_by_test_id("search")).to_have_value(query)
    rows = page.get_by_test_id("incoming-rows")
    expect(rows.locator("li")).to_have_count(1)
    expect(rows).to_contain_text(subject)
    clerk.shot("incoming-saved-search")

    with page.expect_download() as downloading:
        page.get_by_test_id("export-csv").click()
    download = downloading.value
    assert download.suggested_filename.endswith(".csv")
    lines = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8-sig"))))
    assert lines[0][:2] == ["STT", "Số đến"]
    assert len(lines) == 2
    assert lines[1][lines[0].index("Trích yếu")] == subject
    expect(page.locator("[data-download-status]")).to_have_text(FILE_SENT)

    _fits_a_phone(clerk, ["/incoming", f"/incoming?q={marker}"])

    page = clerk.go("/incoming")
    page.get_by_role("button", name=f"Xóa tìm kiếm đã lưu: {name}").click()
    expect(page.get_by_test_id("notice")).to_have_text("Đã xóa tìm kiếm đã lưu.")
    expect(page.get_by_role("link", name=name)).to_have_count(0)
