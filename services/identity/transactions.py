"""Write transactions of the identity service, with database refusals turned into problems.

The services check what they can before writing, and the constraints stay the last word (two
requests may race past the same check). A constraint that refuses a write becomes a 409 or a
400 with a message per constraint, never a 500."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.db import Database
from services.common.problems import Conflict, Forbidden, InvalidInput, Problem

_UNIQUE: dict[str, tuple[str, str]] = {
    "uq_agency_code102": (
        "Mã định danh đã được dùng cho một cơ quan khác (mã không bao giờ được dùng lại).",
        "The agency code is already used by another agency (codes are never reused).",
    ),
    "uq_agency_code_qd20": (
        "Mã định danh theo QĐ 20 đã được dùng cho một cơ quan khác.",
        "The QĐ 20 agency code is already used by another agency.",
    ),
    "uq_person_username": (
        "Tên đăng nhập đã được dùng.",
        "The username is already taken.",
    ),
    "uq_person_email": (
        "Địa chỉ thư điện tử đã được dùng cho người khác.",
        "The email address is already used by another person.",
    ),
    "uq_membership_active_person": (
        "Người này đã có chức vụ đang hiệu lực tại cơ quan.",
        "This person already holds an active membership in the agency.",
    ),
    "uq_agency_version_open": (
        "Cơ quan vừa được thay đổi đồng thời; hãy thử lại.",
        "The agency was changed concurrently; try again.",
    ),
}


def _constraint(exc: DBAPIError) -> str:
    cause = getattr(exc.orig, "__cause__", None)
    return str(getattr(cause, "constraint_name", "") or "")


def problem_for(exc: DBAPIError) -> Problem | None:
    """The problem a refused write means, or None when it is not a refusal (a real fault)."""
    code = str(getattr(exc.orig, "sqlstate", "") or "")
    name = _constraint(exc)
    if code == "23505":
        vi, en = _UNIQUE.get(name, ("Dữ liệu bị trùng.", "Duplicate data."))
        return Conflict(vi, en, constraint=name)
    if code == "23503":
        return InvalidInput(
            "Dữ liệu tham chiếu đến một đối tượng không tồn tại.",
            "The data refers to something that does not exist.",
            constraint=name,
        )
    if code in ("23514", "23502", "22001", "22P02"):
        return InvalidInput(
            "Dữ liệu không thỏa mãn ràng buộc.",
            "The data does not satisfy a constraint.",
            constraint=name,
        )
    if code == "42501":  # row-level security refused a row of another agency
        return Forbidden(
            "Không được ghi dữ liệu của cơ quan khác.",
            "Rows of another agency cannot be written.",
        )
    return None


@asynccontextmanager
async def writing(db: Database, tenant_id: uuid.UUID | None) -> AsyncIterator[AsyncConnection]:
    """One write transaction as `tenant_id` (None: a platform transaction)."""
    try:
        async with db.transaction(tenant_id) as conn:
            yield conn
    except (IntegrityError, DBAPIError) as exc:
        problem = problem_for(exc)
        if problem is None:
            raise
        raise problem from exc
