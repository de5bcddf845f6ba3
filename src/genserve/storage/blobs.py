"""Blob stores hold file bytes. Uploads are staged under their upload id and become visible only when
committed, atomically, under their blob key: a reader never sees a partial file."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

from genserve.core.file_types import UploadTooLarge

_WRITE_BUFFER = 1024 * 1024


class BlobStore(Protocol):
    def staged_size(self, upload_id: str) -> int: ...

    async def append(self, upload_id: str, chunks: AsyncIterator[bytes], limit: int) -> int:
        """Append to the staged upload; returns its new size. Raises UploadTooLarge past `limit` bytes."""

    async def commit(self, upload_id: str, key: str) -> str:
        """Make the staged bytes the blob `key`; returns their sha256 hex digest."""

    async def put(self, key: str, data: bytes) -> str: ...

    def discard(self, upload_id: str) -> None: ...

    def path(self, key: str) -> Path: ...

    def size(self, key: str) -> int: ...

    def delete(self, key: str) -> None: ...

    def keys(self, min_age_s: float = 0.0) -> list[str]:
        """Committed blob keys, optionally only those written at least `min_age_s` ago."""


class LocalBlobStore:
    """`<root>/uploads/<upload_id>` while uploading, `<root>/blobs/<k[:2]>/<k>` once committed."""

    def __init__(self, root: Path) -> None:
        self.staging = root / "uploads"
        self.blobs = root / "blobs"
        self.staging.mkdir(parents=True, exist_ok=True)
        self.blobs.mkdir(parents=True, exist_ok=True)

    def _staged(self, upload_id: str) -> Path:
        return self.staging / _safe(upload_id)

    def staged_size(self, upload_id: str) -> int:
        path = self._staged(upload_id)
        return path.stat().st_size if path.exists() else 0

    async def append(self, upload_id: str, chunks: AsyncIterator[bytes], limit: int) -> int:
        path = self._staged(upload_id)
        size = self.staged_size(upload_id)
        buffer = bytearray()
        with open(path, "ab") as out:  # noqa: ASYNC230 - writes go through a thread below
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise UploadTooLarge(size)
                buffer += chunk
                if len(buffer) >= _WRITE_BUFFER:
                    await asyncio.to_thread(out.write, bytes(buffer))
                    buffer.clear()
            if buffer:
                await asyncio.to_thread(out.write, bytes(buffer))
            await asyncio.to_thread(_sync, out)
        return size

    async def commit(self, upload_id: str, key: str) -> str:
        source = self._staged(upload_id)
        source.touch()
        digest = await asyncio.to_thread(_sha256, source)
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)  # atomic on one filesystem
        return digest

    async def put(self, key: str, data: bytes) -> str:
        staged = self._staged(f"put-{key}")
        await asyncio.to_thread(_write_synced, staged, data)
        return await self.commit(f"put-{key}", key)

    def discard(self, upload_id: str) -> None:
        self._staged(upload_id).unlink(missing_ok=True)

    def path(self, key: str) -> Path:
        key = _safe(key)
        return self.blobs / key[:2] / key

    def size(self, key: str) -> int:
        return self.path(key).stat().st_size

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def keys(self, min_age_s: float = 0.0) -> list[str]:
        cutoff = time.time() - min_age_s
        return [p.name for p in self.blobs.glob("*/*") if p.is_file() and p.stat().st_mtime <= cutoff]


def _safe(name: str) -> str:
    # Keys and upload ids are server-made [A-Za-z0-9_-]; anything else would be a path traversal attempt.
    if not name or not all(c.isalnum() or c in "-_" for c in name):
        raise ValueError(f"unsafe blob name {name!r}")
    return name


def _sync(handle) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as out:
        out.write(data)
        _sync(out)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while block := source.read(_WRITE_BUFFER):
            digest.update(block)
    return digest.hexdigest()
