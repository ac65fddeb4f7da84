"""The simulated provincial LGSP (spec §3.7): a REST surface over the same mailboxes as the
national axis, so that a system connected through its LGSP and one connected to VDXP exchange
documents with each other.

    POST /v1/auth/token             X-SystemId, X-SecretKey -> data.token, data.expiresIn
    POST /v1/sendEdoc               multipart edocFile + messageType, from, to (JSON array)
    GET  /v1/syncReceivedEdocList   ?messageType=edoc|status
    GET  /v1/getEdoc                ?docId=  -> data.edxml (the packet as text)
    POST /v1/updateStatus           JSON {"docId", "status"}
    POST /admin/lgsp/expire-tokens  every token issued so far stops working

Every operation but the token's wants `X-SystemId` and `X-SecretKey` (wrong: HTTP 401 with
error code 15) and a live `Authorization: Bearer` token (missing, unknown or expired: HTTP 401
without a code, on which a client fetches a new token). Answers are `{"success", "message",
"errorCode", "errorDesc", ...}`; a failure carries its code in `data.errorCode` as well, as the
one public integration of Lạng Sơn's LGSP reads it (spec source S6). The shapes are assumed
where §3.7 is silent, written from the spec independently of the product's client."""

from __future__ import annotations

import hmac
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile

from peers.axis_sim import wire
from peers.axis_sim.state import Axis, Item
from peers.axis_sim.wire import AxisFailure

_JSON = "application/json"
LGSP_TIME_FORMAT = "%Y/%m/%d %H:%M:%S"
# Room for the multipart framing around the packet.
_MULTIPART_OVERHEAD = 64 << 10


def _ok(**fields: Any) -> Response[bytes]:
    body = {"success": True, "message": "Thành công", "errorCode": wire.OK, "errorDesc": ""}
    return Response(msgspec.json.encode(body | fields), media_type=_JSON)


def _failure(failure: AxisFailure) -> Response[bytes]:
    body = {
        "success": False,
        "message": failure.description,
        "data": {
            "docId": None,
            "status": "FAIL",
            "errorCode": failure.code or None,
            "errorDesc": failure.description,
        },
    }
    return Response(msgspec.json.encode(body), status_code=failure.http_status, media_type=_JSON)


def _axis(request: Request[Any, Any, Any]) -> Axis:
    axis = request.app.state["axis"]
    assert isinstance(axis, Axis)
    return axis


def _system(request: Request[Any, Any, Any]) -> str:
    """The calling system, by its id and secret key."""
    axis = _axis(request)
    system_id = request.headers.get("x-systemid", "")
    given = request.headers.get("x-secretkey", "")
    secret = axis.secret_of(system_id) if system_id else None
    if secret is None or not hmac.compare_digest(secret.encode(), given.encode()):
        raise AxisFailure(401, wire.BAD_CREDENTIALS, "Sai SystemId/SecretKey")
    return system_id


def _authorised(request: Request[Any, Any, Any]) -> str:
    system_id = _system(request)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not _axis(request).token_valid(token.strip(), system_id):
        raise AxisFailure(401, "", "Token không hợp lệ hoặc đã hết hạn")
    return system_id


def _refused(request: Request[Any, Any, Any], failure: AxisFailure) -> Response[bytes]:
    _axis(request).count(f"lgsp_refused_{failure.code or failure.http_status}")
    return _failure(failure)


@post("/v1/auth/token", status_code=200)
async def token(request: Request[Any, Any, Any]) -> Response[bytes]:
    try:
        system_id = _system(request)
    except AxisFailure as failure:
        return _refused(request, failure)
    issued, seconds = _axis(request).issue_token(system_id)
    return _ok(data={"token": issued, "expiresIn": seconds})


@post("/v1/sendEdoc", status_code=200)
async def send_edoc(request: Request[Any, Any, Any]) -> Response[bytes]:
    axis = _axis(request)
    limit = axis.limits.max_packet_bytes
    declared = request.headers.get("content-length", "")
    try:
        if declared.isdigit() and int(declared) > limit + _MULTIPART_OVERHEAD:
            raise AxisFailure(413, wire.INVALID_FILE, f"File quá lớn (> {limit} byte)")
        # Credentials before the body: a stranger's upload is not read.
        system_id = _authorised(request)
        form = await request.form()
        upload = form.get("edocFile")
        if not isinstance(upload, UploadFile):
            raise AxisFailure(400, wire.INVALID_FILE, "Thiếu phần edocFile")
        data = await upload.read()
        if len(data) > limit:
            raise AxisFailure(413, wire.INVALID_FILE, f"File quá lớn (> {limit} byte)")
        params = {
            "messagetype": str(form.get("messageType") or ""),
            "servicetype": "eDoc",
            "from": str(form.get("from") or ""),
            # The LGSP computes the file's hash itself; the national axis is told it.
            "hash-file": wire.sdk_hash_hex(data),
        }
        to = str(form.get("to") or "")
        if to:
            params["to"] = to
        doc_id = axis.send(system_id, params, data)
    except AxisFailure as failure:
        return _refused(request, failure)
    axis.count("lgsp_sent")
    return _ok(docId=doc_id)


def _listing(item: Item) -> dict[str, Any]:
    return {
        "docId": item.doc_id,
        "from": item.from_code,
        "to": item.to_code,
        "messageType": item.message_type,
        "status": item.status,
        "statusDesc": item.status_desc,
        "createdTime": item.created.strftime(LGSP_TIME_FORMAT),
        "updatedTime": (item.updated or item.created).strftime(LGSP_TIME_FORMAT),
    }


@get("/v1/syncReceivedEdocList")
async def sync_received(request: Request[Any, Any, Any]) -> Response[bytes]:
    try:
        system_id = _authorised(request)
        message_type = request.query_params.get("messageType", "edoc").lower()
        if message_type not in ("edoc", "status"):
            raise AxisFailure(400, wire.PROCESSING_ERROR, "messageType không hợp lệ")
        items = _axis(request).listed(system_id, message_type)
    except AxisFailure as failure:
        return _refused(request, failure)
    return _ok(count=len(items), data=[_listing(item) for item in items])


@get("/v1/getEdoc")
async def get_edoc(request: Request[Any, Any, Any]) -> Response[bytes]:
    try:
        system_id = _authorised(request)
        doc_id = request.query_params.get("docId", "")
        axis = _axis(request)
        data = axis.fetch(system_id, doc_id)
        item = axis.items[doc_id]
    except AxisFailure as failure:
        return _refused(request, failure)
    # The packet travels as text (S6: data.edxml): bytes that are not UTF-8 cannot.
    text = data.decode("utf-8", errors="replace")
    return _ok(data={"docId": doc_id, "from": item.from_code, "edxml": text})


class _StatusBody(msgspec.Struct):
    doc_id: str = msgspec.field(name="docId")
    status: str = ""


@post("/v1/updateStatus", status_code=200)
async def update_status(request: Request[Any, Any, Any]) -> Response[bytes]:
    try:
        system_id = _authorised(request)
        try:
            body = msgspec.json.decode(await request.body(), type=_StatusBody)
        except msgspec.DecodeError as error:
            raise AxisFailure(400, wire.PROCESSING_ERROR, "Thân yêu cầu không hợp lệ") from error
        _axis(request).update_status(system_id, body.doc_id, body.status, "")
    except AxisFailure as failure:
        return _refused(request, failure)
    return _ok()


HANDLERS = [token, send_edoc, sync_received, get_edoc, update_status]
