"""The Files API: resumable uploads, file resources, download, and references from prompts."""

from __future__ import annotations

import asyncio
import re
import secrets
import unicodedata
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from genserve.core.file_types import (
    FileIdTaken,
    FileLimits,
    FileRecord,
    FileSource,
    FileState,
    UploadSession,
    UploadTooLarge,
)
from genserve.core.pages import cursor, page, page_size
from genserve.errors import AlreadyExists, ApiError, InvalidArgument, NotFound, PermissionDenied, ResourceExhausted

# User-chosen ids as the Gemini API allows them; generated ids are [a-z0-9]+ (wire.md §0.7).
USER_FILE_ID = re.compile(r"^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$")
MIME_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
FILE_REFERENCE = re.compile(r"(?:^|/)files/([a-z0-9][a-z0-9-]*)")
MAX_DISPLAY_NAME = 512


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def needs_probe(mime_type: str) -> bool:
    return mime_type.startswith(("audio/", "video/"))


def file_id_of(reference: str) -> str:
    """`files/abc`, `https://host/v1beta/files/abc` or `.../files/abc:download?alt=media` -> `abc`."""
    match = FILE_REFERENCE.search(reference)
    if not match:
        raise InvalidArgument(f"'{reference}' is not a file name (files/<id>) or a file URI")
    return match.group(1)


def not_found(file_id: str) -> PermissionDenied:
    # Google's answer for a missing file, a foreign file and an expired one alike (wire.md §6).
    return PermissionDenied(f"You do not have permission to access the File {file_id} or it may not exist.")


def clean_display_name(name: str | None) -> str:
    text = "".join(c for c in (name or "") if unicodedata.category(c)[0] != "C")
    return text.strip()[:MAX_DISPLAY_NAME]


def clean_mime_type(mime: str | None) -> str:
    value = (mime or "").split(";")[0].strip().lower() or "application/octet-stream"
    if not MIME_TYPE.match(value):
        raise InvalidArgument(f"mimeType '{mime}' is not a valid MIME type (type/subtype)")
    return value


class FilesService:
    def __init__(
        self,
        repository: Any,
        blobs: Any,
        limits: FileLimits,
        *,
        clock: Callable[[], datetime] = utcnow,
        on_processing: Callable[[FileRecord], None] = lambda record: None,
    ) -> None:
        self.repo = repository
        self.blobs = blobs
        self.limits = limits
        self.clock = clock
        self.on_processing = on_processing  # the lifecycle worker probes PROCESSING files
        self._upload_locks: dict[str, asyncio.Lock] = {}

    # -- uploads ------------------------------------------------------------------------------------

    def start_upload(
        self,
        owner: str,
        *,
        name: str | None,
        display_name: str | None,
        mime_type: str | None,
        declared_size: int | None,
        api_version: str,
    ) -> UploadSession:
        file_id = self._new_file_id(owner, name)
        if declared_size is not None and declared_size < 0:
            raise InvalidArgument(f"sizeBytes must not be negative, got {declared_size}")
        if declared_size is not None and declared_size > self.limits.max_bytes:
            raise InvalidArgument(
                f"File size {declared_size} bytes exceeds the limit of {self.limits.max_bytes} bytes."
            )
        self._check_quota(owner, declared_size or 0)
        now = self.clock()
        session = UploadSession(
            id=secrets.token_urlsafe(32),  # the upload URL's credential: 256 random bits
            owner=owner,
            file_id=file_id,
            display_name=clean_display_name(display_name),
            mime_type=clean_mime_type(mime_type),
            declared_size=declared_size,
            api_version=api_version,
            create_time=now,
            expiration_time=now + timedelta(hours=self.limits.ttl_hours),
        )
        self.repo.add_upload(session)
        return session

    def upload_session(self, upload_id: str) -> UploadSession:
        session = self.repo.get_upload(upload_id, self.clock()) if upload_id else None
        if session is None:
            raise NotFound("The upload_id is not valid or the upload has expired; start a new upload.")
        return session

    def received(self, session: UploadSession) -> int:
        return self.blobs.staged_size(session.id)

    async def upload_chunk(
        self, session: UploadSession, offset: int | None, chunks: AsyncIterator[bytes], *, finalize: bool
    ) -> FileRecord | None:
        """Append one chunk; on finalize, the upload becomes a file. Any refusal abandons the upload."""
        # Two chunks of one upload at once would both pass the offset check and interleave their bytes.
        lock = self._upload_locks.setdefault(session.id, asyncio.Lock())
        async with lock:
            try:
                return await self._upload_chunk(session, offset, chunks, finalize=finalize)
            finally:
                if finalize:
                    self._upload_locks.pop(session.id, None)

    async def _upload_chunk(
        self, session: UploadSession, offset: int | None, chunks: AsyncIterator[bytes], *, finalize: bool
    ) -> FileRecord | None:
        session = self.upload_session(session.id)  # re-read: another request may have finished it meanwhile
        if session.finalized:
            raise InvalidArgument("This upload is already finalized; start a new upload.")
        try:
            received = self.received(session)
            if offset is not None and offset != received:
                raise InvalidArgument(f"X-Goog-Upload-Offset is {offset} but {received} bytes were received so far.")
            limit = min(self.limits.max_bytes, session.declared_size if session.declared_size is not None else 1 << 62)
            try:
                size = await self.blobs.append(session.id, chunks, limit)
            except UploadTooLarge:
                what = "its declared size" if session.declared_size is not None else "the file size limit"
                raise InvalidArgument(f"The upload is larger than {what} ({limit} bytes).") from None
            if not finalize:
                return None
            if session.declared_size is not None and size != session.declared_size:
                raise InvalidArgument(
                    f"The upload was finalized with {size} bytes but {session.declared_size} were declared."
                )
            if session.declared_size is None:
                self._check_quota(session.owner, size)
            return await self._finalize(session, size)
        except ApiError:
            self.abandon(session)
            raise

    def abandon(self, session: UploadSession) -> None:
        self._upload_locks.pop(session.id, None)
        self.blobs.discard(session.id)
        self.repo.drop_upload(session.id)

    async def _finalize(self, session: UploadSession, size: int) -> FileRecord:
        blob_key = secrets.token_hex(16)
        sha256_hex = await self.blobs.commit(session.id, blob_key)
        now = self.clock()
        record = FileRecord(
            owner=session.owner,
            id=session.file_id,
            display_name=session.display_name,
            mime_type=session.mime_type,
            size_bytes=size,
            sha256_hex=sha256_hex,
            state=FileState.PROCESSING if needs_probe(session.mime_type) else FileState.ACTIVE,
            source=FileSource.UPLOADED,
            api_version=session.api_version,
            blob_key=blob_key,
            create_time=now,
            update_time=now,
            expiration_time=now + timedelta(hours=self.limits.ttl_hours),
        )
        try:
            self.repo.finish_upload(session.id, record)
        except FileIdTaken:
            self.blobs.delete(blob_key)
            raise _taken(record.id) from None
        if record.state is FileState.PROCESSING:
            self.on_processing(record)
        return record

    async def create_file(
        self,
        owner: str,
        chunks: AsyncIterator[bytes],
        *,
        mime_type: str | None,
        display_name: str | None = None,
        name: str | None = None,
        version: str = "v1beta",
    ) -> FileRecord:
        """A whole file in one call (media and multipart uploads)."""
        session = self.start_upload(
            owner,
            name=name,
            display_name=display_name,
            mime_type=mime_type,
            declared_size=None,
            api_version=version,
        )
        record = await self.upload_chunk(session, 0, chunks, finalize=True)
        assert record is not None
        return record

    async def save_generated(
        self,
        owner: str,
        data: bytes,
        *,
        mime_type: str,
        display_name: str = "",
        ttl_hours: float,
        video_duration_s: float | None = None,
        version: str = "v1beta",
    ) -> FileRecord:
        """Media the server made (a generated video): ACTIVE at once, source GENERATED, so it has a download URI."""
        blob_key = secrets.token_hex(16)
        sha256_hex = await self.blobs.put(blob_key, data)
        now = self.clock()
        record = FileRecord(
            owner=owner,
            id=secrets.token_hex(6),  # [a-f0-9]+: both SDKs cut ids out of URIs with [a-z0-9]+
            display_name=display_name,
            mime_type=mime_type,
            size_bytes=len(data),
            sha256_hex=sha256_hex,
            state=FileState.ACTIVE,
            source=FileSource.GENERATED,
            api_version=version,
            blob_key=blob_key,
            create_time=now,
            update_time=now,
            expiration_time=now + timedelta(hours=ttl_hours),
            video_duration_s=video_duration_s,
        )
        self.repo.insert(record)
        return record

    # -- resources ----------------------------------------------------------------------------------

    def get(self, owner: str, reference: str) -> FileRecord:
        file_id = file_id_of(reference) if "/" in reference else reference
        record = self.repo.get(owner, file_id, self.clock())
        if record is None:
            raise not_found(file_id)
        return record

    def list(self, owner: str, requested: int, page_token: str) -> tuple[list[FileRecord], str | None]:
        size = page_size(requested)
        return page(self.repo.list(owner, self.clock(), cursor(page_token), size + 1), size)

    def delete(self, owner: str, file_id: str) -> None:
        record = self.repo.delete(owner, file_id)
        if record is not None:
            self.blobs.delete(record.blob_key)
        if record is None or record.expiration_time <= self.clock():
            raise not_found(file_id)

    def blob_path(self, record: FileRecord) -> Path:
        return self.blobs.path(record.blob_key)

    # -- helpers ------------------------------------------------------------------------------------

    def _new_file_id(self, owner: str, name: str | None) -> str:
        if not name:
            return secrets.token_hex(6)  # 12 chars of [a-f0-9]: matches the SDKs' [a-z0-9]+ id rule
        file_id = name.removeprefix("files/")
        if not USER_FILE_ID.match(file_id):
            raise InvalidArgument(
                f"File name '{name}' is invalid: use files/<id> where <id> is 1-40 lowercase letters, digits or "
                "dashes, not starting or ending with a dash."
            )
        if self.repo.file_id_taken(owner, file_id):
            raise _taken(file_id)
        return file_id

    def _check_quota(self, owner: str, extra_bytes: int) -> None:
        count, used = self.repo.usage(owner, self.clock())
        if count >= self.limits.max_count:
            raise ResourceExhausted(f"File count quota exceeded: {self.limits.max_count} files per API key.")
        if used + extra_bytes > self.limits.quota_bytes:
            raise ResourceExhausted(
                f"File storage quota exceeded: {used + extra_bytes} bytes would exceed {self.limits.quota_bytes} "
                "bytes per API key. Delete files or wait for them to expire."
            )


def _taken(file_id: str) -> AlreadyExists:
    return AlreadyExists(f"A file named files/{file_id} already exists.")
