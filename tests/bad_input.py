"""A sweep of a service's whole HTTP API with bad input, read from its own OpenAPI document:
every operation gets malformed and unknown identifiers in its path, junk in every query
parameter and broken bodies, and must answer each with a 4xx problem (RFC 9457), never a 500
and never a success it should not give."""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from litestar.params import QueryParameter

PROBLEM = "application/problem+json"
# What a query parameter may be given by a careless client or a hostile one.
JUNK_QUERY = [
    "",
    "-1",
    "9" * 40,
    "maybe",
    "2026-13-45",
    "31/02/2026",
    "%00",
    "\x00",
    "' OR 1=1 --",
    "x" * 5000,
    str(uuid.uuid4()),
]
# Bodies that are not what any operation takes (an object could be: a body whose fields are all
# optional takes {} and ignores what it does not know).
JUNK_BODIES: list[tuple[str, bytes]] = [
    ("application/json", b"{"),
    ("application/json", b"[]"),
    ("application/json", b"null"),
    ("application/json", b'"text"'),
    ("application/json", b'{"unclosed": "'),
    ("application/json", b"\xff\xfe\x00"),
    ("application/json", b"[" * 5000 + b"]" * 5000),
    ("application/json", json.dumps(["x" * 200_000]).encode()),
    ("text/plain", b"not json at all"),
    ("application/x-www-form-urlencoded", b""),
    ("application/x-www-form-urlencoded", b"%%%=&&=%ZZ&a=" + b"x" * 100_000),
    ("multipart/form-data; boundary=nothing", b"--nothing\r\nbroken"),
]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    path_params: dict[str, str]  # name -> OpenAPI type or format
    query_params: tuple[str, ...]
    has_body: bool


@dataclass
class Findings:
    # Pages answer a refusal with an HTML page in Vietnamese, the APIs with a problem document.
    pages: bool = False
    failures: list[str] = field(default_factory=list)
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)

    @property
    def refused_as_input(self) -> int:
        """Answers that judged the input itself, not the caller's rights (a 404 is an unknown id,
        or a malformed one that no route matches)."""
        return sum(
            n for status, n in self.statuses.items() if status in (400, 404, 409, 413, 415, 422)
        )

    def check(self, operation: Operation, what: str, response: httpx.Response) -> None:
        self.requests += 1
        self.statuses[response.status_code] += 1
        where = f"{operation.method} {operation.path} [{what}] -> {response.status_code}"
        if response.status_code >= 500:
            self.failures.append(f"{where}: {response.text[:300]}")
        elif self.pages:
            return
        elif response.status_code < 300 and operation.method != "GET":
            # A list may match nothing for junk words; a change must not happen on junk.
            self.failures.append(f"{where}: bad input accepted: {response.text[:300]}")
        elif response.status_code >= 400 and not response.headers.get(
            "content-type", ""
        ).startswith(PROBLEM):
            self.failures.append(f"{where}: not a problem document ({response.headers})")


def operations(app: Any, prefix: str = "/api/") -> list[Operation]:
    """The operations of `app` under `prefix`, from its OpenAPI document."""
    found = []
    for path, item in app.openapi_schema.to_schema()["paths"].items():
        if not path.startswith(prefix):
            continue
        for method, spec in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            parameters = spec.get("parameters", [])
            found.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    path_params={
                        p["name"]: str(
                            p.get("schema", {}).get("format") or p.get("schema", {}).get("type")
                        )
                        for p in parameters
                        if p["in"] == "path"
                    },
                    query_params=tuple(p["name"] for p in parameters if p["in"] == "query"),
                    has_body="requestBody" in spec,
                )
            )
    return found


_TEMPLATE = re.compile(r"\{(\w+):(\w+)\}")
_NOT_PAGES = ("/api/", "/static", "/schema", "/health", "/ready")


def page_operations(app: Any, under: str = "/") -> list[Operation]:
    """The web pages of `app` under `under` (forms and links, not in its OpenAPI document),
    from its routes and their handlers' query parameters."""
    found = []
    for route in app.routes:
        if route.path.startswith(_NOT_PAGES) or not route.path.startswith(under):
            continue
        path = _TEMPLATE.sub(r"{\1}", route.path)
        kinds = {
            name: {"int": "integer"}.get(kind, kind) for name, kind in _TEMPLATE.findall(route.path)
        }
        for handler in getattr(route, "route_handlers", []):
            query = tuple(
                getattr(definition.kwarg_definition, "query", None) or name
                for name, definition in handler.parsed_fn_signature.parameters.items()
                if isinstance(definition.kwarg_definition, QueryParameter)
            )
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                found.append(Operation(method, path, kinds, query, method != "GET"))
    return found


def _fill(operation: Operation, value_of: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: value_of[m.group(1)], operation.path)


def _unknown(kind: str) -> str:
    """An identifier of the right shape that names nothing."""
    return {"uuid": str(uuid.uuid4()), "integer": "987654321"}.get(kind, "nothing-here")


def requests_for(operation: Operation) -> Iterator[tuple[str, dict[str, Any]]]:
    """(what, httpx request arguments) for every bad request of `operation`."""
    unknown = {name: _unknown(kind) for name, kind in operation.path_params.items()}
    path = _fill(operation, unknown)
    for name in operation.path_params:
        for bad in ("not-an-id", "-1", "%E2%82", "x" * 300):
            yield f"path {name}={bad[:20]}", {"url": _fill(operation, {**unknown, name: bad})}
    if operation.path_params:
        yield "unknown ids", {"url": path, **_json_body(operation, b"{}")}
    for junk in JUNK_QUERY:
        if operation.query_params:
            params = dict.fromkeys(operation.query_params, junk)
            yield f"query={junk[:20]!r}", {"url": path, "params": params}
    if operation.has_body:
        for content_type, body in JUNK_BODIES:
            yield (
                f"body {content_type} {body[:20]!r}",
                {"url": path, "content": body, "headers": {"content-type": content_type}},
            )


def _json_body(operation: Operation, body: bytes) -> dict[str, Any]:
    if not operation.has_body:
        return {}
    return {"content": body, "headers": {"content-type": "application/json"}}


def sweep_pages(
    client: httpx.Client, pages: list[Operation], headers: dict[str, str], findings: Findings
) -> None:
    """Send every bad request of every page through a person's own browser session."""
    for operation in pages:
        for what, arguments in requests_for(operation):
            extra = arguments.pop("headers", {})
            response = client.request(
                operation.method, headers={**headers, **extra}, follow_redirects=False, **arguments
            )
            findings.check(operation, what, response)


async def sweep(
    client: httpx.AsyncClient,
    targets: list[Operation],
    headers: dict[str, str],
    findings: Findings,
) -> None:
    """Send every bad request of every operation through `client` as `headers`."""
    for operation in targets:
        for what, arguments in requests_for(operation):
            extra = arguments.pop("headers", {})
            response = await client.request(
                operation.method, headers={**headers, **extra}, **arguments
            )
            findings.check(operation, what, response)
