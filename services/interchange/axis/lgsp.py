"""The client of a provincial LGSP axis (spec §3.7), behind the same `Mailbox` as the national
one, so that an agency connected through its province's LGSP sends and receives through the
same pipeline.

The REST shape is Lạng Sơn's as far as spec §3.7 confirms it, the rest assumed from the one
public integration of it (S6) and recorded in ADR 0021:

    POST {base}/v1/auth/token            X-SystemId, X-SecretKey -> {"data": {"token": ...}}
    POST {base}/v1/sendEdoc              multipart: edocFile (the .edxml), messageType, from,
                                         to (JSON array of codes; empty for a status)
                                         -> {"docId": ...} (or data.docId)
    GET  {base}/v1/syncReceivedEdocList  ?messageType=edoc|status -> {"data": [{docId, from,
                                         to, messageType, status, statusDesc, createdTime,
                                         updatedTime}]}
    GET  {base}/v1/getEdoc               ?docId= -> {"data": {"docId", "from", "edxml"}}, the
                                         packet as text
    POST {base}/v1/updateStatus          JSON {"docId", "status"} (done | fail)

Every call but the token's carries `X-SystemId`, `X-SecretKey` and `Authorization: Bearer`.
Answers are `{"success", "message", "errorCode"|data.errorCode, "errorDesc", ...}` with the
LGSP catalogue: 0 success; 20 (lỗi hệ thống LGSP) is `AxisUnavailable`, retried later like a
5xx; 10, 15, 18, 19, 21, 22, 23 and any other code are `AxisRefused`, definitive, with the
code kept, so the pipeline classifies them as it does the national axis's.

Tokens live in `LgspTokens`, shared by the process's clients (a client lives one job run). A
401 on an operation drops the token and the call is made once more with a new one; a second
401, or a token refused (15), is the connector's error."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Sequence
from typing import Any, Final, TypeVar

import httpx
import msgspec

from services.interchange.axis.client import (
    DEFAULT_MAX_PACKET_BYTES,
    LIST_TIME_FORMAT,
    AxisCredentials,
    AxisRefused,
    MessageType,
    ReceivedItem,
    TransportStatus,
    send_limited,
    too_large,
    unavailable,
)

logger = logging.getLogger("qlvb.interchange.lgsp")

T = TypeVar("T")

SYSTEM_ERROR: Final = "20"  # lỗi hệ thống LGSP: the only code that is worth retrying
# createdTime as LGSP writes dates (S6: yyyy/MM/dd), with the time of day.
LGSP_TIME_FORMAT: Final = "%Y/%m/%d %H:%M:%S"
_MAX_LIST_BYTES: Final = 64 << 20
_TOKEN_BYTES: Final = 64 << 10


class LgspTokens:
    """Bearer tokens by connection (endpoint, system id and a digest of the secret, so that a
    changed secret never reuses a token issued for the old one)."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str, str], str] = {}

    def get(self, key: tuple[str, str, str]) -> str | None:
        return self._tokens.get(key)

    def put(self, key: tuple[str, str, str], token: str) -> None:
        self._tokens[key] = token

    def drop(self, key: tuple[str, str, str], token: str) -> None:
        if self._tokens.get(key) == token:
            del self._tokens[key]


# ---------------------------------------------------------------------------------------------
# Answers (lenient where the real LGSP's types are unconfirmed)


class _ErrorData(msgspec.Struct):
    error_code: str | int | None = msgspec.field(name="errorCode", default=None)
    error_desc: str | None = msgspec.field(name="errorDesc", default=None)
    doc_id: str | None = msgspec.field(name="docId", default=None)


class _Envelope(msgspec.Struct):
    success: bool | None = None
    message: str | None = None
    error_code: str | int | None = msgspec.field(name="errorCode", default=None)
    error_desc: str | None = msgspec.field(name="errorDesc", default=None)
    doc_id: str | None = msgspec.field(name="docId", default=None)
    data: msgspec.Raw = msgspec.Raw(b"null")


class _Token(msgspec.Struct):
    token: str


class _Item(msgspec.Struct, frozen=True):
    doc_id: str = msgspec.field(name="docId")
    from_code: str | None = msgspec.field(name="from", default=None)
    to_code: str | None = msgspec.field(name="to", default=None)
    message_type: str | None = msgspec.field(name="messageType", default=None)
    status: str | None = None
    status_desc: str | None = msgspec.field(name="statusDesc", default=None)
    created_time: str | None = msgspec.field(name="createdTime", default=None)
    updated_time: str | None = msgspec.field(name="updatedTime", default=None)


class _Document(msgspec.Struct):
    edxml: str
    doc_id: str | None = msgspec.field(name="docId", default=None)


def _error_data(raw: msgspec.Raw) -> _ErrorData | None:
    try:
        found = msgspec.json.decode(raw, type=_ErrorData | None)
    except msgspec.ValidationError:
        return None  # data is a list or a value: no error details in it
    return found


def _decode(operation: str, http_status: int, body: bytes) -> _Envelope:
    if http_status >= 500:
        raise unavailable(operation, f"HTTP {http_status}")
    try:
        envelope = msgspec.json.decode(body, type=_Envelope)
    except msgspec.DecodeError as error:
        if http_status >= 400:
            raise AxisRefused(
                operation, f"http-{http_status}", "no envelope", http_status
            ) from error
        raise unavailable(operation, "not the LGSP's JSON envelope") from error
    details = _error_data(envelope.data)
    code = envelope.error_code
    if code is None and details is not None:
        code = details.error_code
    text = "" if code is None else str(code)
    description = envelope.error_desc or (details.error_desc if details else None) or ""
    description = description or envelope.message or ""
    if text == SYSTEM_ERROR:
        raise unavailable(operation, f"LGSP error 20: {description}")
    if http_status >= 400 or envelope.success is False or text not in ("0", ""):
        raise AxisRefused(operation, text or f"http-{http_status}", description, http_status)
    return envelope


def _data(operation: str, raw: msgspec.Raw, kind: Any) -> Any:
    try:
        return msgspec.json.decode(raw, type=kind)
    except msgspec.ValidationError as error:
        raise unavailable(operation, f"unexpected data: {error}") from error


def _listed_time(text: str | None) -> str | None:
    """createdTime in the national axis's list format, which the poller orders by."""
    if not text:
        return None
    try:
        moment = dt.datetime.strptime(text, LGSP_TIME_FORMAT)
    except ValueError:
        return None
    return moment.strftime(LIST_TIME_FORMAT)


class LgspClient:
    """One connected system's client of a provincial LGSP. `http` is shared (never closed
    here); `tokens` is the process's token cache."""

    def __init__(
        self,
        endpoint: str,
        credentials: AxisCredentials,
        *,
        tokens: LgspTokens,
        http: httpx.AsyncClient,
        timeout: float = 30.0,
        max_packet_bytes: int = DEFAULT_MAX_PACKET_BYTES,
    ) -> None:
        self._endpoint = endpoint.rstrip("/")
        self._credentials = credentials
        self._tokens = tokens
        self._http = http
        self._timeout = timeout
        self._max_packet_bytes = max_packet_bytes
        secret_digest = hashlib.sha256(credentials.secret.encode()).hexdigest()
        self._key = (self._endpoint, credentials.system_id, secret_digest)

    # -- transport --------------------------------------------------------------------------

    def _headers(self, token: str | None) -> dict[str, str]:
        headers = {
            "X-SystemId": self._credentials.system_id,
            "X-SecretKey": self._credentials.secret,
            "Accept": "application/json",
        }
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    async def _exchange(
        self,
        method: str,
        operation: str,
        token: str | None,
        *,
        limit: int,
        params: dict[str, str] | None = None,
        json: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> tuple[int, bytes]:
        request = self._http.build_request(
            method,
            f"{self._endpoint}/v1/{operation}",
            headers=self._headers(token),
            params=params,
            json=json,
            data=data,
            files=files,
            timeout=self._timeout,
        )
        response, body = await send_limited(self._http, request, limit, operation)
        logger.debug("lgsp_call", extra={"operation": operation, "status": response.status_code})
        return response.status_code, body

    async def _token(self) -> str:
        token = self._tokens.get(self._key)
        if token is not None:
            return token
        status, body = await self._exchange("POST", "auth/token", None, limit=_TOKEN_BYTES)
        envelope = _decode("auth/token", status, body)
        issued: _Token = _data("auth/token", envelope.data, _Token)
        self._tokens.put(self._key, issued.token)
        return issued.token

    async def _call(
        self,
        method: str,
        operation: str,
        *,
        limit: int = _MAX_LIST_BYTES,
        params: dict[str, str] | None = None,
        json: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> _Envelope:
        token = await self._token()
        options: dict[str, Any] = {
            "limit": limit,
            "params": params,
            "json": json,
            "data": data,
            "files": files,
        }
        status, body = await self._exchange(method, operation, token, **options)
        if status == 401:
            # The token expired (or the LGSP forgot it): once more with a new one. A refused
            # call did nothing, so repeating it is safe.
            logger.info("lgsp_token_refreshed", extra={"operation": operation})
            self._tokens.drop(self._key, token)
            token = await self._token()
            status, body = await self._exchange(method, operation, token, **options)
        return _decode(operation, status, body)

    # -- the mailbox ------------------------------------------------------------------------

    async def send_edoc(
        self,
        packet: bytes,
        *,
        sender: str,
        recipients: Sequence[str],
        message_type: MessageType = MessageType.EDOC,
    ) -> str:
        fields = {
            "messageType": message_type.value,
            "from": sender,
            "to": msgspec.json.encode(list(recipients)).decode() if recipients else "",
        }
        envelope = await self._call(
            "POST",
            "sendEdoc",
            data=fields,
            files={"edocFile": ("edoc.edxml", packet, "application/xml")},
        )
        details = _error_data(envelope.data)
        doc_id = envelope.doc_id or (details.doc_id if details else None)
        if not doc_id:
            raise unavailable("sendEdoc", "no docId in the answer")
        return doc_id

    async def get_received_edoc_list(
        self, message_type: MessageType = MessageType.EDOC
    ) -> list[ReceivedItem]:
        envelope = await self._call(
            "GET", "syncReceivedEdocList", params={"messageType": message_type.value}
        )
        items: list[_Item] = _data("syncReceivedEdocList", envelope.data, list[_Item])
        return [
            ReceivedItem(
                doc_id=item.doc_id,
                service_type="eDoc",
                message_type=item.message_type or message_type.value,
                created_time=_listed_time(item.created_time),
                updated_time=_listed_time(item.updated_time),
                from_code=item.from_code,
                to_code=item.to_code,
                status=item.status,
                status_desc=item.status_desc,
            )
            for item in items
        ]

    async def get_edoc(self, doc_id: str) -> bytes:
        """The packet of a received item. It comes as JSON text, where a character may take up
        to six bytes (`\\uXXXX`): the answer may be twice the packet limit; the packet not."""
        limit = self._max_packet_bytes * 2 + (64 << 10)
        envelope = await self._call("GET", "getEdoc", limit=limit, params={"docId": doc_id})
        document: _Document = _data("getEdoc", envelope.data, _Document)
        packet = document.edxml.encode("utf-8", errors="surrogatepass")
        if len(packet) > self._max_packet_bytes:
            raise too_large("getEdoc", self._max_packet_bytes)
        return packet

    async def update_status(
        self, doc_id: str, status: TransportStatus, description: str | None = None
    ) -> None:
        """Acknowledge a received item. The LGSP body has no description (spec §3.7): the
        reason of a refusal stays in our dead letter and in the 02 status packet."""
        del description
        await self._call("POST", "updateStatus", json={"docId": doc_id, "status": status.value})
