"""POST /upload/{version}/files: the resumable X-Goog-Upload protocol as both SDKs drive it (wire.md §6),
plus single-request `multipart` and `media` uploads.

Chunk requests from the Python SDK carry no API key: the upload_id in the URL is the credential."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from genserve.api import multipart
from genserve.api.auth import owner_of, presented_key, require_api_key
from genserve.api.body import parse_json, validate
from genserve.api.deps import services
from genserve.api.errors import as_api_error
from genserve.api.public_url import public_base, public_host
from genserve.api.versions import API_VERSIONS
from genserve.convert.files import to_file
from genserve.core.file_types import FileRecord
from genserve.core.services import Services
from genserve.errors import InvalidArgument, NotFound
from genserve.schemas.files import CreateFileRequest

router = APIRouter()


@router.post("/upload/{version}/files")
async def upload(version: str, request: Request, svc: Services = Depends(services)) -> Response:
    try:
        if version not in API_VERSIONS:
            raise NotFound(f"Method not found: POST {request.url.path}")
        upload_id = request.query_params.get("upload_id")
        if upload_id:
            return await _chunk(upload_id, request, svc)
        await require_api_key(request)
        protocol = request.headers.get("x-goog-upload-protocol", "").lower()
        if protocol == "resumable":
            return await _start(version, request, svc)
        return await _single_request(version, request, svc)
    except Exception as exc:
        # Every upload reply carries the status header; without it the SDKs silently resend (wire.md §6).
        error = as_api_error(exc)
        return JSONResponse(error.envelope(), status_code=error.code, headers={"X-Goog-Upload-Status": "final"})


async def _start(version: str, request: Request, svc: Services) -> Response:
    command = request.headers.get("x-goog-upload-command", "").lower()
    if command != "start":
        raise InvalidArgument(f"X-Goog-Upload-Command must be 'start' to begin an upload, not '{command}'.")
    meta = (await _metadata(request)).file
    declared = request.headers.get("x-goog-upload-header-content-length")
    size = meta.size_bytes if meta and meta.size_bytes is not None else declared
    session = svc.files.start_upload(
        owner_of(request),
        name=meta.name if meta else None,
        display_name=(meta.display_name if meta else None) or request.headers.get("x-goog-upload-file-name"),
        mime_type=(meta.mime_type if meta else None) or request.headers.get("x-goog-upload-header-content-type"),
        declared_size=_int(size, "sizeBytes"),
        api_version=version,
    )
    url = f"{public_base(request)}/upload/{version}/files?upload_id={session.id}&upload_protocol=resumable"
    return Response(
        status_code=200,
        headers={"X-Goog-Upload-Status": "active", "X-Goog-Upload-URL": url, "X-Goog-Upload-Control-URL": url},
    )


async def _chunk(upload_id: str, request: Request, svc: Services) -> Response:
    session = svc.files.upload_session(upload_id)
    # JS sends its key on chunks, Python does not; a key that is sent must be the one that started the upload.
    key_owner = owner_of(request) if request.app.state.settings.api_keys and presented_key(request) else None
    if key_owner is not None and key_owner != session.owner:
        raise NotFound("The upload_id is not valid or the upload has expired; start a new upload.")
    commands = {c.strip() for c in request.headers.get("x-goog-upload-command", "").lower().split(",")}
    if commands == {"query"}:
        received = svc.files.received(session)
        status = "final" if session.finalized else "active"
        return Response(headers={"X-Goog-Upload-Status": status, "X-Goog-Upload-Size-Received": str(received)})
    if not commands <= {"upload", "finalize"} or not commands:
        raise InvalidArgument(
            f"X-Goog-Upload-Command '{request.headers.get('x-goog-upload-command')}' is not supported."
        )
    offset = _int(request.headers.get("x-goog-upload-offset"), "X-Goog-Upload-Offset")
    record = await svc.files.upload_chunk(session, offset, request.stream(), finalize="finalize" in commands)
    if record is None:
        return Response(headers={"X-Goog-Upload-Status": "active"})
    return _final(record, request)


async def _single_request(version: str, request: Request, svc: Services) -> Response:
    content_type = request.headers.get("content-type", "")
    kind = (
        request.query_params.get("uploadType", "").lower() or request.headers.get("x-goog-upload-protocol", "").lower()
    )
    if kind == "multipart" or content_type.lower().startswith("multipart/related"):
        body = await multipart.spool(request.stream(), svc.files.limits.max_bytes)
        with body:
            meta, mime, start, end = multipart.split_related(body, multipart.boundary_of(content_type))
            info = validate(CreateFileRequest, meta).file
            record = await svc.files.create_file(
                owner_of(request),
                multipart.read_range(body, start, end),
                mime_type=(info.mime_type if info else None) or mime,
                display_name=info.display_name if info else None,
                name=info.name if info else None,
                version=version,
            )
        return _final(record, request)
    if kind in ("", "media", "raw"):
        record = await svc.files.create_file(
            owner_of(request), request.stream(), mime_type=content_type or None, version=version
        )
        return _final(record, request)
    raise InvalidArgument(f"Upload type '{kind}' is not supported: use resumable, multipart or media.")


def _final(record: FileRecord, request: Request) -> Response:
    body = {"file": to_file(record, public_host(request)).wire()}
    return JSONResponse(body, headers={"X-Goog-Upload-Status": "final"})


async def _metadata(request: Request) -> CreateFileRequest:
    raw = await request.body()
    if not raw.strip():
        return CreateFileRequest()
    meta = parse_json(raw, "upload metadata")
    if not isinstance(meta, dict):
        raise InvalidArgument('Invalid JSON upload metadata received. It must be a JSON object such as {"file": {}}.')
    return validate(CreateFileRequest, meta)


def _int(value: Any, field: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidArgument(f"{field} must be an integer, got {value!r}") from None
