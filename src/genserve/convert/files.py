"""FileRecord -> the File resource the SDKs parse."""

from __future__ import annotations

import base64
from datetime import datetime

from genserve.core.file_types import FileRecord, FileSource, FileState
from genserve.schemas.files import File, Status, VideoFileMetadata


def rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def to_file(record: FileRecord, host: str) -> File:
    """`host` names this server in URIs. They always start with https:// because both SDKs only cut
    a file id out of an https URI (wire.md §0.7); the SDKs send the follow-up calls to their base URL."""
    base = f"https://{host}/{record.api_version}/files/{record.id}"
    return File(
        name=f"files/{record.id}",
        display_name=record.display_name or None,
        mime_type=record.mime_type,
        size_bytes=str(record.size_bytes),
        create_time=rfc3339(record.create_time),
        update_time=rfc3339(record.update_time),
        expiration_time=rfc3339(record.expiration_time),
        # As the Gemini API does: the base64 of the hex digest.
        sha256_hash=base64.b64encode(record.sha256_hex.encode()).decode(),
        uri=base,
        download_uri=f"{base}:download?alt=media" if record.source is FileSource.GENERATED else None,
        state=record.state.value,
        source=record.source.value,
        video_metadata=_video_metadata(record),
        error=Status(code=record.error_code or 400, message=record.error_message or "")
        if record.state is FileState.FAILED
        else None,
    )


def _video_metadata(record: FileRecord) -> VideoFileMetadata | None:
    if not record.mime_type.startswith("video/") or record.video_duration_s is None:
        return None
    return VideoFileMetadata(video_duration=f"{record.video_duration_s:.3f}".rstrip("0").rstrip(".") + "s")
