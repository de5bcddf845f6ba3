"""models.list and models.get."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from genserve.api.deps import services
from genserve.convert.models import to_model
from genserve.core.services import Services
from genserve.errors import InvalidArgument
from genserve.schemas.models import ListModelsResponse

router = APIRouter()

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


@router.get("/models")
async def list_models(
    page_size: int = Query(DEFAULT_PAGE_SIZE, alias="pageSize"),
    page_token: str = Query("", alias="pageToken"),
    svc: Services = Depends(services),
) -> dict:
    names = svc.catalog.names()
    start = _page_start(page_token, len(names))
    size = DEFAULT_PAGE_SIZE if page_size <= 0 else min(page_size, MAX_PAGE_SIZE)
    page = names[start : start + size]
    models = [to_model(svc.catalog.get(n), n) for n in page]
    next_token = str(start + size) if start + size < len(names) else None
    return ListModelsResponse(models=models or None, next_page_token=next_token).wire()


@router.get("/models/{model}")
async def get_model(model: str, svc: Services = Depends(services)) -> dict:
    return to_model(svc.catalog.get(model), model).wire()


def _page_start(token: str, total: int) -> int:
    if not token:
        return 0
    if not token.isdigit() or int(token) > total:
        raise InvalidArgument(f"pageToken '{token}' is not a token this server issued")
    return int(token)
