"""generate_content and count_tokens: runs a TextRequest on its engine and yields response chunks."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any, Protocol

from genserve.core.catalog import ModelEntry
from genserve.core.types import (
    CandidateChunk,
    CandidateDone,
    Prompt,
    PromptAccepted,
    ResponseChunk,
    TextDelta,
    TextRequest,
    Usage,
)


class EngineProvider(Protocol):
    async def get(self, entry: ModelEntry) -> Any: ...


def new_response_id() -> str:
    return secrets.token_urlsafe(12)


class GenerationService:
    def __init__(self, engines: EngineProvider) -> None:
        self._engines = engines

    async def stream_generate_content(self, entry: ModelEntry, request: TextRequest) -> AsyncIterator[ResponseChunk]:
        """One chunk per text delta; a candidate's last chunk carries its finishReason.

        Usage is cumulative on every chunk, so the last chunk carries the final counts."""
        engine = await self._engines.get(entry)
        usage = Usage()
        response_id = new_response_id()
        events = engine.generate(request, entry.input_token_limit)
        try:
            async for event in events:
                if isinstance(event, PromptAccepted):
                    usage.prompt_tokens = event.prompt_tokens
                    continue
                if isinstance(event, TextDelta):
                    candidate = CandidateChunk(event.index, event.text)
                elif isinstance(event, CandidateDone):
                    usage.candidates_tokens += event.token_count
                    candidate = CandidateChunk(event.index, event.text, event.finish_reason)
                else:
                    continue
                yield ResponseChunk(
                    [candidate], Usage(usage.prompt_tokens, usage.candidates_tokens), request.model, response_id
                )
        finally:
            await events.aclose()

    async def generate_content(self, entry: ModelEntry, request: TextRequest) -> ResponseChunk:
        """The whole answer: the streamed chunks folded into one candidate per index."""
        candidates: dict[int, CandidateChunk] = {}
        last: ResponseChunk | None = None
        async for chunk in self.stream_generate_content(entry, request):
            last = chunk
            for c in chunk.candidates:
                merged = candidates.setdefault(c.index, CandidateChunk(c.index, ""))
                merged.text += c.text
                merged.finish_reason = c.finish_reason or merged.finish_reason
        assert last is not None, "an engine finishes every candidate"
        return ResponseChunk(
            sorted(candidates.values(), key=lambda c: c.index), last.usage, request.model, last.response_id
        )

    async def count_tokens(self, entry: ModelEntry, prompt: Prompt) -> int:
        engine = await self._engines.get(entry)
        return await engine.count_tokens(prompt)
