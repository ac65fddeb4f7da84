"""What may be done to a dossier, in which state and by whom."""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.common.auth.principal import Principal, Role
from services.common.problems import Conflict, Forbidden, InvalidInput
from services.docs.dossiers import retention
from services.docs.dossiers.schemas import Retention
from services.docs.incoming.service import today

# Besides the person who keeps a dossier: the clerk (văn thư, who also keeps the agency's
# records), the leaders and the agency's administrator.
KEEPERS = (Role.CLERK, Role.LEADER, Role.DEPUTY_LEADER, Role.AGENCY_ADMIN)
# Outgoing documents that stand as issued; drafts are removed before a dossier is closed
# (NĐ 30, Điều 29.3: "loại bỏ bản trùng, bản nháp").
ISSUED_STATES = ("issued", "revoked")
UNREGISTERED_STATES = ("waiting", "returned")


def years_of(value: Retention) -> int | None:
    return None if value == retention.PERMANENT else int(value)


def require_changeable(row: Any) -> None:
    if row.state == "archived":
        raise Conflict(
            f"Hồ sơ {row.code} đã được Lưu trữ cơ quan tiếp nhận (biên bản số "
            f"{row.receipt_number}); hồ sơ chỉ còn để đọc.",
            f"Dossier {row.code} was accepted by the agency archive; it is read-only.",
        )
    if row.state == "disposed":
        raise Conflict(
            f"Hồ sơ {row.code} đã có quyết định tiêu hủy; không thay đổi được.",
            f"Dossier {row.code} was disposed of; it cannot change.",
        )


def require_open(row: Any, action_vi: str) -> None:
    require_changeable(row)
    if row.state == "planned":
        raise Conflict(
            f"Hồ sơ {row.code} chưa được mở; không {action_vi} được.",
            f"Dossier {row.code} is not open yet.",
        )
    if row.state == "closed":
        raise Conflict(
            f"Hồ sơ {row.code} đã kết thúc; hãy mở lại hồ sơ (kèm lý do) trước khi {action_vi}.",
            f"Dossier {row.code} is closed; reopen it first.",
        )


def require_keeper(principal: Principal, row: Any) -> None:
    if principal.username != row.responsible and not principal.has_role(*KEEPERS):
        raise Forbidden(
            "Chỉ người lập hồ sơ, văn thư hoặc lãnh đạo cơ quan được thay đổi hồ sơ này.",
            "Only the dossier's keeper, the clerk or the agency's leaders may change it.",
        )


def required(value: str, field: str, label_vi: str) -> str:
    """`value` without surrounding spaces; a value of spaces only is refused."""
    cleaned = value.strip()
    if not cleaned:
        message = f"{label_vi} không được để trống."
        raise InvalidInput(
            message, f"{field} is empty.", errors=[{"field": field, "message": message}]
        )
    return cleaned


def check_day(day: dt.date, field: str, label_vi: str, not_before: dt.date | None) -> None:
    if day > today():
        raise InvalidInput(
            f"{label_vi} ở tương lai.",
            f"{field} is in the future.",
            errors=[{"field": field, "message": f"{label_vi} ở tương lai."}],
        )
    if not_before is not None and day < not_before:
        message = f"{label_vi} trước ngày {not_before:%d/%m/%Y}."
        raise InvalidInput(
            message,
            f"{field} is before {not_before.isoformat()}.",
            errors=[{"field": field, "message": message}],
        )
