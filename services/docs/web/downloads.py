"""Files the pages build on request (archive packages, reports, exports) and how the page learns
that one has arrived.

A download leaves the page where it is, so the page cannot see it finish. The link's script
(`static/downloads.js`) sends a one-off token; the answer carrying the file sets it as a short
cookie, which the script watches for to take the button out of its busy state. Without the
script the link is a plain download."""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

from litestar import Response
from litestar.params import QueryParameter

from services.docs.dossiers.disposition import attachment

DOWNLOAD_COOKIE = "qlvb_download"
_TOKEN = re.compile(r"^[A-Za-z0-9]{8,40}$")
# Long enough for the script's next look, short enough to leave nothing behind.
COOKIE_SECONDS = 120

DownloadToken = Annotated[str | None, QueryParameter(name="download", max_length=40)]
R = TypeVar("R", bound=Response[Any])


def delivered(response: R, token: str | None) -> R:
    """The response, marked for the page that asked with `token`."""
    if token and _TOKEN.match(token):
        # Read by the page's script, so not HttpOnly; it holds nothing but the page's own token.
        response.set_cookie(
            DOWNLOAD_COOKIE,
            token,
            max_age=COOKIE_SECONDS,
            path="/",
            samesite="lax",
            httponly=False,
        )
    return response


def file_response(content: bytes, media_type: str, name: str, token: str | None) -> Response[bytes]:
    return delivered(
        Response(
            content,
            media_type=media_type,
            headers={
                "Content-Disposition": attachment(name),
                # Figures and lists change with every document handled; a stale copy misleads.
                "Cache-Control": "private, no-store",
            },
        ),
        token,
    )
