"""An incoming document from arrival to completion, across roles, with real tokens."""

from __future__ import annotations

import datetime as dt
import os
import uuid

from sqlalchemy import select

from services.common.db import Database
from services.docs.tables import outbox
from tests.docs.conftest import UBND_TINH, Docs


def paper(subject: str, **changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "sender_name": "Bộ Nội vụ",
        "sender_code": "000.00.00.G09",
        # A symbol of its own: numbers alone collide with the many documents made before
        # (the same number, sender and date is refused as already registered).
        "number_symbol": f"{uuid.uuid4().int % 9000 + 100}/BNV-{uuid.uuid4().hex[:6].upper()}",
        "doc_type": "CV",
        "issued_on": (dt.date.today() - dt.timedelta(days=3)).isoformat(),
        "subject": subject,
        "signer": "Trương Hải Long",
        "urgency": "normal",
    }
    body.update(changes)
    return body


async def statuses(document_id: str) -> list[str]:
    db = Database.from_url(os.environ["QLVB_DOCS_DATABASE_URL"], pool_size=1)
    try:
        async with db.transaction(uuid.UUID(UBND_TINH), read_only=True) as conn:
            rows = await conn.execute(
                select(outbox.c.payload)
                .where(outbox.c.topic == "document.status_changed")
                .order_by(outbox.c.occurred_at)
            )
            return [r.payload["status"] for r in rows if r.payload["document_id"] == document_id]
    finally:
        await db.dispose()


async def test_receive_register_assign_reassign_opinion_extend_complete(docs: Docs) -> None:
    # The clerk enters a paper document and registers it in one step.
    created = await docs.call(
        "POST",
        "/api/v1/incoming",
        "vanthu",
        json=paper("Về việc tuyển dụng công chức năm 2026"),
    )
    assert created.status_code == 201, created.text
    card = created.json()
    document_id = card["id"]
    assert card["state"] == "registered"
    assert card["arrival_number"] >= 1
    assert card["due_on"] is not None  # derived from the type and the working-day calendar

    # The leader assigns: the department head leads, a specialist cooperates.
    assigned = await docs.call(
        "POST",
        f"/api/v1/incoming/{document_id}/assignments",
        "chutich",
        json={
            "assignments": [
                {"assignee": "truongphong", "role": "lead", "direction": "Tham mưu trả lời"},
                {"assignee": "chuyenvien", "role": "cooperate"},
            ]
        },
    )
    assert assigned.status_code == 200, assigned.text
    lead = next(a for a in assigned.json()["assignments"] if a["role"] == "lead")
    assert lead["assignee_name"]  # the directory's full name

    # The head hands the lead on to... himself is not allowed to complete for others: he re-assigns.
    second_lead = await docs.call(
        "POST",
        f"/api/v1/incoming/{document_id}/assignments",
        "chutich",
        json={"assignments": [{"assignee": "chuyenvien", "role": "lead"}]},
    )
    assert second_lead.status_code == 409

    opinion = await docs.call(
        "POST",
        f"/api/v1/incoming/{document_id}/opinions",
        "chuyenvien",
        json={"text": "Đề nghị phối hợp với Sở Nội vụ."},
    )
    assert opinion.status_code == 200
    assert opinion.json()["state"] == "processing"

    later = (dt.date.today() + dt.timedelta(days=40)).isoformat()
    extension = await docs.call(
        "POST",
        f"/api/v1/assignments/{lead['id']}/extension",
        "truongphong",
        json={"deadline": later, "reason": "Chờ ý kiến của Bộ"},
    )
    assert extension.status_code == 200, extension.text
    approved = await docs.call(
        "POST", f"/api/v1/assignments/{lead['id']}/extension/approve", "chutich"
    )
    assert approved.status_code == 200, approved.text
    lead_now = next(a for a in approved.json()["assignments"] if a["id"] == lead["id"])
    assert lead_now["deadline"] == later

    not_lead = await docs.call(
        "POST",
        f"/api/v1/incoming/{document_id}/complete",
        "chuyenvien",
        json={"result": "Đã xong"},
    )
    assert not_lead.status_code == 403

    done = await docs.call(
        "POST",
        f"/api/v1/incoming/{document_id}/complete",
        "truongphong",
        json={"result": "Đã tham mưu văn bản trả lời"},
    )
    assert done.status_code == 200, done.text
    final = done.json()
    assert final["state"] == "completed"
    actions = [h["action"] for h in final["history"]]
    assert actions == [
        "incoming.received",
        "incoming.registered",
        "incoming.assigned",
        "incoming.assigned",
        "incoming.opinion",
        "incoming.extension_requested",
        "incoming.extension_approved",
        "incoming.completed",
    ]
    assert await statuses(document_id) == ["accepted", "assigned", "processing", "completed"]


async def test_bad_input_is_refused_and_nothing_is_written(docs: Docs) -> None:
    before = (await docs.call("GET", "/api/v1/incoming", "vanthu", params={"limit": 1})).json()
    future = (dt.date.today() + dt.timedelta(days=5)).isoformat()
    cases = [
        paper("Ngày ban hành ở tương lai", issued_on=future),
        paper("Loại văn bản lạ", doc_type="XYZ"),
        paper("Hạn trước ngày đến", due_on="2020-01-01"),
        {"subject": "Thiếu gần hết thông tin"},
    ]
    for body in cases:
        response = await docs.call("POST", "/api/v1/incoming", "vanthu", json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    after = (await docs.call("GET", "/api/v1/incoming", "vanthu", params={"limit": 1})).json()
    assert after["items"][:1] == before["items"][:1]


async def test_only_clerks_register_and_strangers_are_not_assigned(docs: Docs) -> None:
    refused = await docs.call(
        "POST", "/api/v1/incoming", "chuyenvien", json=paper("Chuyên viên không vào sổ")
    )
    assert refused.status_code == 403
    created = (
        await docs.call("POST", "/api/v1/incoming", "vanthu", json=paper("Giao cho người ngoài"))
    ).json()
    stranger = await docs.call(
        "POST",
        f"/api/v1/incoming/{created['id']}/assignments",
        "chutich",
        json={"assignments": [{"assignee": "vanthu.xa", "role": "lead"}]},
    )
    assert stranger.status_code == 400
    assert "không làm việc tại cơ quan" in stranger.json()["detail"]


async def test_another_agency_sees_404(docs: Docs) -> None:
    created = (
        await docs.call("POST", "/api/v1/incoming", "vanthu", json=paper("Văn bản của tỉnh"))
    ).json()
    xa = "07c7e4ab-dbea-5483-8930-cfa839d6beae"  # xã Tiên Lương, where vanthu.xa works
    headers = docs.as_("vanthu.xa", agency=xa)
    response = await docs.client.get(f"/api/v1/incoming/{created['id']}", headers=headers)
    assert response.status_code == 404
    register = await docs.client.post(
        f"/api/v1/incoming/{created['id']}/register", json={}, headers=headers
    )
    assert register.status_code == 404


async def test_confidential_documents_are_seen_only_by_their_people(docs: Docs) -> None:
    secret = await docs.call(
        "POST",
        "/api/v1/incoming",
        "vanthu",
        json=paper("Kế hoạch bảo đảm an ninh", confidentiality="mat"),
    )
    assert secret.status_code == 201, secret.text
    document_id = secret.json()["id"]
    hidden = await docs.call("GET", f"/api/v1/incoming/{document_id}", "chuyenvien")
    assert hidden.status_code == 404
    await docs.call(
        "POST",
        f"/api/v1/incoming/{document_id}/assignments",
        "vanthu",
        json={"assignments": [{"assignee": "chuyenvien", "role": "lead"}]},
    )
    shown = await docs.call("GET", f"/api/v1/incoming/{document_id}", "chuyenvien")
    assert shown.status_code == 200


async def test_search_without_diacritics_and_keyset_pages(docs: Docs) -> None:
    marker = uuid.uuid4().hex[:8]
    for index in range(3):
        await docs.call(
            "POST",
            "/api/v1/incoming",
            "vanthu",
            json=paper(f"Công văn đôn đốc giải ngân vốn đầu tư công {marker} lần {index}"),
        )
    found = await docs.call(
        "GET",
        "/api/v1/incoming",
        "vanthu",
        params={"q": f"cong van don doc giai ngan {marker}", "limit": 2},
    )
    page = found.json()
    assert len(page["items"]) == 2
    assert page["next_cursor"]
    rest = await docs.call(
        "GET",
        "/api/v1/incoming",
        "vanthu",
        params={"q": f"giai ngan {marker}", "limit": 2, "cursor": page["next_cursor"]},
    )
    subjects = [i["subject"] for i in page["items"] + rest.json()["items"]]
    assert sorted(subjects) == sorted(
        f"Công văn đôn đốc giải ngân vốn đầu tư công {marker} lần {i}" for i in range(3)
    )
    assert rest.json()["next_cursor"] is None
