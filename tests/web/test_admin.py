"""Administration in a real browser: an agency admin manages the people of their agency, a
leader delegates, a platform operator imports, reorganises agencies and watches the
interchange; whoever may not administer gets a clear refusal. The pages call identity and
interchange as the person, so every answer here is those services' own decision.

Screenshots of each page at desktop and phone widths go to the artefacts directory."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import random
import re
import socket
import uuid
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import httpx
import openpyxl
from playwright.sync_api import Page, expect
from sqlalchemy import select

from services.common.db import Database
from services.common.problems import Problem
from services.docs.web.upstream import Caller, Upstream
from services.identity.keycloak_sync.client import KeycloakGateway
from services.identity.keycloak_sync.desired import Scope
from services.identity.keycloak_sync.reconcile import reconcile
from services.identity.settings import load as load_identity
from services.identity.tables import person
from services.interchange.dead_letters import service as dead_letters
from services.interchange.failures import Refusal
from services.interchange.settings import load as load_interchange
from tests.conftest import random_agency_code
from tests.web.conftest import PHONE, PROVINCE, Person

PROVINCE_CODE = "000.00.00.H44"
PROVINCE_NAME = "Ủy ban nhân dân tỉnh Phú Thọ"
PROVINCE_ID = json.loads(PROVINCE.read_text(encoding="utf-8"))["agencies"][0]["id"]
# A well-formed code no agency has.
UNKNOWN_CODE = "999.99.99.Z99"
T = TypeVar("T")
COMMUNE = "Ủy ban nhân dân xã Tiên Lương (000.46.24.H44)"
PEOPLE_HEADER = (
    "Tên đăng nhập",
    "Họ và tên",
    "Thư điện tử",
    "Điện thoại",
    "Chức danh",
    "Mã cơ quan",
    "Phòng ban",
    "Chức vụ",
    "Vai trò",
)
AGENCY_HEADER = ("Mã định danh", "Tên cơ quan", "Tên viết tắt", "Cấp", "Mã cơ quan cấp trên")


def _xlsx(tmp_path: Path, name: str, header: tuple[str, ...], rows: list[list[str]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    path = tmp_path / name
    path.write_bytes(buffer.getvalue())
    return path


def _off_the_browser_loop(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Runs async database work from a test: Playwright's sync API keeps an event loop running
    in this thread, so the work gets a thread (and a loop) of its own."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(work())).result()


def _registered(username: str) -> bool:
    """Whether identity holds a person with this username (read straight from its database)."""

    async def look() -> bool:
        db = Database.from_url(load_identity().database_url, pool_size=1)
        try:
            async with db.transaction(None, read_only=True) as conn:
                found = await conn.execute(select(person.c.id).where(person.c.username == username))
                return found.first() is not None
        finally:
            await db.dispose()

    return _off_the_browser_loop(look)


def _pushed_to_keycloak(username: str) -> Callable[[], None]:
    """Runs the Keycloak push for one account (the background job would, in a minute or so);
    returns what removes the account from the realm again."""

    async def push() -> None:
        db = Database.from_url(load_identity().database_url, pool_size=1)
        gateway = KeycloakGateway.from_settings(load_identity())
        try:
            scope = Scope(username_prefix=username, agency_ids=frozenset())
            report = await reconcile(db, gateway, scope=scope)
            assert report.counts.users_created == 1, report.counts
        finally:
            await gateway.close()
            await db.dispose()

    async def remove() -> None:
        gateway = KeycloakGateway.from_settings(load_identity())
        try:
            account = await gateway.find_user(username)
            if account is not None:
                await gateway.delete_user(account.id)
        finally:
            await gateway.close()

    _off_the_browser_loop(push)
    return lambda: _off_the_browser_loop(remove)


def _dead_letter(tenant_id: uuid.UUID, reason: str) -> uuid.UUID:
    """A refused outgoing message, recorded as the interchange records one; replaying puts the
    message back in its queue."""

    async def record() -> uuid.UUID:
        db = Database.from_url(load_interchange().database_url, pool_size=1)
        try:
            async with db.transaction(tenant_id) as conn:
                return await dead_letters.record(
                    conn,
                    tenant_id,
                    Refusal(
                        reason,
                        "Trục từ chối gói tin: nơi nhận không tồn tại.",
                        "The axis refused the packet: unknown recipient.",
                    ),
                    direction="outgoing",
                    now=dt.datetime.now(dt.UTC),
                    recipient_code="000.99.99.Z99",
                    outgoing_id=uuid.uuid4(),
                )
        finally:
            await db.dispose()

    return _off_the_browser_loop(record)


def _fits_a_phone(person_: Person, paths: list[str]) -> None:
    page = person_.page
    page.set_viewport_size(PHONE)
    try:
        for path in paths:
            person_.go(path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{path} is {width}px wide on a 360px screen"
    finally:
        page.set_viewport_size({"width": 1366, "height": 900})


def _choose_administered(page: Page, option: str) -> None:
    page.get_by_test_id("administered-agency").select_option(label=option)
    page.get_by_role("button", name="Chọn", exact=True).click()
    expect(page.get_by_test_id("notice")).to_have_text("Đã chọn cơ quan cần quản trị.")


def test_an_agency_admin_adds_a_person_a_leader_delegates_to_them(
    people: Callable[[str], Person],
) -> None:
    marker = uuid.uuid4().hex[:8]
    username = f"thu.{marker}"
    full_name = f"Phạm Thị Thu {marker}"

    admin = people("quantri")
    page = admin.page
    page.get_by_test_id("admin-link").click()
    expect(page.locator("h1")).to_have_text("Quản trị")
    admin.shot("admin-home")

    page = admin.go("/admin/people/new")
    form = page.get_by_test_id("person-form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=full_name]").fill(full_name)
    form.locator("input[name=email]").fill(f"{username}@phutho.gov.vn")
    form.locator("input[name=position]").fill("Chuyên viên phòng Tổng hợp")
    form.get_by_label("Chuyên viên", exact=True).check()
    admin.shot("admin-person-new")
    form.get_by_role("button", name="Thêm người").click()
    expect(page.get_by_test_id("notice")).to_have_text("Đã thêm cán bộ.")
    row = page.get_by_test_id("people-rows").locator("tr", has_text=full_name)
    expect(row).to_contain_text("Chuyên viên")
    expect(row).to_contain_text(username)
    admin.shot("admin-people")

    # Roles and position change on the person's page; the account can be disabled and back.
    row.get_by_role("link", name=full_name).click()
    expect(page.get_by_test_id("person-name")).to_have_text(full_name)
    person_id = page.get_by_test_id("person-id").inner_text().strip()
    membership = page.get_by_test_id("membership-form")
    membership.get_by_label("Văn thư", exact=True).check()
    membership.locator("input[name=position]").fill("Văn thư kiêm chuyên viên")
    membership.get_by_role("button", name="Lưu").click()
    expect(page.get_by_test_id("notice")).to_have_text("Đã lưu chức vụ, vai trò.")
    expect(
        page.get_by_test_id("membership-form").get_by_label("Văn thư", exact=True)
    ).to_be_checked()
    page.get_by_role("button", name="Khóa tài khoản").click()
    expect(page.get_by_test_id("account-state")).to_have_text("Đã khóa")
    page.get_by_role("button", name="Mở khóa tài khoản").click()
    expect(page.get_by_test_id("notice")).to_have_text("Đã mở khóa tài khoản.")
    expect(page.get_by_test_id("account-state")).to_have_text("Đang sử dụng")
    admin.shot("admin-person")

    # A first-login password: refused clearly while the account is not on the login server
    # yet, then shown once; Keycloak will make the person choose their own.
    page.get_by_test_id("issue-password").click()
    expect(page.locator("main")).to_contain_text("chưa được đồng bộ sang hệ thống đăng nhập")
    remove_account = _pushed_to_keycloak(username)
    try:
        page = admin.go(f"/admin/people/{person_id}")
        page.get_by_test_id("issue-password").click()
        shown = page.get_by_test_id("temporary-password")
        expect(shown).to_contain_text("chỉ hiển thị một lần")
        password = shown.locator("code").inner_text().strip()
        assert re.fullmatch(r"[A-Za-z2-9]{4}-[A-Za-z2-9]{4}-[A-Za-z2-9]{4}", password)
        admin.shot("admin-person-password")
        first_login = httpx.post(
            f"{load_identity().oidc.issuer}/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": "qlvb-dev-cli",
                "username": username,
                "password": password,
            },
            timeout=30,
        )
        assert first_login.json().get("error_description") == "Account is not fully set up"
        # Shown once: the person's page, opened again, does not show it.
        page = admin.go(f"/admin/people/{person_id}")
        expect(page.get_by_test_id("temporary-password")).to_have_count(0)
    finally:
        remove_account()

    page = admin.go("/admin/roles")
    clerks = page.get_by_test_id("roles").locator("section", has_text="Tiếp nhận, vào sổ")
    expect(clerks).to_contain_text(full_name)
    admin.shot("admin-roles")

    # Identity lets leaders delegate; an admin who is no leader sees only what concerns them.
    page = admin.go("/admin/delegations")
    expect(page.get_by_test_id("delegation-form")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("Chỉ lãnh đạo cơ quan giao ủy quyền")

    leader = people("chutich")
    page = leader.page
    page.get_by_role("link", name="Ủy quyền").click()
    form = page.get_by_test_id("delegation-form")
    # The leader picks the colleague from the agency's directory.
    form.locator("select[name=delegate_id]").select_option(person_id)
    expect(form.locator("select[name=delegate_id] option:checked")).to_contain_text(full_name)
    # Far ahead, so that no delegation of the leader's left by other tests overlaps it.
    starts = dt.datetime.combine(
        dt.date.today() + dt.timedelta(days=random.SystemRandom().randrange(400, 3_000)),
        dt.time(8, 0),
    )
    form.locator("input[name=starts_at]").fill(starts.strftime("%d/%m/%Y %H:%M"))
    ends = starts + dt.timedelta(days=3)
    form.locator("input[name=ends_at]").fill(ends.strftime("%d/%m/%Y %H:%M"))
    form.locator("textarea[name=scope]").fill(f"Ký thay văn bản thường {marker}")
    leader.shot("admin-delegation-new")
    form.get_by_role("button", name="Ủy quyền").click()
    expect(page.get_by_test_id("notice")).to_have_text("Đã giao ủy quyền.")
    row = page.get_by_test_id("delegation-rows").locator("tr", has_text=marker)
    expect(row).to_contain_text(full_name)  # people by name, not username
    expect(row).to_contain_text("Đỗ Văn Quốc")
    expect(row).to_contain_text("Chưa bắt đầu")
    leader.shot("admin-delegations")
    row.get_by_role("button", name=re.compile("Thu hồi")).click()
    expect(page.get_by_test_id("notice")).to_have_text("Đã thu hồi ủy quyền.")
    expect(page.get_by_test_id("delegation-rows").locator("tr", has_text=marker)).to_contain_text(
        "Đã thu hồi"
    )

    # The position ends: the person leaves the agency's list.
    page = admin.go(f"/admin/people/{person_id}")
    page.get_by_label("Tôi xác nhận người này thôi chức vụ tại cơ quan.").check()
    page.get_by_role("button", name="Kết thúc chức vụ").click()
    expect(page.get_by_test_id("notice")).to_have_text("Đã kết thúc chức vụ.")
    page = admin.go(f"/admin/people?q={marker}")
    expect(page.locator("main")).to_contain_text("Không tìm thấy cán bộ phù hợp.")
    page = admin.go(f"/admin/people?q={marker}&inactive=true")
    expect(page.get_by_test_id("people-rows")).to_contain_text("Đã thôi chức vụ")

    _fits_a_phone(
        admin,
        ["/admin", "/admin/people", "/admin/people/new", "/admin/roles", "/admin/agencies"],
    )


def test_a_specialist_is_refused_the_administration_clearly(
    people: Callable[[str], Person],
) -> None:
    specialist = people("chuyenvien")
    expect(specialist.page.get_by_test_id("admin-link")).to_have_count(0)
    response = specialist.http.get("/admin/people")
    assert response.status_code == 403
    assert "Trang quản trị dành cho quản trị cơ quan và người vận hành nền tảng." in response.text
    page = specialist.go("/admin/people")
    expect(page.get_by_test_id("error")).to_contain_text("Không có quyền thực hiện")
    expect(page.get_by_test_id("error")).to_contain_text("Trang quản trị dành cho quản trị cơ quan")
    specialist.shot("admin-forbidden")
    # Forms posted by hand get the same answer, and nothing is written.
    marker = uuid.uuid4().hex[:8]
    refused = specialist.http.post(
        "/admin/people/new",
        headers={"Sec-Fetch-Site": "same-origin"},
        data={"username": f"x.{marker}", "full_name": "X", "email": f"x.{marker}@a.vn"},
    )
    assert refused.status_code == 403
    assert not _registered(f"x.{marker}")


def test_an_import_dry_run_names_the_refused_lines_and_writes_nothing(
    people: Callable[[str], Person], tmp_path: Path
) -> None:
    marker = uuid.uuid4().hex[:8]
    good = f"nhap.{marker}"
    bad_file = _xlsx(
        tmp_path,
        "can-bo-loi.xlsx",
        PEOPLE_HEADER,
        [
            [good, "Lê Văn Nhập", f"{good}@phutho.gov.vn", "", "", PROVINCE_CODE, "", "", "clerk"],
            [f"loi1.{marker}", "Sai Thư", "khong-phai-thu", "", "", PROVINCE_CODE, "", "", "clerk"],
            [
                f"loi2.{marker}",
                "Sai Mã",
                f"b.{marker}@a.vn",
                "",
                "",
                UNKNOWN_CODE,
                "",
                "",
                "clerk",
            ],
            [f"loi3.{marker}", "Sai Vai", f"c.{marker}@a.vn", "", "", PROVINCE_CODE, "", "", "vua"],
        ],
    )

    operator = people("vanhanh")
    page = operator.page
    # An operator has no agency: they land on the administration.
    expect(page).to_have_url(re.compile(r"/admin$"))
    page.get_by_role("link", name="Nhập dữ liệu").first.click()
    form = page.get_by_test_id("import-form")
    form.get_by_label("Cán bộ và chức vụ").check()
    form.locator("input[name=file]").set_input_files(str(bad_file))
    form.get_by_role("button", name="Kiểm tra tệp (chạy thử)").click()
    report = page.get_by_test_id("import-report")
    expect(report).to_contain_text("Kết quả kiểm tra (chưa ghi gì)")
    expect(page.get_by_test_id("bad-lines")).to_have_text("3")
    expect(page.get_by_test_id("error-line")).to_have_text(["3", "4", "5"])
    # Columns are named by the template's headers, as the operator sees them in the file.
    expect(page.get_by_test_id("error-column")).to_have_text(
        ["Thư điện tử", "Mã cơ quan", "Vai trò"]
    )
    expect(report).to_contain_text("Chưa ghi gì vào hệ thống")
    expect(page.get_by_test_id("apply-import")).to_have_count(0)
    operator.shot("admin-import-refused")
    assert not _registered(good)

    # A clean file of agencies: checked, then applied, then reorganised.
    first, second = random_agency_code(), random_agency_code()
    name_a, name_b = f"Sở Thử nghiệm A {marker}", f"Sở Thử nghiệm B {marker}"
    agencies = _xlsx(
        tmp_path,
        "co-quan.xlsx",
        AGENCY_HEADER,
        [
            [first, name_a, "STNA", "department", PROVINCE_CODE],
            [second, name_b, "STNB", "department", PROVINCE_CODE],
        ],
    )
    form.get_by_label("Cơ quan, đơn vị").check()
    form.locator("input[name=file]").set_input_files(str(agencies))
    form.get_by_role("button", name="Kiểm tra tệp (chạy thử)").click()
    expect(report).to_contain_text("Sẽ thêm mới")
    expect(report).to_contain_text("2 cơ quan")
    page.get_by_test_id("apply-import").click()
    expect(report).to_contain_text("Đã nhập dữ liệu")
    operator.shot("admin-import-applied")

    # Identity dates changes by the day in Vietnam.
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).date()
    day = [today + dt.timedelta(days=n) for n in range(4)]
    decision = f"Quyết định {marker[:4]}/QĐ-UBND"
    new_name = f"Sở Thử nghiệm A mới {marker}"
    tree_path = f"/admin/agencies?root={PROVINCE_ID}"

    def open_agency(name: str) -> Page:
        page = operator.go(tree_path)
        page.get_by_test_id("agency-tree").get_by_role("link", name=name).click()
        # The card shows the registry's latest name, which may take effect later.
        expect(page.get_by_test_id("agency-name")).to_be_visible()
        return page

    def tree_on(date: dt.date) -> Page:
        page = operator.go(tree_path)
        page.locator("input[name=as_of]").fill(date.strftime("%d/%m/%Y"))
        page.get_by_role("button", name="Xem").click()
        expect(page.get_by_test_id("tree-date")).to_contain_text(date.strftime("%d/%m/%Y"))
        return page

    # Identity refuses a change dated the day the agency came into being: its words, its status.
    page = open_agency(name_a)
    rename = page.get_by_test_id("rename-form")
    rename.locator("input[name=name]").fill(new_name)
    rename.locator("input[name=effective_date]").fill(day[0].strftime("%d/%m/%Y"))
    rename.locator("input[name=reference]").fill(decision)
    rename.get_by_role("button", name="Đổi tên").click()
    expect(page.get_by_test_id("error")).to_contain_text("Không thực hiện được thao tác")
    expect(page.get_by_test_id("error")).to_contain_text("phải sau lần thay đổi gần nhất")
    operator.shot("admin-refused-by-identity")

    # B merges into A tomorrow; A takes a new name the day after.
    page = open_agency(name_b)
    merge = page.get_by_test_id("merge-form")
    successor = merge.locator("select[name=successor_id] option", has_text=first)
    merge.locator("select[name=successor_id]").select_option(successor.get_attribute("value"))
    merge.locator("input[name=effective_date]").fill(day[1].strftime("%d/%m/%Y"))
    merge.locator("input[name=reference]").fill(decision)
    merge.get_by_label("Tôi xác nhận sáp nhập cơ quan này từ ngày có hiệu lực.").check()
    merge.get_by_role("button", name="Sáp nhập").click()
    expect(page.get_by_test_id("notice")).to_have_text("Đã sáp nhập cơ quan.")

    page = open_agency(name_a)
    rename = page.get_by_test_id("rename-form")
    rename.locator("input[name=name]").fill(new_name)
    rename.locator("input[name=effective_date]").fill(day[2].strftime("%d/%m/%Y"))
    rename.locator("input[name=reference]").fill(decision)
    rename.get_by_role("button", name="Đổi tên").click()
    expect(page.get_by_test_id("notice")).to_have_text("Đã đổi tên cơ quan.")
    expect(page.get_by_test_id("agency-history")).to_contain_text(new_name)
    operator.shot("admin-agency")

    # The tree on each of those days.
    tree = tree_on(day[0]).get_by_test_id("agency-tree")
    expect(tree).to_contain_text(name_a)
    expect(tree).to_contain_text(name_b)
    tree = tree_on(day[1]).get_by_test_id("agency-tree")
    expect(tree).to_contain_text(name_a)
    expect(tree).not_to_contain_text(name_b)
    tree = tree_on(day[2]).get_by_test_id("agency-tree")
    expect(tree).to_contain_text(new_name)
    operator.shot("admin-agency-tree")

    # A is dissolved later (the province's tree keeps no test agency beyond that day).
    page = open_agency(name_a)
    dissolve = page.get_by_test_id("dissolve-form")
    dissolve.locator("input[name=effective_date]").fill(day[3].strftime("%d/%m/%Y"))
    dissolve.locator("input[name=reference]").fill(decision)
    dissolve.get_by_label("Tôi xác nhận giải thể cơ quan này từ ngày có hiệu lực.").check()
    dissolve.get_by_role("button", name="Giải thể").click()
    expect(page.get_by_test_id("notice")).to_have_text("Đã giải thể cơ quan.")
    expect(tree_on(day[3]).get_by_test_id("agency-tree")).not_to_contain_text(marker)


def test_the_operator_watches_connectors_and_replays_dead_letters(
    people: Callable[[str], Person],
) -> None:
    marker = uuid.uuid4().hex[:8]
    operator = people("vanhanh")
    page = operator.go("/admin/connectors")
    commune = "Ủy ban nhân dân xã Tiên Lương"
    page.locator("select[name=agency_id]").select_option(label=COMMUNE)
    page.get_by_role("button", name="Mở").click()
    form = page.get_by_test_id("connector-form")
    form.locator("input[name=endpoint]").fill("http://127.0.0.1:9/vdxp")
    form.locator("input[name=system_id]").fill("vxp.saas.phu-tho")
    form.locator("input[name=secret]").fill(f"bi-mat-{marker}")
    form.locator("input[name=poll_seconds]").fill("300")
    form.get_by_role("button", name="Lưu").click()
    expect(page.get_by_test_id("notice")).to_have_text("Đã lưu kết nối.")
    health = page.get_by_test_id("connector-health")
    # The axis at 127.0.0.1:9 never answers: no success yet, said in words rather than a blank.
    expect(health.locator("dt:has-text('Lần thành công gần nhất') + dd")).to_have_text("Chưa có")
    # The default timeout (30 s) reads as typed, not as the stored 30.0.
    expect(form.locator("input[name=timeout_seconds]")).to_have_value("30")
    assert f"bi-mat-{marker}" not in page.content()  # the secret never comes back
    agency_id = uuid.UUID(page.url.split("?")[0].rstrip("/").rsplit("/", 1)[-1])
    operator.shot("admin-connector")

    page = operator.go("/admin/connectors?q=tien luong")
    expect(page.get_by_test_id("connector-rows")).to_contain_text(commune)
    expect(page.get_by_test_id("connector-rows")).to_contain_text("Chưa có")
    operator.shot("admin-connectors")

    reason = f"thu-nghiem-{marker}"
    letter_id = _dead_letter(agency_id, reason)
    page = operator.go(f"/admin/dead-letters?agency={agency_id}")
    row = page.locator(f"#letter-{letter_id}")
    expect(row.get_by_test_id("dead-letter-detail")).to_have_text(
        "Trục từ chối gói tin: nơi nhận không tồn tại."
    )
    expect(row.get_by_test_id("dead-letter-reason")).to_have_text(reason)
    expect(row).not_to_contain_text("The axis refused")
    expect(row).to_contain_text(commune)
    operator.shot("admin-dead-letters")
    row.get_by_role("button", name=re.compile("Chạy lại")).click()
    expect(page.get_by_test_id("notice")).to_have_text("Đã chạy lại thư hỏng.")
    expect(page.locator(f"#letter-{letter_id}")).to_have_count(0)
    page = operator.go(f"/admin/dead-letters?state=replayed&agency={agency_id}")
    expect(page.locator(f"#letter-{letter_id}")).to_contain_text("Đã chạy lại")

    _fits_a_phone(operator, ["/admin/connectors", "/admin/dead-letters", "/admin/imports"])


def test_an_operator_administers_the_people_of_an_agency_they_choose(
    people: Callable[[str], Person],
) -> None:
    operator = people("vanhanh")
    page = operator.go("/admin/people")
    # No agency of their own: the page asks which one first, then comes back.
    expect(page).to_have_url(re.compile(r"/admin/agency\?next="))
    _choose_administered(page, f"{PROVINCE_NAME} ({PROVINCE_CODE})")
    expect(page).to_have_url(re.compile(r"/admin/people"))
    expect(page.get_by_test_id("managed-agency")).to_contain_text(PROVINCE_NAME)
    expect(page.get_by_test_id("people-rows")).to_contain_text("quantri")
    operator.shot("admin-people-operator")


def test_a_service_out_of_reach_is_a_503_with_a_clear_message() -> None:
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def call() -> Problem:
        async with httpx.AsyncClient() as http:
            upstream = Upstream(
                http,
                identity_url=f"http://127.0.0.1:{port}",
                interchange_url=f"http://127.0.0.1:{port}",
            )
            caller = Caller(token="t", agency_id=None)
            try:
                await upstream.call(caller, "GET", "interchange", "/api/v1/connectors")
            except Problem as problem:
                return problem
        raise AssertionError("the call should have failed")

    problem = _off_the_browser_loop(call)
    assert problem.status == 503
    assert "Không kết nối được dịch vụ liên thông văn bản" in problem.detail_vi
