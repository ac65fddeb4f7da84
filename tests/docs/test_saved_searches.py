"""Saved searches over incoming documents, and exports of search results that agree with the
list, with real servers and tokens."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from typing import Any

from openpyxl import load_workbook

from tests.docs.conftest import Docs
from tests.docs.test_incoming_workflow import paper

XA = "07c7e4ab-dbea-5483-8930-cfa839d6beae"
HEADINGS = [
    "STT",
    "Số đến",
    "Ngày đến",
    "Nơi gửi",
    "Số, ký hiệu",
    "Ngày ban hành",
    "Loại văn bản",
    "Trích yếu",
    "Độ khẩn",
    "Độ mật",
    "Hạn xử lý",
    "Trạng thái",
    "Quá hạn",
]


async def documents(docs: Docs, word: str, count: int, **changes: Any) -> list[dict[str, Any]]:
    created = []
    for index in range(count):
        body = paper(
            f"Báo cáo kết quả giải ngân {word} đợt {index}",
            number_symbol=f"{index + 1}/BC-{uuid.uuid4().hex[:8]}",
            **changes,
        )
        response = await docs.call("POST", "/api/v1/incoming", "vanthu", json=body)
        assert response.status_code == 201, response.text
        created.append(response.json())
    return created


def word() -> str:
    return f"w{uuid.uuid4().hex[:10]}"


async def listed(docs: Docs, user: str, **params: Any) -> list[dict[str, Any]]:
    response = await docs.call("GET", "/api/v1/incoming", user, params={**params, "limit": 200})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


async def test_a_saved_search_is_saved_listed_run_and_deleted(docs: Docs) -> None:
    key = word()
    made = await documents(docs, key, 3)
    saved = await docs.call(
        "POST",
        "/api/v1/saved-searches",
        "vanthu",
        json={"name": f"Báo cáo giải ngân {key}", "params": {"q": f"bao cao giai ngan {key}"}},
    )
    assert saved.status_code == 201, saved.text
    search = saved.json()
    assert search["params"] == {
        "state": None,
        "q": f"bao cao giai ngan {key}",
        "mine": False,
        "overdue": False,
    }

    mine = (await docs.call("GET", "/api/v1/saved-searches", "vanthu")).json()
    assert search["id"] in {s["id"] for s in mine}

    run = await docs.call("GET", f"/api/v1/saved-searches/{search['id']}/results", "vanthu")
    assert run.status_code == 200, run.text
    assert run.json()["items"] == await listed(docs, "vanthu", q=f"bao cao giai ngan {key}")
    assert {i["id"] for i in run.json()["items"]} == {d["id"] for d in made}

    paged = await docs.call(
        "GET", f"/api/v1/saved-searches/{search['id']}/results", "vanthu", params={"limit": 2}
    )
    rest = await docs.call(
        "GET",
        f"/api/v1/saved-searches/{search['id']}/results",
        "vanthu",
        params={"limit": 2, "cursor": paged.json()["next_cursor"]},
    )
    assert len(paged.json()["items"]) + len(rest.json()["items"]) == 3

    deleted = await docs.call("DELETE", f"/api/v1/saved-searches/{search['id']}", "vanthu")
    assert deleted.status_code == 204
    gone = await docs.call("GET", f"/api/v1/saved-searches/{search['id']}/results", "vanthu")
    assert gone.status_code == 404
    again = await docs.call("DELETE", f"/api/v1/saved-searches/{search['id']}", "vanthu")
    assert again.status_code == 404
    mine = (await docs.call("GET", "/api/v1/saved-searches", "vanthu")).json()
    assert search["id"] not in {s["id"] for s in mine}


async def test_saved_searches_are_private_to_their_owner(docs: Docs) -> None:
    name = f"Của văn thư {word()}"
    search = (
        await docs.call(
            "POST",
            "/api/v1/saved-searches",
            "vanthu",
            json={"name": name, "params": {"state": "registered"}},
        )
    ).json()
    for user in ("chuyenvien", "chutich"):
        for method, suffix in (
            ("GET", ""),
            ("GET", "/results"),
            ("GET", "/export"),
            ("DELETE", ""),
        ):
            response = await docs.call(
                method, f"/api/v1/saved-searches/{search['id']}{suffix}", user
            )
            assert response.status_code == 404, (user, method, suffix)
        theirs = (await docs.call("GET", "/api/v1/saved-searches", user)).json()
        assert search["id"] not in {s["id"] for s in theirs}
    xa = docs.as_("vanthu.xa", agency=XA)
    assert (
        await docs.client.get(f"/api/v1/saved-searches/{search['id']}", headers=xa)
    ).status_code == 404
    # The same name is free for someone else, taken for its owner.
    other = await docs.call(
        "POST", "/api/v1/saved-searches", "chuyenvien", json={"name": name, "params": {}}
    )
    assert other.status_code == 201
    twice = await docs.call(
        "POST", "/api/v1/saved-searches", "vanthu", json={"name": name, "params": {}}
    )
    assert twice.status_code == 409
    assert "đã có tìm kiếm" in twice.json()["detail"]


async def test_bad_saved_searches_are_refused(docs: Docs) -> None:
    cases = [
        {"name": "", "params": {}},
        {"name": "Trạng thái lạ", "params": {"state": "lost"}},
        {"name": "Tham số lạ", "params": {"sender": "Bộ Nội vụ"}},
        {"name": "Thiếu điều kiện"},
        {"name": "x" * 101, "params": {}},
    ]
    before = (await docs.call("GET", "/api/v1/saved-searches", "truongphong")).json()
    for body in cases:
        response = await docs.call("POST", "/api/v1/saved-searches", "truongphong", json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    after = (await docs.call("GET", "/api/v1/saved-searches", "truongphong")).json()
    assert after == before
    bad_format = await docs.call(
        "GET", "/api/v1/incoming/export", "vanthu", params={"format": "pdf"}
    )
    assert bad_format.status_code == 400


async def test_csv_and_xlsx_exports_agree_with_the_list(docs: Docs) -> None:
    key = word()
    await documents(docs, key, 3)
    await documents(docs, key, 1, confidentiality="mat")  # the specialist may not see it
    query = f"giai ngan {key}"
    search = (
        await docs.call(
            "POST",
            "/api/v1/saved-searches",
            "chuyenvien",
            json={"name": f"Giải ngân {key}", "params": {"q": query}},
        )
    ).json()

    for user, count in (("vanthu", 4), ("chuyenvien", 3)):
        items = await listed(docs, user, q=query)
        assert len(items) == count
        expected = [
            [
                str(i["arrival_number"]),
                i["sender_name"],
                i["number_symbol"],
                dt.date.fromisoformat(i["issued_on"]).strftime("%d/%m/%Y"),
                i["subject"],
            ]
            for i in items
        ]
        exported = await docs.call(
            "GET", "/api/v1/incoming/export", user, params={"q": query, "format": "csv"}
        )
        assert exported.status_code == 200, exported.text
        assert exported.headers["content-type"].startswith("text/csv")
        assert ".csv" in exported.headers["content-disposition"]
        rows = csv_rows(exported.content)
        assert rows[0] == HEADINGS
        assert [[r[1], r[3], r[4], r[5], r[7]] for r in rows[1:]] == expected
        assert [r[0] for r in rows[1:]] == [str(n) for n in range(1, count + 1)]
        assert {r[6] for r in rows[1:]} == {"Công văn"}
        assert {r[11] for r in rows[1:]} == {"Đã vào sổ"}

        workbook = await docs.call(
            "GET", "/api/v1/incoming/export", user, params={"q": query, "format": "xlsx"}
        )
        assert workbook.status_code == 200, workbook.text
        sheet = load_workbook(io.BytesIO(workbook.content), read_only=True).active
        values = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert values[0] == HEADINGS
        assert [
            [str(r[1]), r[3], r[4], r[5].date().strftime("%d/%m/%Y"), r[7]] for r in values[1:]
        ] == expected
        assert all(isinstance(r[2], dt.datetime) for r in values[1:])

    # A saved search exports what running it shows its owner.
    saved = await docs.call(
        "GET",
        f"/api/v1/saved-searches/{search['id']}/export",
        "chuyenvien",
        params={"format": "csv"},
    )
    assert saved.status_code == 200, saved.text
    run = await docs.call("GET", f"/api/v1/saved-searches/{search['id']}/results", "chuyenvien")
    assert [r[4] for r in csv_rows(saved.content)[1:]] == [
        i["number_symbol"] for i in run.json()["items"]
    ]
