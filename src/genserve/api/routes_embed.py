"""embedContent and batchEmbedContents."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from genserve.api.body import json_body
from genserve.api.deps import services
from genserve.convert.embed import to_embed_requests
from genserve.core.catalog import ModelEntry
from genserve.core.services import Services
from genserve.errors import NotFound
from genserve.schemas.embed import (
    BatchEmbedContentsRequest,
    BatchEmbedContentsResponse,
    ContentEmbedding,
    EmbedContentRequest,
    EmbedContentResponse,
)

router = APIRouter()


def embedding_model(svc: Services, model: str, method: str) -> ModelEntry:
    entry = svc.catalog.get(model)
    if entry.task != "embedding":
        raise NotFound(f"models/{model} is not supported for {method}. Call ListModels to see the supported methods.")
    return entry


@router.post("/models/{model}:embedContent")
async def embed_content(
    model: str, body: EmbedContentRequest = Depends(json_body(EmbedContentRequest)), svc: Services = Depends(services)
) -> dict:
    entry = embedding_model(svc, model, "embedContent")
    [vector] = await svc.embedding.embed_content(entry, to_embed_requests([body], entry, model, "content"))
    return EmbedContentResponse(embedding=ContentEmbedding(values=vector)).wire()


@router.post("/models/{model}:batchEmbedContents")
async def batch_embed_contents(
    model: str,
    body: BatchEmbedContentsRequest = Depends(json_body(BatchEmbedContentsRequest)),
    svc: Services = Depends(services),
) -> dict:
    entry = embedding_model(svc, model, "batchEmbedContents")
    vectors = await svc.embedding.embed_content(entry, to_embed_requests(body.requests, entry, model))
    return BatchEmbedContentsResponse(embeddings=[ContentEmbedding(values=v) for v in vectors]).wire()
