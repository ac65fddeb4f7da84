"""Page forms into the API's own request bodies, so a form is checked by the same rules as the
JSON API; uploads into stored files and stored files back to the browser (files/listed.py finds a
card's file by id)."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import uuid
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import msgspec.inspect
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import UploadFile
from litestar.response import File

from services.common.problems import InvalidInput
from services.docs.files.storage_client import StorageClient, StorageError
from services.docs.incoming.schemas import FileRef

T = TypeVar("T")
# What a page upload may weigh: a scanned document of a few hundred pages.
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
_CHUNK = 1024 * 1024


def text(form: dict[str, Any], name: str) -> str:
    value = form.get(name)
    if isinstance(value, list):
        value = value[0] if value else ""
    return value.strip() if isinstance(value, str) else ""


def values(form: dict[str, Any], name: str) -> list[str]:
    value = form.get(name)
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [v.strip() for v in items if isinstance(v, str)]


# Day, month, year, as Vietnamese write a date: 02/11/2026 (also 2/11/2026, 02-11-2026, 02.11.2026).
_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


def day(raw: str) -> dt.date | None:
    """A date typed on the pages, day first (the pages show dates so, whatever the browser's
    language), or in ISO form as a browser's date picker and scripts send it; empty is None."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        if match := _DAY_MONTH_YEAR.fullmatch(raw):
            return dt.date(int(match[3]), int(match[2]), int(match[1]))
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            return dt.date.fromisoformat(raw)
    except ValueError:
        pass
    raise InvalidInput(
        f"Ngày «{raw}» không hợp lệ: hãy nhập ngày/tháng/năm, ví dụ 02/11/2026.",
        f"Not a valid date: {raw!r}; enter day/month/year, e.g. 02/11/2026.",
    )


# A day (as `day` reads it), then hours and minutes on a 24-hour clock: 02/11/2026 08:00.
_DAY_AND_TIME = re.compile(r"(\S+)[ T](\d{1,2}):(\d{2})")


def moment(raw: str) -> dt.datetime | None:
    """A time typed on the pages, day first then hours:minutes (or in ISO form, as a browser's
    picker sends it); naive, to be read in the zone the pages show times in; empty is None."""
    raw = raw.strip()
    if not raw:
        return None
    if match := _DAY_AND_TIME.fullmatch(raw):
        try:
            on = day(match[1])
            if on is not None:
                return dt.datetime.combine(on, dt.time(int(match[2]), int(match[3])))
        except (InvalidInput, ValueError):
            pass
    raise InvalidInput(
        f"Thời điểm «{raw}» không hợp lệ: hãy nhập ngày/tháng/năm giờ:phút, "
        "ví dụ 02/11/2026 08:00.",
        f"Not a valid time: {raw!r}; enter day/month/year hours:minutes, e.g. 02/11/2026 08:00.",
    )


_DATE_FIELDS: dict[type[Any], frozenset[str]] = {}


def _holds_date(kind: msgspec.inspect.Type) -> bool:
    kinds = kind.types if isinstance(kind, msgspec.inspect.UnionType) else (kind,)
    return any(isinstance(k, msgspec.inspect.DateType) for k in kinds)


def _date_fields(body_type: type[Any]) -> frozenset[str]:
    """The fields of a request body that hold a date (as the form names them)."""
    if (known := _DATE_FIELDS.get(body_type)) is not None:
        return known
    info = msgspec.inspect.type_info(body_type)
    names: frozenset[str] = frozenset()
    if isinstance(info, msgspec.inspect.StructType):
        names = frozenset(f.encode_name for f in info.fields if _holds_date(f.type))
    return _DATE_FIELDS.setdefault(body_type, names)


def convert(raw: dict[str, Any], body_type: type[T]) -> T:
    """Empty fields count as absent (a form sends every input); dates are read day first
    (`day`); the rest is validated as the JSON API validates it."""
    cleaned = {k: v for k, v in raw.items() if v not in ("", None, [])}
    for name in _date_fields(body_type) & cleaned.keys():
        if isinstance(cleaned[name], str):
            cleaned[name] = day(cleaned[name])
    try:
        return msgspec.convert(cleaned, type=body_type, strict=False)
    except msgspec.ValidationError as exc:
        raise InvalidInput(
            f"Thông tin nhập chưa đúng: {exc}.", f"Some fields are not valid: {exc}."
        ) from exc


async def store_upload(
    storage: StorageClient, tenant_id: uuid.UUID, upload: Any, *, required: bool
) -> FileRef | None:
    """The uploaded file stored in the agency's storage, as a file reference."""
    if not isinstance(upload, UploadFile) or not upload.filename:
        if required:
            raise InvalidInput("Hãy chọn tệp cần tải lên.", "Choose the file to upload.")
        return None
    with tempfile.TemporaryDirectory(prefix="qlvb-web-") as scratch:
        path = Path(scratch) / "upload"
        size = 0
        with path.open("wb") as out:
            while chunk := await upload.read(_CHUNK):
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    raise InvalidInput(
                        "Tệp lớn hơn 200 MB, hãy chia nhỏ hoặc giảm độ phân giải bản quét.",
                        "The file is larger than 200 MB.",
                    )
                out.write(chunk)
        if size == 0:
            raise InvalidInput("Tệp tải lên rỗng.", "The uploaded file is empty.")
        try:
            stored = await storage.upload(
                tenant_id, path, upload.filename, upload.content_type or "application/pdf"
            )
        except StorageError as exc:
            raise InvalidInput(
                "Kho lưu trữ không nhận tệp (định dạng hoặc nội dung không được chấp nhận).",
                f"The storage refused the file: {exc}",
            ) from exc
    return FileRef(
        object_id=uuid.UUID(stored["id"]),
        file_name=stored["file_name"],
        sha256=stored["sha256"],
        size=int(stored["size"]),
    )


async def stored_file(
    storage: StorageClient, tenant_id: uuid.UUID, object_id: uuid.UUID, sha256: str, name: str
) -> File:
    """A document's file for the browser: PDFs shown in the page, others downloaded. The bytes
    are checked against the hash the document recorded on the way."""
    scratch = Path(tempfile.mkdtemp(prefix="qlvb-web-file-"))
    target = scratch / "file"
    try:
        await storage.download(tenant_id, object_id, target, sha256)
    except BaseException:
        _remove(scratch)
        raise
    pdf = name.lower().endswith(".pdf")
    return File(
        path=target,
        filename=name,
        media_type="application/pdf" if pdf else None,
        content_disposition_type="inline" if pdf else "attachment",
        background=BackgroundTask(_remove, scratch),
    )


def _remove(scratch: Path) -> None:
    for child in scratch.iterdir():
        child.unlink(missing_ok=True)
    scratch.rmdir()
