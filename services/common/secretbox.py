"""Secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) over a list of keys, newest first.

The first key encrypts and every key decrypts, so a key is rotated in three steps: put the new
key in front, re-encrypt every stored secret (`rotate`), drop the old key (ADR 0016). Outside
production a fixed key derived from a development value keeps the local stack and the tests
free of one more setting; production must configure its keys."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from services.common.settings import SettingsError


class SecretUnreadable(Exception):
    """A stored secret was encrypted with a key that is no longer configured."""


class SecretBox:
    def __init__(self, keys: list[str], *, what: str = "secrets") -> None:
        if not keys:
            raise SettingsError(f"no key configured for {what}")
        try:
            self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        except ValueError as error:
            raise SettingsError(
                f"a key for {what} is not a Fernet key (32 url-safe base64 bytes)"
            ) from error

    def encrypt(self, data: bytes) -> bytes:
        return self._fernet.encrypt(data)

    def decrypt(self, token: bytes) -> bytes:
        try:
            return self._fernet.decrypt(token)
        except InvalidToken as error:
            raise SecretUnreadable("the stored secret cannot be decrypted") from error

    def rotate(self, token: bytes) -> bytes:
        """The same secret under the newest key."""
        try:
            return self._fernet.rotate(token)
        except InvalidToken as error:
            raise SecretUnreadable("the stored secret cannot be decrypted") from error


def development_key(purpose: str, seed: str) -> str:
    """A Fernet key derived from `seed` (a development secret) for one purpose."""
    digest = hashlib.sha256(f"{purpose}:{seed}".encode())
    return base64.urlsafe_b64encode(digest.digest()).decode()


def parse_keys(value: str) -> list[str]:
    """Keys from a comma-separated setting, in order."""
    return [key.strip() for key in value.split(",") if key.strip()]
