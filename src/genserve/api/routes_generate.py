"""generateContent, streamGenerateContent and countTokens."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from fastapi import APIRouter, Depends, Request

from genserve.api.auth import owner_of
from genserve.api.body import json_body
from genserve.api.deps import services
from genserve.api.streaming import stream_response
from genserve.convert.contents import content_text, to_prompt
from genserve.convert.generate import to_response, to_text_request
from genserve.core.catalog import ModelEntry
from genserve.core.services import Services
from genserve.errors import InvalidArgument, NotFound
from genserve.schemas.generate import GenerateContentRequest, ModalityTokenCount
from genserve.schemas.tokens import CountTokensRequest, CountTokensResponse

router = APIRouter()


def text_model(svc: Services, model: str, method: str, tasks: tuple[str, ...] = ("text",)) -> ModelEntry:
    entry = svc.catalog.get(model)
    if entry.task not in tasks:
        raise NotFound(f"models/{model} is not supported for {method}. Call ListModels to see the supported methods.")
    return entry


@router.post("/models/{model}:generateContent")
async def generate_content(
    model: str,
    request: Request,
    body: GenerateContentRequest = Depends(json_body(GenerateContentRequest)),
    svc: Services = Depends(services),
) -> dict:
    entry = text_model(svc, model, "generateContent")
    result = await svc.generation.generate_content(entry, to_text_request(body, entry, model), owner_of(request))
    return to_response(result).wire()


@router.post("/models/{model}:streamGenerateContent")
async def stream_generate_content(
    model: str,
    request: Request,
    body: GenerateContentRequest = Depends(json_body(GenerateContentRequest)),
    svc: Services = Depends(services),
) -> Any:
    entry = text_model(svc, model, "streamGenerateContent")
    chunks = svc.generation.stream_generate_content(entry, to_text_request(body, entry, model), owner_of(request))

    async def wire_chunks() -> AsyncGenerator[dict[str, Any] | None, None]:
        try:
            async for chunk in chunks:
                yield None if chunk.accepted_only else to_response(chunk).wire()
        finally:
            await chunks.aclose()

    return await stream_response(wire_chunks(), sse=request.query_params.get("alt") == "sse")


@router.post("/models/{model}:countTokens")
async def count_tokens(
    model: str,
    request: Request,
    body: CountTokensRequest = Depends(json_body(CountTokensRequest)),
    svc: Services = Depends(services),
) -> dict:
    entry = text_model(svc, model, "countTokens", ("text", "embedding"))
    inner = body.generate_content_request
    if entry.task == "embedding":
        contents = inner.contents if inner else body.contents
        if not contents:
            raise InvalidArgument("* CountTokensRequest.contents: contents is not specified")
        texts = [content_text(c, f"contents[{i}]", entry) for i, c in enumerate(contents)]
        total = await svc.embedding.count_tokens(entry, texts)
        return CountTokensResponse(total_tokens=total).wire()
    if inner is not None:
        prompt = to_prompt(inner.contents, inner.system_instruction, entry, "generateContentRequest.contents")
    else:
        prompt = to_prompt(body.contents, None, entry)
    counts = await svc.generation.count_tokens(entry, prompt, owner_of(request))
    details = [ModalityTokenCount(modality=m, token_count=n) for m, n in counts.items()]
    return CountTokensResponse(total_tokens=sum(counts.values()), prompt_tokens_details=details).wire()
