"""HTTP API of bulk imports: the same parsing and application as `qlvb import-*`, for
operators working from a browser. The file is the request body (CSV or XLSX)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.status_codes import HTTP_200_OK

from services.common.auth.guards import requires_operator
from services.common.auth.principal import Principal
from services.common.db import Database
from services.common.problems import InvalidInput
from services.identity.actors import resolve_actor
from services.identity.imports.apply import ApplyReport, apply_agencies, apply_people
from services.identity.imports.parsing import parse_agencies, parse_people

MAX_BYTES = 20 << 20
FileName = Annotated[str, QueryParameter(name="name", min_length=5, max_length=255)]
DryRun = Annotated[bool, QueryParameter(name="dry_run")]


async def _body(request: Request[Any, Any, Any]) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BYTES:
            raise InvalidInput(
                "Tệp nhập quá lớn (tối đa 20 MiB).", "The import file exceeds 20 MiB."
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _refuse_bad_rows(report: ApplyReport) -> ApplyReport:
    """A dry run reports bad rows as its answer; a real run with bad rows writes nothing and
    is refused, naming every row."""
    if report.dry_run or report.applied:
        return report
    raise InvalidInput(
        f"Tệp có {report.error_count} dòng sai; chưa ghi gì. Hãy sửa rồi nhập lại.",
        f"The file has {report.error_count} bad rows; nothing was written.",
        errors=[
            {
                "line": e.line,
                "column": e.column,
                "column_label": e.column_label,
                "message": e.reason_vi,
                "message_en": e.reason_en,
            }
            for e in report.errors
        ],
    )


class ImportController(Controller):
    path = "/api/v1/imports"
    tags = ("imports",)
    guards = (requires_operator,)

    @post(
        "/agencies",
        status_code=HTTP_200_OK,
        summary="Nhập danh sách cơ quan từ tệp CSV/XLSX (dry_run để kiểm tra trước)",
        request_max_body_size=MAX_BYTES,
    )
    async def agencies(
        self,
        request: Request[Principal, Any, Any],
        db: NamedDependency[Database],
        name: FileName,
        dry_run: DryRun = True,
    ) -> ApplyReport:
        report = parse_agencies(await _body(request), name)
        async with db.transaction(None, read_only=True) as conn:
            actor = await resolve_actor(conn, None, request.user, None)
        return _refuse_bad_rows(await apply_agencies(db, report, actor, dry_run=dry_run))

    @post(
        "/people",
        status_code=HTTP_200_OK,
        summary="Nhập danh sách cán bộ và chức vụ từ tệp CSV/XLSX (dry_run để kiểm tra trước)",
        request_max_body_size=MAX_BYTES,
    )
    async def people(
        self,
        request: Request[Principal, Any, Any],
        db: NamedDependency[Database],
        name: FileName,
        dry_run: DryRun = True,
    ) -> ApplyReport:
        report = parse_people(await _body(request), name)
        async with db.transaction(None, read_only=True) as conn:
            actor = await resolve_actor(conn, None, request.user, None)
        return _refuse_bad_rows(await apply_people(db, report, actor, dry_run=dry_run))
