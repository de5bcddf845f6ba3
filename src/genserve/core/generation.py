"""generate_content and count_tokens: runs a TextRequest on its engine and yields response chunks."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any, Protocol

from genserve.core.catalog import ModelEntry
from genserve.core.file_types import FileState
from genserve.core.files import FilesService
from genserve.core.types import (
    CandidateChunk,
    CandidateDone,
    FileRef,
    Prompt,
    PromptAccepted,
    ResponseChunk,
    TextDelta,
    TextRequest,
    Turn,
    Usage,
)
from genserve.errors import FailedPrecondition, InvalidArgument, Unavailable

# A text file is read into the prompt whole; beyond this it could not fit any model's context anyway.
MAX_TEXT_FILE_BYTES = 32 * 1024 * 1024


class EngineProvider(Protocol):
    async def get(self, entry: ModelEntry) -> Any: ...


def new_response_id() -> str:
    return secrets.token_urlsafe(12)


class GenerationService:
    def __init__(self, engines: EngineProvider, files: FilesService) -> None:
        self._engines = engines
        self._files = files
        self._pending: Counter[str] = Counter()

    async def resolve_files(self, entry: ModelEntry, prompt: Prompt, owner: str) -> Prompt:
        """Replace `fileData` references with what the model reads: today, the text of text files."""
        if not any(turn.files for turn in prompt.turns):
            return prompt
        turns = []
        for turn in prompt.turns:
            parts = [await self._file_text(entry, p, owner) if isinstance(p, FileRef) else p for p in turn.parts]
            turns.append(Turn(turn.role, tuple(parts)))
        return dataclasses.replace(prompt, turns=tuple(turns))

    async def _file_text(self, entry: ModelEntry, ref: FileRef, owner: str) -> str:
        record = self._files.get(owner, ref.reference)
        if record.state is not FileState.ACTIVE:
            raise FailedPrecondition(f"The File {record.id} is not in an ACTIVE state and usage is not allowed.")
        if not record.mime_type.startswith("text/"):
            raise entry.modality_refused(record.mime_type, f"files/{record.id}")
        if record.size_bytes > MAX_TEXT_FILE_BYTES:
            raise InvalidArgument(f"files/{record.id} is too large to read into a prompt ({record.size_bytes} bytes).")
        data = await asyncio.to_thread(self._files.blob_path(record).read_bytes)
        return data.decode("utf-8", errors="replace")

    async def stream_generate_content(
        self, entry: ModelEntry, request: TextRequest, owner: str = ""
    ) -> AsyncIterator[ResponseChunk]:
        """One chunk per text delta; a candidate's last chunk carries its finishReason.

        Usage is cumulative on every chunk, so the last chunk carries the final counts."""
        if self._pending[entry.name] >= entry.max_pending_requests:
            raise Unavailable(
                f"The model is overloaded: {entry.max_pending_requests} requests are already running or waiting "
                f"on {entry.name}. Please try again later."
            )
        self._pending[entry.name] += 1
        try:
            async for chunk in self._stream(entry, request, owner):
                yield chunk
        finally:
            self._pending[entry.name] -= 1

    async def _stream(self, entry: ModelEntry, request: TextRequest, owner: str) -> AsyncIterator[ResponseChunk]:
        request = dataclasses.replace(request, prompt=await self.resolve_files(entry, request.prompt, owner))
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

    async def generate_content(self, entry: ModelEntry, request: TextRequest, owner: str = "") -> ResponseChunk:
        """The whole answer: the streamed chunks folded into one candidate per index."""
        candidates: dict[int, CandidateChunk] = {}
        last: ResponseChunk | None = None
        async for chunk in self.stream_generate_content(entry, request, owner):
            last = chunk
            for c in chunk.candidates:
                merged = candidates.setdefault(c.index, CandidateChunk(c.index, ""))
                merged.text += c.text
                merged.finish_reason = c.finish_reason or merged.finish_reason
        assert last is not None, "an engine finishes every candidate"
        return ResponseChunk(
            sorted(candidates.values(), key=lambda c: c.index), last.usage, request.model, last.response_id
        )

    async def count_tokens(self, entry: ModelEntry, prompt: Prompt, owner: str = "") -> int:
        prompt = await self.resolve_files(entry, prompt, owner)
        engine = await self._engines.get(entry)
        return await engine.count_tokens(prompt)
