"""files.get / files.list / files.delete / files.download."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse

from genserve.api.auth import owner_of
from genserve.api.deps import services
from genserve.api.public_url import public_host
from genserve.convert.files import to_file
from genserve.core.services import Services
from genserve.schemas.files import ListFilesResponse

router = APIRouter()


@router.get("/files")
async def list_files(
    request: Request,
    page_size: int = Query(10, alias="pageSize"),
    page_token: str = Query("", alias="pageToken"),
    svc: Services = Depends(services),
) -> dict:
    records, token = svc.files.list(owner_of(request), page_size, page_token)
    host = public_host(request)
    # An empty listing is `{}`, as the Gemini API answers.
    return ListFilesResponse(files=[to_file(r, host) for r in records] or None, next_page_token=token).wire()


# Declared before files/{file}: that pattern would also match "abc:download".
@router.get("/files/{file}:download")
async def download_file(file: str, request: Request, svc: Services = Depends(services)) -> FileResponse:
    record = svc.files.get(owner_of(request), file)
    # FileResponse streams from disk and honours Range requests.
    return FileResponse(svc.files.blob_path(record), media_type=record.mime_type, content_disposition_type="inline")


@router.get("/files/{file}")
async def get_file(file: str, request: Request, svc: Services = Depends(services)) -> dict:
    return to_file(svc.files.get(owner_of(request), file), public_host(request)).wire()


@router.delete("/files/{file}")
async def delete_file(file: str, request: Request, svc: Services = Depends(services)) -> dict:
    svc.files.delete(owner_of(request), file)
    return {}
