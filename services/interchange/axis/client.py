"""The client of the national document interchange axis (VDXP), spec §3: one method per
operation of §3.3, signed headers of §3.2 (`signing.py`), typed answers.

Failures come in two kinds, because the caller's next step differs:
* `AxisUnavailable` (503): no usable answer - a timeout, a broken connection, a 5xx, a body
  that is not the axis's envelope. The operation may or may not have happened; retry later
  (and make the retry safe: a send whose answer was lost may have been delivered).
* `AxisRefused` (502): the axis answered and said no (`ErrorCode` other than "0"): wrong
  credentials, an unknown recipient, a bad packet. Retrying the same request will not help.
The client itself never retries; schedules, backoff and idempotency belong to its caller.

Responses are read as streams with a size limit, so a misbehaving endpoint cannot make the
service buffer more than one packet's worth of bytes."""

from __future__ import annotations

import base64
import binascii
import enum
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, Final, TypeVar

import httpx
import msgspec

from services.common.problems import DependencyUnavailable, Problem
from services.interchange.axis.signing import sdk_hash_hex, signed_headers

logger = logging.getLogger("qlvb.interchange.axis")

VIETNAM: Final = timezone(timedelta(hours=7))
JSON: Final = "application/json"
OCTET_STREAM: Final = "application/octet-stream"
SERVICE_TYPE: Final = "eDoc"
LIST_TIME_FORMAT: Final = "%d/%m/%Y %H:%M:%S"  # fromDate/toDate, as seen in the SDK sample
DEFAULT_MAX_PACKET_BYTES: Final = 100 << 20
# The JSON answers besides getEdoc's packet: directory lists, received lists.
_MAX_LIST_BYTES: Final = 64 << 20

T = TypeVar("T")


def vietnam_now() -> datetime:
    return datetime.now(VIETNAM)


class AxisUnavailable(DependencyUnavailable):
    code = "axis-unavailable"
    title_vi = "Trục liên thông tạm thời không sẵn sàng"
    title_en = "The interchange axis is temporarily unavailable"


class AxisRefused(Problem):
    status: ClassVar[int] = 502
    code: ClassVar[str] = "axis-refused"
    title_vi: ClassVar[str] = "Trục liên thông từ chối yêu cầu"
    title_en: ClassVar[str] = "The interchange axis refused the request"

    def __init__(self, operation: str, error_code: str, description: str, http_status: int) -> None:
        super().__init__(
            f"Trục liên thông từ chối {operation}: mã lỗi {error_code}, {description}",
            f"The axis refused {operation}: error code {error_code}, {description}",
            axis_error_code=error_code,
        )
        self.operation = operation
        self.error_code = error_code
        self.description = description
        self.http_status = http_status


class MessageType(enum.StrEnum):
    EDOC = "edoc"  # document packets (any BussinessDocType)
    STATUS = "status"  # status packets


class TransportStatus(enum.StrEnum):
    """`updateStatus`: the acknowledgement of a mailbox item, not the business status."""

    DONE = "done"
    FAIL = "fail"
    PROCESSING = "processing"


class AxisCredentials(msgspec.Struct, frozen=True, kw_only=True):
    system_id: str
    secret: str

    def __repr__(self) -> str:
        return f"AxisCredentials(system_id={self.system_id!r}, secret=<hidden>)"


# ---------------------------------------------------------------------------------------------
# Answers. Field types are lenient where the real axis's are unconfirmed (ids as numbers or
# text, nulls for empty values).

Id = int | str | None


class _Envelope(msgspec.Struct):
    status: str | None = None
    error_code: str | int | None = msgspec.field(name="ErrorCode", default=None)
    error_desc: str | None = msgspec.field(name="ErrorDesc", default=None)


class _DocIdAnswer(_Envelope):
    doc_id: str | None = msgspec.field(name="DocId", default=None)


class _DataAnswer(_Envelope):
    data: msgspec.Raw = msgspec.Raw(b"null")


class _CountAnswer(_Envelope):
    count: int = 0


class AxisAgency(msgspec.Struct, frozen=True):
    """`getAgenciesList`: an agency of the national directory."""

    code: str
    name: str | None = None
    id: Id = None
    pid: Id = None
    mail: str | None = None
    old_code: str | None = msgspec.field(name="oldCode", default=None)


class AxisAgencyQd20(msgspec.Struct, frozen=True):
    """`getAgenciesListQD20`: the QĐ 20 code and the QCVN 102 code of an agency."""

    code: str
    code102: str | None = None
    name: str | None = None
    id: Id = None
    mail: str | None = None


class AxisUnit(msgspec.Struct, frozen=True):
    """`getSynchronizeUnit`: a directory entry with its version, for incremental sync."""

    code: str
    name: str | None = None
    id: Id = None
    pid: Id = None
    mail: str | None = None
    version: Id = None
    center_code: str | None = msgspec.field(name="centerCode", default=None)
    deleted: bool | int | str | None = None
    modify_date: str | None = msgspec.field(name="modifyDate", default=None)
    is_agency: bool | int | str | None = msgspec.field(name="isAgency", default=None)


class ReceivedItem(msgspec.Struct, frozen=True):
    """`getReceivedEdocList`: a packet waiting in one of our agencies' mailboxes."""

    doc_id: str = msgspec.field(name="docId")
    service_type: str | None = msgspec.field(name="serviceType", default=None)
    message_type: str | None = msgspec.field(name="messageType", default=None)
    created_time: str | None = None
    updated_time: str | None = None
    from_code: str | None = msgspec.field(name="from", default=None)
    to_code: str | None = msgspec.field(name="to", default=None)
    status: str | None = None
    status_desc: str | None = None


class SentItem(msgspec.Struct, frozen=True):
    """`getSentEdocList`: the delivery of one sent packet to one recipient."""

    sender_doc_id: str | None = msgspec.field(name="senderDocId", default=None)
    receiver_doc_id: str | None = msgspec.field(name="receiverDocId", default=None)
    from_code: str | None = msgspec.field(name="fromCode", default=None)
    to_code: str | None = msgspec.field(name="toCode", default=None)
    service_type: str | None = msgspec.field(name="serviceType", default=None)
    message_type: str | None = msgspec.field(name="messageType", default=None)
    title: str | None = None
    notation: str | None = None
    sent_time: str | None = msgspec.field(name="sentTime", default=None)
    received_time: str | None = msgspec.field(name="receivedTime", default=None)
    send_status: str | None = msgspec.field(name="sendStatus", default=None)
    send_status_desc: str | None = msgspec.field(name="sendStatusDesc", default=None)
    receive_status: str | None = msgspec.field(name="receiveStatus", default=None)
    receive_status_desc: str | None = msgspec.field(name="receiveStatusDesc", default=None)


class AgencyRegistration(msgspec.Struct, frozen=True, kw_only=True):
    """`registerAgency` body: attach an agency (under its parent `pcode`) to our system."""

    code: str
    name: str
    pcode: str = ""
    id: str = ""
    mail: str = ""
    mobile: str = ""
    fax: str = ""


# ---------------------------------------------------------------------------------------------


class AxisClient:
    """One connected system's client. `http` may be shared (its pool, its transport); the
    client closes it only if it made it."""

    def __init__(
        self,
        endpoint: str,
        credentials: AxisCredentials,
        *,
        http: httpx.AsyncClient | None = None,
        timeout: float = 30.0,
        max_packet_bytes: int = DEFAULT_MAX_PACKET_BYTES,
        clock: Callable[[], datetime] = vietnam_now,
    ) -> None:
        self._endpoint = endpoint.rstrip("/")
        self._credentials = credentials
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=timeout)
        self._timeout = timeout
        self._max_packet_bytes = max_packet_bytes
        self._clock = clock

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AxisClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    # -- transport --------------------------------------------------------------------------

    def _headers(self, params: dict[str, str | Sequence[str]], content_type: str) -> dict[str, str]:
        return signed_headers(
            self._credentials.system_id,
            self._credentials.secret,
            params,
            content_type=content_type,
            now=self._clock(),
        )

    async def _exchange(
        self,
        method: str,
        operation: str,
        params: dict[str, str | Sequence[str]],
        *,
        limit: int,
        content_type: str = JSON,
        content: bytes | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> tuple[httpx.Response, bytes]:
        """Send one signed request; the response and at most `limit` bytes of its body."""
        headers = self._headers(params, content_type)
        if files is not None:
            # httpx writes the multipart Content-Type with its boundary; the signed set keeps
            # the SDK's application/octet-stream (spec §3.2).
            del headers["Content-Type"]
        request = self._http.build_request(
            method,
            f"{self._endpoint}/{operation}",
            headers=headers,
            content=content,
            files=files,
            timeout=self._timeout,
        )
        response, body = await send_limited(self._http, request, limit, operation)
        logger.debug("axis_call", extra={"operation": operation, "status": response.status_code})
        return response, body

    async def _call(
        self,
        method: str,
        operation: str,
        params: dict[str, str | Sequence[str]],
        answer: type[T],
        *,
        limit: int = _MAX_LIST_BYTES,
        content_type: str = JSON,
        content: bytes | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> T:
        response, body = await self._exchange(
            method,
            operation,
            params,
            limit=limit,
            content_type=content_type,
            content=content,
            files=files,
        )
        return _decode(operation, response.status_code, body, answer)

    async def _data(
        self, operation: str, params: dict[str, str | Sequence[str]], item: type[T]
    ) -> list[T]:
        answer = await self._call("POST", operation, params, _DataAnswer)
        # A list of a struct given at run time: msgspec takes the alias, mypy cannot name it.
        kind: Any = list[item]  # type: ignore[valid-type]
        items: list[T] = _decode_data(operation, answer.data, kind)
        return items

    # -- directory --------------------------------------------------------------------------

    async def get_agencies(self) -> list[AxisAgency]:
        return await self._data("getAgenciesList", {}, AxisAgency)

    async def get_agencies_qd20(self, level: int) -> list[AxisAgencyQd20]:
        return await self._data("getAgenciesListQD20", {"level": str(level)}, AxisAgencyQd20)

    async def get_synchronize_unit(self) -> list[AxisUnit]:
        return await self._data("getSynchronizeUnit", {}, AxisUnit)

    async def register_agency(self, registration: AgencyRegistration) -> None:
        await self._call(
            "POST",
            "registerAgency",
            {},
            _Envelope,
            content=msgspec.json.encode(registration),
        )

    async def delete_agency(self, code: str) -> None:
        await self._call("POST", "deleteAgency", {"AgencyCode": code}, _Envelope)

    # -- documents --------------------------------------------------------------------------

    async def send_edoc(
        self,
        packet: bytes,
        *,
        sender: str,
        recipients: Sequence[str],
        message_type: MessageType = MessageType.EDOC,
    ) -> str:
        """Post an edXML packet; the axis's id for it (`DocId`). A status packet may leave
        `recipients` empty: the axis then routes it by its `ResponseFor` (spec §3.4)."""
        params: dict[str, str | Sequence[str]] = {"from": sender}
        if recipients:
            params["to"] = list(recipients)
        params |= {
            "servicetype": SERVICE_TYPE,
            "messagetype": message_type.value,
            "hash-file": sdk_hash_hex(packet),
        }
        answer = await self._call(
            "POST",
            "sendEdoc",
            params,
            _DocIdAnswer,
            content_type=OCTET_STREAM,
            files={"file_doc": ("edoc.edxml", packet, OCTET_STREAM)},
        )
        if not answer.doc_id:
            raise unavailable("sendEdoc", "no DocId in the answer")
        return answer.doc_id

    async def get_received_edoc_list(
        self,
        message_type: MessageType = MessageType.EDOC,
        *,
        from_date: datetime | None = None,
        to_date: datetime | None = None,
    ) -> list[ReceivedItem]:
        params: dict[str, str | Sequence[str]] = {
            "servicetype": SERVICE_TYPE,
            "messagetype": message_type.value,
        }
        if from_date is not None:
            params["fromDate"] = from_date.astimezone(VIETNAM).strftime(LIST_TIME_FORMAT)
        if to_date is not None:
            params["toDate"] = to_date.astimezone(VIETNAM).strftime(LIST_TIME_FORMAT)
        return await self._data("getReceivedEdocList", params, ReceivedItem)

    async def get_sent_edoc_list(
        self, doc_id: str, message_type: MessageType = MessageType.EDOC
    ) -> list[SentItem]:
        params: dict[str, str | Sequence[str]] = {
            "servicetype": SERVICE_TYPE,
            "messagetype": message_type.value,
            "docId": doc_id,
        }
        return await self._data("getSentEdocList", params, SentItem)

    async def get_edoc(self, doc_id: str) -> bytes:
        """The edXML bytes of a received item (`data` is their base64 in the JSON answer)."""
        # base64 grows the packet by 4/3; the envelope adds little.
        limit = self._max_packet_bytes * 4 // 3 + (64 << 10)
        answer = await self._call("POST", "getEdoc", {"docId": doc_id}, _DataAnswer, limit=limit)
        encoded = _decode_data("getEdoc", answer.data, str)
        try:
            packet = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as error:
            raise unavailable("getEdoc", "data is not base64") from error
        if len(packet) > self._max_packet_bytes:
            raise too_large("getEdoc", self._max_packet_bytes)
        return packet

    async def download_edoc(self, doc_id: str) -> bytes:
        """The edXML bytes of a received item as a raw stream (for large packets)."""
        response, body = await self._exchange(
            "GET", "downloadEdoc", {"docId": doc_id}, limit=self._max_packet_bytes
        )
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        if response.status_code != 200 or media_type == JSON:
            _decode("downloadEdoc", response.status_code, body, _Envelope)
            raise unavailable("downloadEdoc", "an envelope instead of the packet")
        return body

    async def update_status(
        self, doc_id: str, status: TransportStatus, description: str | None = None
    ) -> None:
        """Acknowledge a received item: `done` or `fail` takes it off the received list."""
        params: dict[str, str | Sequence[str]] = {"docId": doc_id, "status": status.value}
        if description:
            params["description"] = description
        await self._call("POST", "updateStatus", params, _Envelope)

    async def count_received(self, message_type: MessageType = MessageType.EDOC) -> int:
        operation = "countReceiveEdoc" if message_type is MessageType.EDOC else "countReceiveStatus"
        params: dict[str, str | Sequence[str]] = {
            "servicetype": SERVICE_TYPE,
            "messagetype": message_type.value,
        }
        answer = await self._call("GET", operation, params, _CountAnswer)
        return answer.count


# ---------------------------------------------------------------------------------------------


def unavailable(operation: str, why: str) -> AxisUnavailable:
    return AxisUnavailable(
        f"Trục liên thông không trả lời được {operation} ({why}); sẽ thử lại sau.",
        f"The axis gave no usable answer to {operation} ({why}); try again later.",
    )


def too_large(operation: str, limit: int) -> AxisRefused:
    return AxisRefused(operation, "too-large", f"answer larger than {limit} bytes", 200)


async def send_limited(
    http: httpx.AsyncClient, request: httpx.Request, limit: int, operation: str
) -> tuple[httpx.Response, bytes]:
    """Sends a request and reads at most `limit` bytes of the answer; a network failure or a
    timeout is `AxisUnavailable` (retry later)."""
    try:
        response = await http.send(request, stream=True)
        try:
            body = await read_limited(response, limit, operation)
        finally:
            await response.aclose()
    except httpx.TimeoutException as error:
        raise unavailable(operation, "timeout") from error
    except httpx.TransportError as error:
        raise unavailable(operation, type(error).__name__) from error
    return response, body


async def read_limited(response: httpx.Response, limit: int, operation: str) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(operation, limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise too_large(operation, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _decode(operation: str, http_status: int, body: bytes, answer: type[T]) -> T:
    if http_status >= 500:
        raise unavailable(operation, f"HTTP {http_status}")
    try:
        decoded = msgspec.json.decode(body, type=answer)
    except msgspec.DecodeError as error:
        if http_status >= 400:
            raise AxisRefused(
                operation, f"http-{http_status}", "no envelope", http_status
            ) from error
        raise unavailable(operation, "not the axis's JSON envelope") from error
    assert isinstance(decoded, _Envelope)
    code = "" if decoded.error_code is None else str(decoded.error_code)
    if http_status >= 400 or decoded.status == "FAIL" or code not in ("0", ""):
        raise AxisRefused(
            operation, code or f"http-{http_status}", decoded.error_desc or "", http_status
        )
    return decoded


def _decode_data(operation: str, raw: msgspec.Raw, kind: type[T]) -> T:
    try:
        return msgspec.json.decode(raw, type=kind)
    except msgspec.ValidationError as error:
        raise unavailable(operation, f"unexpected data: {error}") from error
