"""Errors as RFC 9457 problem details, in Vietnamese first and English second.

Domain code raises a `Problem` subclass (or one of Litestar's own HTTP exceptions); the handlers
here are the only place that turns any exception into a response body. The language follows the
request's `Accept-Language` (Vietnamese unless English is preferred)."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.types import ExceptionHandlersMap

from services.common.db import is_unavailable

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://qlvb.gov.vn/problems/"

logger = logging.getLogger("qlvb.problems")


class Problem(Exception):
    """A failure the caller can understand and act on. Subclasses name one kind of failure."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad-request"
    title_vi: ClassVar[str] = "Yêu cầu không hợp lệ"
    title_en: ClassVar[str] = "Bad request"

    def __init__(self, detail_vi: str = "", detail_en: str = "", **extensions: Any) -> None:
        super().__init__(detail_en or detail_vi or self.title_en)
        self.detail_vi = detail_vi
        self.detail_en = detail_en
        self.extensions = extensions
        # Response headers the problem needs (e.g. Content-Range on a 416).
        self.headers: dict[str, str] = {}


class InvalidInput(Problem):
    status = 400
    code = "invalid-input"
    title_vi = "Dữ liệu không hợp lệ"
    title_en = "Invalid input"


class Unauthenticated(Problem):
    status = 401
    code = "unauthenticated"
    title_vi = "Chưa xác thực"
    title_en = "Not authenticated"


class Forbidden(Problem):
    status = 403
    code = "forbidden"
    title_vi = "Không có quyền"
    title_en = "Forbidden"


class NotFound(Problem):
    status = 404
    code = "not-found"
    title_vi = "Không tìm thấy"
    title_en = "Not found"


class Conflict(Problem):
    status = 409
    code = "conflict"
    title_vi = "Xung đột dữ liệu"
    title_en = "Conflict"


class DependencyUnavailable(Problem):
    status = 503
    code = "dependency-unavailable"
    title_vi = "Dịch vụ phụ thuộc tạm thời không sẵn sàng"
    title_en = "A dependency is temporarily unavailable"


class ProblemBody(msgspec.Struct, omit_defaults=True):
    type: str
    title: str
    status: int
    code: str
    detail: str = ""
    instance: str = ""
    errors: list[dict[str, Any]] = []


_LITESTAR_PROBLEMS: dict[int, tuple[str, str, str]] = {
    400: ("invalid-input", "Dữ liệu không hợp lệ", "Invalid input"),
    401: ("unauthenticated", "Chưa xác thực", "Not authenticated"),
    403: ("forbidden", "Không có quyền", "Forbidden"),
    404: ("not-found", "Không tìm thấy", "Not found"),
    405: ("method-not-allowed", "Phương thức không được hỗ trợ", "Method not allowed"),
    413: ("payload-too-large", "Dữ liệu gửi lên quá lớn", "Payload too large"),
    415: ("unsupported-media-type", "Kiểu dữ liệu không được hỗ trợ", "Unsupported media type"),
    429: ("too-many-requests", "Quá nhiều yêu cầu", "Too many requests"),
    500: ("internal-error", "Lỗi hệ thống", "Internal error"),
    503: ("dependency-unavailable", "Dịch vụ tạm thời không sẵn sàng", "Service unavailable"),
}


def prefers_english(request: Request[Any, Any, Any]) -> bool:
    header = request.headers.get("accept-language", "")
    for part in header.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("vi"):
            return False
        if tag.startswith("en"):
            return True
    return False


_SCALAR = (str, int, float, bool)


def _response(
    request: Request[Any, Any, Any],
    body: ProblemBody,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> Response[Any]:
    body.instance = request.url.path
    content: Any = body
    if extensions:
        # RFC 9457 extension members, at the top level; they never replace a standard member.
        content = msgspec.to_builtins(body)
        for name, value in extensions.items():
            if name not in content and isinstance(value, _SCALAR):
                content[name] = value
    return Response(
        content=msgspec.json.encode(content),
        status_code=body.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def problem_response(request: Request[Any, Any, Any], exc: Problem) -> Response[Any]:
    english = prefers_english(request)
    title = exc.title_en if english else exc.title_vi
    detail = (exc.detail_en or exc.detail_vi) if english else (exc.detail_vi or exc.detail_en)
    body = ProblemBody(
        type=PROBLEM_TYPE_BASE + exc.code,
        title=title,
        status=exc.status,
        code=exc.code,
        detail=detail,
    )
    errors = exc.extensions.get("errors")
    if isinstance(errors, list):
        body.errors = errors
    headers = dict(exc.headers)
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="qlvb"'
    return _response(request, body, headers or None, exc.extensions)


def http_exception_response(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    code, title_vi, title_en = _LITESTAR_PROBLEMS.get(
        status, ("http-error", "Lỗi yêu cầu", "Request error")
    )
    english = prefers_english(request)
    body = ProblemBody(
        type=PROBLEM_TYPE_BASE + code,
        title=title_en if english else title_vi,
        status=status,
        code=code,
        detail=exc.detail if exc.detail and exc.detail != title_en else "",
    )
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list):
        body.errors = [e if isinstance(e, dict) else {"message": str(e)} for e in exc.extra]
    headers = dict(exc.headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="qlvb"')
    return _response(request, body, headers or None)


def unexpected_error_response(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if is_unavailable(exc):
        # The database went away mid-request: the caller should retry, not report a bug.
        logger.warning("database_unavailable", extra={"path": request.url.path, "error": repr(exc)})
        return problem_response(
            request,
            DependencyUnavailable(
                "Cơ sở dữ liệu tạm thời không truy cập được; hãy thử lại sau.",
                "The database is temporarily unreachable; try again later.",
            ),
        )
    if isinstance(exc, RecursionError) and "deserializing" in str(exc):
        # msgspec refuses JSON nested deeper than it decodes with a RecursionError, not a
        # DecodeError, and Litestar lets it through: a body such as [[[[...]]]] is the caller's.
        return problem_response(
            request,
            InvalidInput(
                "Dữ liệu JSON gửi lên lồng nhau quá sâu.", "The JSON body is nested too deeply."
            ),
        )
    # The caller learns nothing of the internals; the log carries the trace id to find them.
    logger.exception("unhandled_error", extra={"path": request.url.path})
    code, title_vi, title_en = _LITESTAR_PROBLEMS[500]
    english = prefers_english(request)
    body = ProblemBody(
        type=PROBLEM_TYPE_BASE + code,
        title=title_en if english else title_vi,
        status=500,
        code=code,
    )
    return _response(request, body)


def exception_handlers() -> ExceptionHandlersMap:
    return {
        Problem: problem_response,
        ValidationException: http_exception_response,
        NotAuthorizedException: http_exception_response,
        PermissionDeniedException: http_exception_response,
        NotFoundException: http_exception_response,
        MethodNotAllowedException: http_exception_response,
        HTTPException: http_exception_response,
        Exception: unexpected_error_response,
    }


__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "Conflict",
    "DependencyUnavailable",
    "Forbidden",
    "InvalidInput",
    "MediaType",
    "NotFound",
    "Problem",
    "Unauthenticated",
    "exception_handlers",
]
