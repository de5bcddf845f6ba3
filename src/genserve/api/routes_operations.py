"""Veo's :predictLongRunning and the operations it returns: get, list, cancel, delete, Vertex's fetch."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Query, Request

from genserve.api.auth import owner_of
from genserve.api.body import json_body
from genserve.api.deps import services
from genserve.api.public_url import public_host
from genserve.convert.video import to_generate_videos_request, to_operation
from genserve.core.operation_types import OperationRecord
from genserve.core.services import Services
from genserve.core.video_generation import KIND, result_files
from genserve.errors import InvalidArgument, NotFound
from genserve.schemas.operations import FetchPredictOperationRequest, ListOperationsResponse, PredictLongRunningRequest

router = APIRouter()


def _resource(request: Request, action: str) -> tuple[str, str]:
    """(API version, the model's resource path as called): `models/veo-2.0-generate-001`, or for Vertex
    `publishers/google/models/...` or `projects/p/locations/l/publishers/google/models/...`."""
    version, _, rest = request.url.path.lstrip("/").partition("/")
    return version, rest.removesuffix(f":{action}")


@router.post("/models/{model}:predictLongRunning")
async def predict_long_running(
    model: str,
    request: Request,
    body: PredictLongRunningRequest = Depends(json_body(PredictLongRunningRequest)),
    svc: Services = Depends(services),
) -> dict:
    entry = svc.catalog.get(model)
    if entry.task != "video":
        raise NotFound(
            f"models/{model} is not supported for predictLongRunning. Call ListModels to see the supported methods."
        )
    version, resource = _resource(request, "predictLongRunning")
    vertex = not resource.startswith("models/")
    video = to_generate_videos_request(body, entry, model, vertex=vertex, api_version=version)
    record = svc.operations.submit(owner_of(request), model, KIND, f"{resource}/operations/{{id}}", video.to_json())
    return {"name": record.name}


async def _wire(svc: Services, record: OperationRecord, request: Request) -> dict:
    """Every video the job made keeps its URI (an expired one then answers 403 on download, as Google's do);
    Vertex's inline answer can only carry the videos still stored."""
    version = record.request.get("api_version", "v1beta")
    stored = {file.id: file for file in result_files(svc.files, record)}
    videos: list[tuple[str, bytes | None]] = []
    for file_id in (record.result or {}).get("files", []):
        uri = f"https://{public_host(request)}/{version}/files/{file_id}:download?alt=media"
        if not record.request.get("vertex"):
            videos.append((uri, None))
        elif file_id in stored:
            videos.append((uri, await asyncio.to_thread(svc.files.blob_path(stored[file_id]).read_bytes)))
    return to_operation(record, videos).wire()


def _op_id(name: str) -> str:
    op_id = name.rstrip("/").rpartition("/operations/")[2] or name.rpartition("/")[2]
    if not op_id:
        raise InvalidArgument("operationName: give the operation's name, as predictLongRunning returned it")
    return op_id


@router.get("/models/{model}/operations/{operation}")
@router.get("/operations/{operation}")
async def get_operation(operation: str, request: Request, svc: Services = Depends(services)) -> dict:
    return await _wire(svc, svc.operations.get(owner_of(request), operation), request)


@router.post("/models/{model}:fetchPredictOperation")
async def fetch_predict_operation(
    request: Request,
    body: FetchPredictOperationRequest = Depends(json_body(FetchPredictOperationRequest)),
    svc: Services = Depends(services),
) -> dict:
    return await _wire(svc, svc.operations.get(owner_of(request), _op_id(body.operation_name)), request)


@router.get("/operations")
async def list_operations(
    request: Request,
    page_size: int = Query(50, alias="pageSize"),
    page_token: str = Query("", alias="pageToken"),
    svc: Services = Depends(services),
) -> dict:
    records, token = svc.operations.list(owner_of(request), page_size, page_token)
    operations = [await _wire(svc, r, request) for r in records]
    return ListOperationsResponse.model_validate({"operations": operations or None, "nextPageToken": token}).wire()


@router.post("/models/{model}/operations/{operation}:cancel")
@router.post("/operations/{operation}:cancel")
async def cancel_operation(operation: str, request: Request, svc: Services = Depends(services)) -> dict:
    await svc.operations.cancel(owner_of(request), operation)
    return {}


@router.delete("/models/{model}/operations/{operation}")
@router.delete("/operations/{operation}")
async def delete_operation(operation: str, request: Request, svc: Services = Depends(services)) -> dict:
    await svc.operations.delete(owner_of(request), operation)
    return {}
