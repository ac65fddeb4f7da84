"""One host name in front of the services, as the cluster's ingress gives them: each request goes
to the service whose `ingressPaths` (charts/qlvb/values.yaml) hold the longest prefix of its
path, `/` (the web pages) to docs. The web login's cookie, set under `/auth` by identity, is then
sent to the pages docs serves, exactly as in production.

Development and browser tests only: no TLS, no buffering limits, one process."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import yaml

CHART_VALUES = Path(__file__).resolve().parents[1] / "charts" / "qlvb" / "values.yaml"
# Hop-by-hop headers (RFC 9110 section 7.6.1) are the connection's, never forwarded.
_HOP = {
    b"connection",
    b"keep-alive",
    b"proxy-connection",
    b"transfer-encoding",
    b"te",
    b"trailer",
    b"upgrade",
    b"content-length",
}


def chart_routes() -> list[tuple[str, str]]:
    """(path prefix, service), longest prefix first."""
    values = yaml.safe_load(CHART_VALUES.read_text(encoding="utf-8"))
    routes = [
        (prefix, name)
        for name, service in values["services"].items()
        for prefix in service.get("ingressPaths", [])
    ]
    return sorted(routes, key=lambda route: len(route[0]), reverse=True)


def route(routes: list[tuple[str, str]], path: str) -> str | None:
    for prefix, service in routes:
        if prefix == "/" or path == prefix or path.startswith(prefix.rstrip("/") + "/"):
            return service
    return None


class Gateway:
    """An ASGI app forwarding every HTTP request, streamed both ways."""

    def __init__(self, upstreams: dict[str, str], routes: list[tuple[str, str]] | None = None):
        self.upstreams = {name: url.rstrip("/") for name, url in upstreams.items()}
        self.routes = routes if routes is not None else chart_routes()
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(120.0, connect=5.0))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await self._http.aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        service = route(self.routes, scope["path"])
        upstream = self.upstreams.get(service or "")
        if upstream is None:
            await _plain(send, 502, f"no service for {scope['path']}")
            return
        target = upstream + scope.get("raw_path", scope["path"].encode()).decode("latin-1")
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in _HOP]
        client = scope.get("client") or ("127.0.0.1", 0)
        headers += [
            (b"x-forwarded-for", client[0].encode()),
            (b"x-forwarded-proto", scope.get("scheme", "http").encode()),
        ]

        async def body() -> AsyncIterator[bytes]:
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    return
                if chunk := message.get("body", b""):
                    yield chunk
                if not message.get("more_body"):
                    return

        request = self._http.build_request(scope["method"], target, headers=headers, content=body())
        try:
            response = await self._http.send(request, stream=True)
        except httpx.TransportError as exc:
            await _plain(send, 502, f"{service} is not answering: {exc!r}")
            return
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": [(k, v) for k, v in response.headers.raw if k.lower() not in _HOP],
                }
            )
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await response.aclose()


async def _plain(send: Any, status: int, text: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": text.encode()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--upstream",
        action="append",
        default=[],
        metavar="SERVICE=URL",
        help="where a service listens, e.g. docs=http://127.0.0.1:8101",
    )
    args = parser.parse_args()
    upstreams = dict(item.split("=", 1) for item in args.upstream)
    uvicorn.run(Gateway(upstreams), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
