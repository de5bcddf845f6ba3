"""Domain types of the Files API."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class FileState(str, enum.Enum):
    PROCESSING = "PROCESSING"
    ACTIVE = "ACTIVE"
    FAILED = "FAILED"


class FileSource(str, enum.Enum):
    UPLOADED = "UPLOADED"
    GENERATED = "GENERATED"


@dataclass(frozen=True)
class FileRecord:
    owner: str
    id: str
    display_name: str
    mime_type: str
    size_bytes: int
    sha256_hex: str
    state: FileState
    source: FileSource
    api_version: str
    blob_key: str
    create_time: datetime
    update_time: datetime
    expiration_time: datetime
    video_duration_s: float | None = None
    error_code: int | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class UploadSession:
    id: str
    owner: str
    file_id: str
    display_name: str
    mime_type: str
    declared_size: int | None
    api_version: str
    create_time: datetime
    expiration_time: datetime
    finalized: bool = False


@dataclass(frozen=True)
class FileLimits:
    ttl_hours: float
    max_bytes: int
    quota_bytes: int
    max_count: int


class FileIdTaken(Exception):
    """A file with the requested id already exists for this owner."""


class UploadTooLarge(Exception):
    """More bytes arrived than the upload may hold."""
