"""The storage service: `create_app` lists everything it serves."""

from __future__ import annotations

from litestar import Litestar

from services.common.app_factory import build_app
from services.common.whoami import whoami
from services.storage.settings import StorageSettings, load


def create_app(settings: StorageSettings | None = None) -> Litestar:
    return build_app(settings or load(), [whoami])
