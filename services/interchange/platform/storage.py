"""The interchange service's client of the storage service: attachments in and out, by id,
hash-checked. Packets are bounded (`max_packet_bytes`), so a file is handled as bytes.

A 4xx answer is the file's fault (refused type, too large, unknown id): a `Refusal` with the
storage's own reason. No answer, or a 5xx, is a `TemporaryFailure`."""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from typing import Any

import httpx
import msgspec

from services.common.auth.service_tokens import ServiceTokenError, ServiceTokens
from services.interchange.failures import Refusal, TemporaryFailure


class StoredFile(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    file_name: str
    content_type: str
    size: int
    sha256: str


def _unavailable(what: str) -> TemporaryFailure:
    return TemporaryFailure(
        f"Dịch vụ lưu trữ tệp không trả lời ({what}); sẽ thử lại sau.",
        f"The storage service did not answer ({what}); will try again later.",
    )


def _refusal(response: httpx.Response, what: str) -> Refusal:
    reason = ""
    try:
        body: Any = response.json()
        if isinstance(body, dict):
            reason = str(body.get("reason") or body.get("code") or "")
    except ValueError:
        pass
    slug = f"storage-{reason or response.status_code}"
    return Refusal(
        slug,
        f"Dịch vụ lưu trữ từ chối {what}: HTTP {response.status_code} {reason}".strip(),
        f"The storage service refused {what}: HTTP {response.status_code} {reason}".strip(),
    )


class StorageClient:
    def __init__(self, base_url: str, http: httpx.AsyncClient, tokens: ServiceTokens) -> None:
        self._base = base_url.rstrip("/")
        self._http = http
        self._tokens = tokens

    async def _headers(self, tenant_id: uuid.UUID) -> dict[str, str]:
        try:
            token = await self._tokens.token()
        except ServiceTokenError as error:
            raise _unavailable("service token") from error
        return {"Authorization": f"Bearer {token}", "X-Agency-Id": str(tenant_id)}

    async def upload(self, tenant_id: uuid.UUID, file_name: str, content: bytes) -> StoredFile:
        """Store a file for `tenant_id`; the storage service sniffs its type from the bytes."""
        headers = await self._headers(tenant_id)
        try:
            response = await self._http.post(
                f"{self._base}/api/v1/objects",
                params={"name": file_name},
                content=content,
                headers=headers,
            )
        except httpx.TransportError as error:
            raise _unavailable(type(error).__name__) from error
        if response.status_code >= 500:
            raise _unavailable(f"HTTP {response.status_code}")
        if response.status_code != 201:
            raise _refusal(response, f"tệp {file_name!r}")
        stored = msgspec.json.decode(response.content, type=StoredFile, strict=False)
        if stored.sha256 != hashlib.sha256(content).hexdigest():
            # What storage kept is not what was sent: retry rather than deliver wrong bytes.
            await self.delete(tenant_id, stored.id)
            raise _unavailable("stored bytes differ from the sent bytes")
        return stored

    async def download(
        self, tenant_id: uuid.UUID, object_id: uuid.UUID, sha256: str, max_bytes: int
    ) -> tuple[bytes, str]:
        """A file's bytes and content type; its hash must be the one the sender recorded."""
        headers = await self._headers(tenant_id)
        url = f"{self._base}/api/v1/objects/{object_id}/content"
        try:
            async with self._http.stream(
                "GET", url, params={"verify": "true"}, headers=headers
            ) as response:
                if response.status_code >= 500:
                    raise _unavailable(f"HTTP {response.status_code}")
                if response.status_code != 200:
                    await response.aread()
                    raise _refusal(response, f"tệp {object_id}")
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise Refusal(
                            "attachment-too-large",
                            f"Tệp {object_id} lớn hơn giới hạn gói tin {max_bytes} byte.",
                            f"File {object_id} is larger than the packet limit of {max_bytes}.",
                        )
                    chunks.append(chunk)
                content_type = response.headers.get("content-type", "application/octet-stream")
        except httpx.TransportError as error:
            raise _unavailable(type(error).__name__) from error
        content = b"".join(chunks)
        if hashlib.sha256(content).hexdigest() != sha256:
            raise Refusal(
                "attachment-hash-mismatch",
                f"Nội dung tệp {object_id} không khớp mã băm SHA-256 đã ghi.",
                f"The content of file {object_id} does not match its recorded SHA-256.",
            )
        return content, content_type.split(";")[0].strip()

    async def delete(self, tenant_id: uuid.UUID, object_id: uuid.UUID) -> None:
        """Best effort: a file left behind by a lost race is only garbage."""
        with contextlib.suppress(httpx.TransportError, TemporaryFailure):
            await self._http.delete(
                f"{self._base}/api/v1/objects/{object_id}", headers=await self._headers(tenant_id)
            )
