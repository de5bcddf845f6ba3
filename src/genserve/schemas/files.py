"""File resources and upload metadata (wire.md §6)."""

from __future__ import annotations

from genserve.schemas.base import Int64, ProtoModel


class VideoFileMetadata(ProtoModel):
    video_duration: str | None = None


class Status(ProtoModel):
    code: int
    message: str


class File(ProtoModel):
    name: str | None = None
    display_name: str | None = None
    mime_type: str | None = None
    # int64 travels as a string in proto3 JSON; the SDKs send either.
    size_bytes: str | Int64 | None = None
    create_time: str | None = None
    update_time: str | None = None
    expiration_time: str | None = None
    sha256_hash: str | None = None
    uri: str | None = None
    download_uri: str | None = None
    state: str | None = None
    source: str | None = None
    video_metadata: VideoFileMetadata | None = None
    error: Status | None = None


class CreateFileRequest(ProtoModel):
    file: File | None = None


class CreateFileResponse(ProtoModel):
    file: File


class ListFilesResponse(ProtoModel):
    files: list[File] | None = None
    next_page_token: str | None = None
