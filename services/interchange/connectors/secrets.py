"""Connector secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) with a list of keys.

The first key encrypts; every key decrypts, so a key is rotated in three steps: put the new key
in front of `connector_keys`, restart, run `qlvb connector-keys rotate` (which re-encrypts every
secret with the new key), then drop the old key. A secret never leaves the service: the API
takes it, stores the token, and answers only whether one is set."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from services.common.settings import SettingsError
from services.interchange.settings import InterchangeSettings


class SecretUnreadable(Exception):
    """A stored secret was encrypted with a key that is no longer configured."""


class SecretBox:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise SettingsError("interchange: no connector key (QLVB_INTERCHANGE_CONNECTOR_KEYS)")
        try:
            self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        except ValueError as error:
            raise SettingsError(
                "interchange: a connector key is not a Fernet key (32 url-safe base64 bytes)"
            ) from error

    def encrypt(self, secret: str) -> bytes:
        return self._fernet.encrypt(secret.encode())

    def decrypt(self, token: bytes) -> str:
        try:
            return self._fernet.decrypt(token).decode()
        except InvalidToken as error:
            raise SecretUnreadable("the connector secret cannot be decrypted") from error

    def rotate(self, token: bytes) -> bytes:
        """The same secret under the newest key."""
        try:
            return self._fernet.rotate(token)
        except InvalidToken as error:
            raise SecretUnreadable("the connector secret cannot be decrypted") from error


def _development_key(settings: InterchangeSettings) -> str:
    # Outside production a fixed key derived from the (development) client secret keeps the
    # local stack and the tests free of one more variable; production must configure keys.
    digest = hashlib.sha256(f"qlvb-interchange-connectors:{settings.client_secret}".encode())
    return base64.urlsafe_b64encode(digest.digest()).decode()


def secret_box(settings: InterchangeSettings) -> SecretBox:
    keys = [key.strip() for key in settings.connector_keys.split(",") if key.strip()]
    if not keys and settings.environment != "production":
        keys = [_development_key(settings)]
    return SecretBox(keys)
