"""The docs service's client of the storage service: files by id, streamed, hash-checked."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from pathlib import Path
from typing import Any

import httpx

from services.common.auth.service_tokens import ServiceTokenError, ServiceTokens
from services.common.problems import DependencyUnavailable, InvalidInput
from services.docs.incoming.schemas import FileRef

CHUNK = 1 << 20


class StorageError(Exception):
    """The storage service refused or lost a file (not a transient outage)."""


class StorageClient:
    def __init__(self, base_url: str, http: httpx.AsyncClient, tokens: ServiceTokens) -> None:
        self._base = base_url.rstrip("/")
        self._http = http
        self._tokens = tokens

    async def _headers(self, tenant_id: uuid.UUID) -> dict[str, str]:
        try:
            token = await self._tokens.token()
        except ServiceTokenError as exc:
            raise DependencyUnavailable(
                "Không lấy được mã truy cập của dịch vụ.", "No service token."
            ) from exc
        return {"Authorization": f"Bearer {token}", "X-Agency-Id": str(tenant_id)}

    async def download(
        self, tenant_id: uuid.UUID, object_id: uuid.UUID, target: Path, sha256: str
    ) -> None:
        """Write the file to `target`; its hash must be the one the document recorded."""
        digest = hashlib.sha256()
        url = f"{self._base}/api/v1/objects/{object_id}/content"
        try:
            async with self._http.stream(
                "GET", url, params={"verify": "true"}, headers=await self._headers(tenant_id)
            ) as response:
                if response.status_code != 200:
                    raise StorageError(f"GET {object_id}: HTTP {response.status_code}")
                with target.open("wb") as out:
                    async for chunk in response.aiter_bytes(CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
        except httpx.TransportError as exc:
            raise DependencyUnavailable(
                "Dịch vụ lưu trữ tệp không trả lời.", "The storage service is unreachable."
            ) from exc
        if digest.hexdigest() != sha256:
            raise StorageError(f"{object_id}: the bytes do not match the recorded hash")

    async def upload(
        self, tenant_id: uuid.UUID, source: Path, file_name: str, content_type: str
    ) -> dict[str, Any]:
        async def body() -> Any:
            with source.open("rb") as handle:
                while chunk := handle.read(CHUNK):
                    yield chunk

        headers = {**await self._headers(tenant_id), "Content-Type": content_type}
        try:
            response = await self._http.post(
                f"{self._base}/api/v1/objects",
                params={"name": file_name},
                content=body(),
                headers=headers,
            )
        except httpx.TransportError as exc:
            raise DependencyUnavailable(
                "Dịch vụ lưu trữ tệp không trả lời.", "The storage service is unreachable."
            ) from exc
        if response.status_code != 201:
            raise StorageError(f"upload {file_name}: HTTP {response.status_code} {response.text}")
        created: dict[str, Any] = response.json()
        return created

    async def check(self, tenant_id: uuid.UUID, ref: FileRef) -> None:
        """The file exists in this agency's storage, committed, with the recorded hash and size:
        a document never points at a file that is not there."""
        try:
            response = await self._http.get(
                f"{self._base}/api/v1/objects/{ref.object_id}",
                headers=await self._headers(tenant_id),
            )
        except httpx.TransportError as exc:
            raise DependencyUnavailable(
                "Dịch vụ lưu trữ tệp không trả lời.", "The storage service is unreachable."
            ) from exc
        if response.status_code == 404:
            raise InvalidInput(
                f"Tệp “{ref.file_name}” chưa được tải lên (hoặc thuộc cơ quan khác).",
                f"The file {ref.file_name!r} was never uploaded here.",
            )
        if response.status_code != 200:
            raise DependencyUnavailable(
                "Dịch vụ lưu trữ tệp trả lời lỗi.", "The storage service answered with an error."
            )
        stored = response.json()
        if (stored["sha256"], stored["size"]) != (ref.sha256, ref.size):
            raise InvalidInput(
                f"Tệp “{ref.file_name}” không khớp mã băm hoặc kích thước đã lưu.",
                f"The file {ref.file_name!r} does not match the stored hash or size.",
            )

    async def read(
        self, tenant_id: uuid.UUID, object_id: uuid.UUID, sha256: str, max_bytes: int
    ) -> bytes:
        """The whole file in memory (a PDF to sign), checked against its recorded hash."""
        digest = hashlib.sha256()
        data = bytearray()
        url = f"{self._base}/api/v1/objects/{object_id}/content"
        try:
            async with self._http.stream(
                "GET", url, headers=await self._headers(tenant_id)
            ) as response:
                if response.status_code != 200:
                    raise StorageError(f"GET {object_id}: HTTP {response.status_code}")
                async for chunk in response.aiter_bytes(CHUNK):
                    data += chunk
                    if len(data) > max_bytes:
                        raise InvalidInput(
                            f"Tệp quá lớn để ký số (tối đa {max_bytes >> 20} MB).",
                            f"The file is too large to sign (at most {max_bytes} bytes).",
                        )
                    digest.update(chunk)
        except httpx.TransportError as exc:
            raise DependencyUnavailable(
                "Dịch vụ lưu trữ tệp không trả lời.", "The storage service is unreachable."
            ) from exc
        if digest.hexdigest() != sha256:
            raise StorageError(f"{object_id}: the bytes do not match the recorded hash")
        return bytes(data)

    async def store(
        self, tenant_id: uuid.UUID, data: bytes, file_name: str, content_type: str
    ) -> dict[str, Any]:
        """A new object from bytes in memory (a signed PDF); nothing is ever overwritten."""
        headers = {**await self._headers(tenant_id), "Content-Type": content_type}
        try:
            response = await self._http.post(
                f"{self._base}/api/v1/objects",
                params={"name": file_name},
                content=data,
                headers=headers,
            )
        except httpx.TransportError as exc:
            raise DependencyUnavailable(
                "Dịch vụ lưu trữ tệp không trả lời.", "The storage service is unreachable."
            ) from exc
        if response.status_code != 201:
            raise StorageError(f"upload {file_name}: HTTP {response.status_code} {response.text}")
        created: dict[str, Any] = response.json()
        if created.get("sha256") != hashlib.sha256(data).hexdigest():
            raise StorageError(f"upload {file_name}: the stored hash differs")
        return created

    async def lock(self, tenant_id: uuid.UUID, object_id: uuid.UUID, until: dt.date) -> None:
        """Put an issued file under object lock until `until` (the storage service copies it
        into the locked bucket; a lock is only ever extended)."""
        try:
            response = await self._http.post(
                f"{self._base}/api/v1/objects/{object_id}/lock",
                json={"retain_until": until.isoformat()},
                headers=await self._headers(tenant_id),
            )
        except httpx.TransportError as exc:
            raise DependencyUnavailable(
                "Dịch vụ lưu trữ tệp không trả lời.", "The storage service is unreachable."
            ) from exc
        if response.status_code != 200:
            raise StorageError(f"lock {object_id}: HTTP {response.status_code} {response.text}")
