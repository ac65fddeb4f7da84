"""Search results of incoming documents as CSV or XLSX, with Vietnamese column headings.

The rows come from the incoming list itself, page by page, so an export holds exactly what the
list shows the same person (confidential documents by the same rule), in the same order.
CSV is written as it is read; XLSX (a ZIP of XML parts) is built in a temporary file first.
An export is capped: beyond `EXPORT_LIMIT` rows the person is asked to narrow the search
rather than given a file silently cut short."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]
from sqlalchemy import func, select

from services.common.auth.principal import Principal
from services.common.problems import InvalidInput
from services.docs.catalog.types import (
    BY_CODE,
    CONFIDENTIALITY_LABELS,
    URGENCY_LABELS,
    Confidentiality,
    Urgency,
)
from services.docs.incoming.schemas import DocumentSummary
from services.docs.incoming.service import VIETNAM, IncomingService, list_statement, today
from services.docs.saved_searches.schemas import SearchParams

EXPORT_LIMIT = 50_000
PAGE = 500
CHUNK = 1 << 16

HEADINGS = (
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
)
STATE_LABELS = {
    "waiting": "Chờ vào sổ",
    "registered": "Đã vào sổ",
    "assigned": "Đã phân công",
    "processing": "Đang xử lý",
    "completed": "Đã hoàn thành",
    "returned": "Đã trả lại",
}
_WIDTHS = (6, 9, 17, 30, 18, 13, 14, 60, 12, 10, 12, 15, 9)

Cell = str | int | dt.date | dt.datetime | None


def values(index: int, item: DocumentSummary) -> list[Cell]:
    doc_type = BY_CODE.get(item.doc_type)
    return [
        index,
        item.arrival_number,
        # Spreadsheets have no time zones: the agency's local time.
        item.arrived_at.astimezone(VIETNAM).replace(tzinfo=None, microsecond=0),
        item.sender_name,
        item.number_symbol,
        item.issued_on,
        doc_type.name if doc_type else item.doc_type,
        item.subject,
        URGENCY_LABELS[Urgency(item.urgency)],
        CONFIDENTIALITY_LABELS[Confidentiality(item.confidentiality)],
        item.due_on,
        STATE_LABELS.get(item.state, item.state),
        "Có" if item.overdue else "Không",
    ]


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return str(value)


async def count_matching(
    incoming: IncomingService, tenant_id: uuid.UUID, principal: Principal, params: SearchParams
) -> int:
    """How many rows, counted up to one past the cap."""
    matching = list_statement(
        tenant_id,
        principal,
        state=params.state,
        query=params.q,
        assigned_to_me=params.mine,
        overdue_on=today() if params.overdue else None,
        limit=EXPORT_LIMIT,
    ).subquery()
    async with incoming.db.transaction(tenant_id, read_only=True) as conn:
        return int((await conn.execute(select(func.count()).select_from(matching))).scalar_one())


async def check_size(
    incoming: IncomingService, tenant_id: uuid.UUID, principal: Principal, params: SearchParams
) -> None:
    if await count_matching(incoming, tenant_id, principal, params) > EXPORT_LIMIT:
        limit = f"{EXPORT_LIMIT:,}".replace(",", ".")  # 50.000, as Vietnamese write it
        raise InvalidInput(
            f"Kết quả tìm kiếm quá {limit} văn bản; hãy thu hẹp điều kiện tìm kiếm trước khi xuất.",
            f"More than {EXPORT_LIMIT} results; narrow the search before exporting.",
        )


async def pages(
    incoming: IncomingService, tenant_id: uuid.UUID, principal: Principal, params: SearchParams
) -> AsyncIterator[list[DocumentSummary]]:
    cursor: str | None = None
    while True:
        page = await incoming.list(
            tenant_id,
            principal,
            state=params.state,
            query=params.q,
            assigned_to_me=params.mine,
            overdue=params.overdue,
            cursor=cursor,
            limit=PAGE,
        )
        yield page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


async def csv_stream(rows: AsyncIterator[list[DocumentSummary]]) -> AsyncIterator[bytes]:
    # The byte order mark makes Excel read the file as UTF-8 (Vietnamese diacritics).
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADINGS)
    yield ("\ufeff" + buffer.getvalue()).encode("utf-8")
    index = 0
    async for items in rows:
        buffer.seek(0)
        buffer.truncate()
        for item in items:
            index += 1
            writer.writerow([_text(v) for v in values(index, item)])
        yield buffer.getvalue().encode("utf-8")


def write_xlsx(items: list[DocumentSummary], target: Path) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Văn bản đến")
    for column, width in zip("ABCDEFGHIJKLM", _WIDTHS, strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for heading in HEADINGS:
        cell = WriteOnlyCell(sheet, value=heading)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for index, item in enumerate(items, start=1):
        row: list[object] = []
        for value in values(index, item):
            if isinstance(value, dt.datetime | dt.date):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = (
                    "dd/mm/yyyy hh:mm" if isinstance(value, dt.datetime) else "dd/mm/yyyy"
                )
                row.append(cell)
            else:
                row.append(value)
        sheet.append(row)
    workbook.save(target)


async def xlsx_file(rows: AsyncIterator[list[DocumentSummary]]) -> tempfile.TemporaryDirectory[str]:
    """A temporary directory holding `ket-qua.xlsx`."""
    items = [item async for page in rows for item in page]
    directory = tempfile.TemporaryDirectory(prefix="qlvb-export-")
    try:
        await asyncio.to_thread(write_xlsx, items, Path(directory.name) / "ket-qua.xlsx")
    except BaseException:
        directory.cleanup()
        raise
    return directory


async def file_stream(directory: tempfile.TemporaryDirectory[str]) -> AsyncIterator[bytes]:
    try:
        with (Path(directory.name) / "ket-qua.xlsx").open("rb") as handle:
            while chunk := await asyncio.to_thread(handle.read, CHUNK):
                yield chunk
    finally:
        directory.cleanup()
