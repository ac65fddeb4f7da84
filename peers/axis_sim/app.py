"""The simulated national axis (VDXP) over HTTP: the operations of spec §3.3 with the signed
headers of §3.2, and `/admin` to set it up and switch faults on and off.

    POST /getAgenciesList  /getAgenciesListQD20  /getSynchronizeUnit  /registerAgency
    POST /deleteAgency  /sendEdoc (multipart, part file_doc)  /getReceivedEdocList
    POST /getSentEdocList  /getEdoc  /updateStatus        GET /downloadEdoc  /countReceiveEdoc
    GET  /countReceiveStatus
    GET|PUT /admin/faults   POST /admin/systems  /admin/agencies   GET /admin/stats
    POST /admin/lgsp/expire-tokens
    /v1/...: the provincial LGSP's REST surface over the same mailboxes (`lgsp.py`)

Every axis operation answers `{"status", "ErrorCode", "ErrorDesc", ...}`. HTTP statuses (the
real axis's are unconfirmed): 200 for success, 401 for bad credentials, 4xx for other refusals,
503 when the axis cannot take the work, so a client can tell retryable failures apart."""

from __future__ import annotations

import base64
import hmac
from collections.abc import Callable
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, get, post, put
from litestar.datastructures import UploadFile
from litestar.exceptions import PermissionDeniedException
from litestar.params import JSONBody

from peers.axis_sim import lgsp, wire
from peers.axis_sim.config import Agency, Faults, SimulatorConfig, System
from peers.axis_sim.faults import FaultInjector, Receive, Scope, Send
from peers.axis_sim.state import Axis
from peers.axis_sim.wire import AxisFailure

_JSON = "application/json"
# Room for the multipart framing around the packet.
_MULTIPART_OVERHEAD = 64 << 10

Operation = Callable[[str, dict[str, str]], dict[str, Any]]


def _reply(body: bytes, status: int = 200) -> Response[bytes]:
    return Response(body, status_code=status, media_type=_JSON)


def _failure(failure: AxisFailure) -> Response[bytes]:
    return _reply(wire.envelope(failure.code, failure.description), failure.http_status)


def _axis(request: Request[Any, Any, Any]) -> Axis:
    axis = request.app.state["axis"]
    assert isinstance(axis, Axis)
    return axis


def _authenticated(request: Request[Any, Any, Any], operation: Operation) -> Response[bytes]:
    axis = _axis(request)
    headers = {name.lower(): value for name, value in request.headers.items()}
    try:
        system_id, params = wire.verify_headers(headers, axis.secret_of)
        return _reply(wire.envelope(**operation(system_id, params)))
    except AxisFailure as failure:
        axis.count(f"refused_{failure.code}")
        return _failure(failure)


# ---------------------------------------------------------------------------------------------
# Axis operations


@post("/getAgenciesList", status_code=200)
async def get_agencies_list(request: Request[Any, Any, Any]) -> Response[bytes]:
    return _authenticated(request, lambda _s, _p: {"data": _axis(request).agencies_list()})


@post("/getAgenciesListQD20", status_code=200)
async def get_agencies_list_qd20(request: Request[Any, Any, Any]) -> Response[bytes]:
    return _authenticated(
        request,
        lambda _s, params: {"data": _axis(request).agencies_list_qd20(params.get("level", ""))},
    )


@post("/getSynchronizeUnit", status_code=200)
async def get_synchronize_unit(request: Request[Any, Any, Any]) -> Response[bytes]:
    return _authenticated(request, lambda _s, _p: {"data": _axis(request).synchronize_unit()})


@post("/registerAgency", status_code=200)
async def register_agency(request: Request[Any, Any, Any]) -> Response[bytes]:
    try:
        body = msgspec.json.decode(await request.body())
    except msgspec.DecodeError:
        body = None
    if not isinstance(body, dict):
        return _failure(AxisFailure(400, wire.PROCESSING_ERROR, "Thân yêu cầu không phải JSON"))

    def register(system_id: str, _params: dict[str, str]) -> dict[str, Any]:
        _axis(request).register_agency(system_id, body)
        return {}

    return _authenticated(request, register)


@post("/deleteAgency", status_code=200)
async def delete_agency(request: Request[Any, Any, Any]) -> Response[bytes]:
    def delete(system_id: str, params: dict[str, str]) -> dict[str, Any]:
        _axis(request).delete_agency(system_id, params.get("AgencyCode", ""))
        return {}

    return _authenticated(request, delete)


@post("/sendEdoc", status_code=200)
async def send_edoc(request: Request[Any, Any, Any]) -> Response[bytes]:
    axis = _axis(request)
    limit = axis.limits.max_packet_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + _MULTIPART_OVERHEAD:
        return _failure(AxisFailure(413, wire.INVALID_FILE, f"File quá lớn (> {limit} byte)"))
    # Credentials before the body: a stranger's upload is not read.
    headers = {name.lower(): value for name, value in request.headers.items()}
    try:
        wire.verify_headers(headers, axis.secret_of)
    except AxisFailure as failure:
        axis.count(f"refused_{failure.code}")
        return _failure(failure)
    form = await request.form()
    upload = form.get("file_doc")
    if not isinstance(upload, UploadFile):
        return _failure(AxisFailure(400, wire.INVALID_FILE, "Thiếu phần file_doc"))
    data = await upload.read()
    if len(data) > limit:
        return _failure(AxisFailure(413, wire.INVALID_FILE, f"File quá lớn (> {limit} byte)"))
    return _authenticated(
        request, lambda system_id, params: {"DocId": axis.send(system_id, params, data)}
    )


@post("/getReceivedEdocList", status_code=200)
async def get_received_edoc_list(request: Request[Any, Any, Any]) -> Response[bytes]:
    return _authenticated(
        request, lambda system_id, params: {"data": _axis(request).received(system_id, params)}
    )


@post("/getSentEdocList", status_code=200)
async def get_sent_edoc_list(request: Request[Any, Any, Any]) -> Response[bytes]:
    return _authenticated(
        request, lambda system_id, params: {"data": _axis(request).sent_list(system_id, params)}
    )


@post("/getEdoc", status_code=200)
async def get_edoc(request: Request[Any, Any, Any]) -> Response[bytes]:
    def fetch(system_id: str, params: dict[str, str]) -> dict[str, Any]:
        data = _axis(request).fetch(system_id, params.get("docId", ""))
        return {"data": base64.b64encode(data).decode()}

    return _authenticated(request, fetch)


@get("/downloadEdoc")
async def download_edoc(request: Request[Any, Any, Any]) -> Response[bytes]:
    axis = _axis(request)
    headers = {name.lower(): value for name, value in request.headers.items()}
    try:
        system_id, params = wire.verify_headers(headers, axis.secret_of)
        data = axis.fetch(system_id, params.get("docId", ""))
    except AxisFailure as failure:
        axis.count(f"refused_{failure.code}")
        return _failure(failure)
    return Response(data, media_type="application/octet-stream")


@post("/updateStatus", status_code=200)
async def update_status(request: Request[Any, Any, Any]) -> Response[bytes]:
    def update(system_id: str, params: dict[str, str]) -> dict[str, Any]:
        _axis(request).update_status(
            system_id,
            params.get("docId", ""),
            params.get("status", ""),
            params.get("description", ""),
        )
        return {}

    return _authenticated(request, update)


@get("/countReceiveEdoc")
async def count_receive_edoc(request: Request[Any, Any, Any]) -> Response[bytes]:
    return _authenticated(
        request,
        lambda system_id, _p: {"count": _axis(request).count_received(system_id, "edoc")},
    )


@get("/countReceiveStatus")
async def count_receive_status(request: Request[Any, Any, Any]) -> Response[bytes]:
    return _authenticated(
        request,
        lambda system_id, _p: {"count": _axis(request).count_received(system_id, "status")},
    )


# ---------------------------------------------------------------------------------------------
# Administration (unsigned; an optional shared token)


def _admin(request: Request[Any, Any, Any]) -> Axis:
    token = request.app.state["admin_token"]
    given = request.headers.get("x-admin-token", "")
    if token is not None and not hmac.compare_digest(str(token), given):
        raise PermissionDeniedException("X-Admin-Token")
    return _axis(request)


@get("/admin/faults")
async def read_faults(request: Request[Any, Any, Any]) -> Faults:
    return _admin(request).faults


@put("/admin/faults")
async def write_faults(request: Request[Any, Any, Any], data: JSONBody[Faults]) -> Faults:
    _admin(request).set_faults(data)
    return data


@post("/admin/systems")
async def add_system(request: Request[Any, Any, Any], data: JSONBody[System]) -> None:
    _admin(request).add_system(data)


@post("/admin/agencies")
async def add_agencies(request: Request[Any, Any, Any], data: JSONBody[list[Agency]]) -> None:
    axis = _admin(request)
    for agency in data:
        axis.add_agency(agency)


@get("/admin/stats")
async def read_stats(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return _admin(request).stats()


@post("/admin/lgsp/expire-tokens", status_code=200)
async def expire_tokens(request: Request[Any, Any, Any]) -> dict[str, int]:
    return {"expired": _admin(request).expire_tokens()}


class AxisSimulator:
    """The ASGI app of the simulated axis, and the axis it serves (for in-process checks)."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        config = config or SimulatorConfig()
        self.axis = Axis(config)
        self.litestar = Litestar(
            route_handlers=[
                get_agencies_list,
                get_agencies_list_qd20,
                get_synchronize_unit,
                register_agency,
                delete_agency,
                send_edoc,
                get_received_edoc_list,
                get_sent_edoc_list,
                get_edoc,
                download_edoc,
                update_status,
                count_receive_edoc,
                count_receive_status,
                read_faults,
                write_faults,
                add_system,
                add_agencies,
                read_stats,
                expire_tokens,
                *lgsp.HANDLERS,
            ],
            state=None,
            openapi_config=None,
            request_max_body_size=config.limits.max_packet_bytes + _MULTIPART_OVERHEAD,
        )
        self.litestar.state["axis"] = self.axis
        self.litestar.state["admin_token"] = config.admin_token
        self._app = FaultInjector(self.litestar, self.axis)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)


def create_app(config: SimulatorConfig | None = None) -> AxisSimulator:
    return AxisSimulator(config)
