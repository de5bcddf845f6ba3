"""embed_content: vectors from an embedding engine, truncated to outputDimensionality and re-normalised."""

from __future__ import annotations

import math
from typing import Any

from genserve.core.catalog import ModelEntry
from genserve.core.leases import EngineProvider
from genserve.core.prompt_size import refuse_oversized
from genserve.core.types import EmbedRequest
from genserve.errors import InvalidArgument


class EmbeddingService:
    def __init__(self, engines: EngineProvider) -> None:
        self._engines = engines

    async def embed_content(self, entry: ModelEntry, requests: list[EmbedRequest]) -> list[list[float]]:
        async with self._engines.lease(entry) as engine:
            return await self._embed(engine, entry, requests)

    async def _embed(self, engine: Any, entry: ModelEntry, requests: list[EmbedRequest]) -> list[list[float]]:
        for i, request in enumerate(requests):
            dim = request.output_dimensionality
            if dim is not None and not 1 <= dim <= engine.dimension:
                raise InvalidArgument(
                    f"requests[{i}].outputDimensionality must be between 1 and {engine.dimension} for "
                    f"model '{entry.name}', got {dim}"
                )
        texts = [_with_title(r) for r in requests]
        vectors = await engine.embed(texts, entry.input_token_limit)
        return [_truncate(v, r.output_dimensionality) for v, r in zip(vectors, requests, strict=True)]

    async def count_tokens(self, entry: ModelEntry, texts: list[str]) -> int:
        async with self._engines.lease(entry) as engine:
            chars = sum(len(t) for t in texts)
            refuse_oversized(chars, entry.input_token_limit, getattr(engine, "max_token_chars", None), entry.name)
            return await engine.count_tokens(texts)


def _with_title(request: EmbedRequest) -> str:
    # A document title is part of what a RETRIEVAL_DOCUMENT embedding describes.
    return f"{request.title}\n\n{request.text}" if request.title else request.text


def _truncate(vector: list[float], dim: int | None) -> list[float]:
    if dim is None or dim >= len(vector):
        return vector
    head = vector[:dim]
    norm = math.sqrt(sum(x * x for x in head)) or 1.0
    return [x / norm for x in head]
