"""generate_content and count_tokens: runs a TextRequest on its engine and yields response chunks."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from genserve.core.catalog import Catalog, ModelEntry
from genserve.core.file_types import FileState
from genserve.core.files import FilesService
from genserve.core.illustrator import Illustrator
from genserve.core.image_generation import ImageService
from genserve.core.leases import EngineProvider
from genserve.core.prompt_size import prompt_chars, refuse_oversized
from genserve.core.reply_parser import ReplyParser, merge_parts
from genserve.core.types import (
    CandidateChunk,
    CandidateDone,
    FileRef,
    FinishReason,
    Media,
    Prompt,
    PromptAccepted,
    PromptPart,
    ReplyText,
    ResponseChunk,
    TextDelta,
    TextRequest,
    Turn,
    Usage,
    new_response_id,
)
from genserve.errors import FailedPrecondition, InvalidArgument, Unavailable
from genserve.media.documents import PDF, pdf_text

# A file is read into the prompt whole; beyond this it could not fit any model's context anyway.
MAX_FILE_BYTES_IN_PROMPT = 64 * 1024 * 1024


def _is_document(part: PromptPart) -> bool:
    return isinstance(part, Media) and part.mime_type == PDF


def _copy(usage: Usage) -> Usage:
    return dataclasses.replace(usage, prompt_modality_tokens=dict(usage.prompt_modality_tokens))


class GenerationService:
    def __init__(
        self,
        engines: EngineProvider,
        files: FilesService,
        images: ImageService | None = None,
        catalog: Catalog | None = None,
    ) -> None:
        self._engines = engines
        self._files = files
        self._pending: Counter[str] = Counter()
        # Replies with images (Gemini-native image output): this service plans them on the text model, `images`
        # draws them on the catalog's image model (core/illustrator.py).
        self._illustrator = Illustrator(self, images, catalog) if images is not None and catalog is not None else None

    async def resolve_files(self, entry: ModelEntry, prompt: Prompt, owner: str) -> Prompt:
        """Replace `fileData` references with what the model reads (text, or media bytes for models that
        take that modality) and documents with their text."""
        if not any(isinstance(p, FileRef) or _is_document(p) for t in prompt.turns for p in t.parts):
            return prompt
        turns = []
        for turn in prompt.turns:
            parts = [await self._resolve(entry, p, owner) for p in turn.parts]
            turns.append(Turn(turn.role, tuple(parts)))
        return dataclasses.replace(prompt, turns=tuple(turns))

    async def _resolve(self, entry: ModelEntry, part: PromptPart, owner: str) -> PromptPart:
        if _is_document(part):
            return await asyncio.to_thread(pdf_text, part.data, "inlineData")  # type: ignore[union-attr]
        if not isinstance(part, FileRef):
            return part
        record = self._files.get(owner, part.reference)
        where = f"files/{record.id}"
        if record.state is not FileState.ACTIVE:
            raise FailedPrecondition(f"The File {record.id} is not in an ACTIVE state and usage is not allowed.")
        mime = record.mime_type
        if not entry.reads(mime):
            raise entry.modality_refused(mime, where)
        if record.size_bytes > MAX_FILE_BYTES_IN_PROMPT:
            raise InvalidArgument(f"{where} is too large to read into a prompt ({record.size_bytes} bytes).")
        data = await asyncio.to_thread(self._files.blob_path(record).read_bytes)
        if mime.startswith("text/"):
            return data.decode("utf-8", errors="replace")
        if mime == PDF:
            return await asyncio.to_thread(pdf_text, data, where)
        return Media(mime, data)

    async def stream_generate_content(
        self, entry: ModelEntry, request: TextRequest, owner: str = ""
    ) -> AsyncGenerator[ResponseChunk, None]:
        """One chunk per text delta; a candidate's last chunk carries its finishReason.

        Usage is cumulative on every chunk, so the last chunk carries the final counts."""
        if self._pending[entry.name] >= entry.max_pending_requests:
            raise Unavailable(
                f"The model is overloaded: {entry.max_pending_requests} requests are already running or waiting "
                f"on {entry.name}. Please try again later."
            )
        self._pending[entry.name] += 1
        try:
            if request.image_reply is not None:
                if self._illustrator is None:
                    raise Unavailable(f"{entry.name} cannot draw images on this server; ask for text only.")
                chunks = self._illustrator.stream(entry, request, owner)
            else:
                chunks = self._stream(entry, request, owner)
            async for chunk in chunks:
                yield chunk
        finally:
            self._pending[entry.name] -= 1

    async def _stream(self, entry: ModelEntry, request: TextRequest, owner: str) -> AsyncIterator[ResponseChunk]:
        request = dataclasses.replace(request, prompt=await self.resolve_files(entry, request.prompt, owner))
        async with self._engines.lease(entry) as engine:
            _refuse_oversized(engine, entry, request.prompt, request.model)
            async for chunk in self._run(engine, entry, request):
                yield chunk

    async def _run(self, engine: Any, entry: ModelEntry, request: TextRequest) -> AsyncIterator[ResponseChunk]:
        usage = Usage()
        response_id = new_response_id()
        thinking = request.thinking
        show_thoughts = thinking is not None and thinking.include_thoughts
        parsers: dict[int, ReplyParser] = {}
        in_thought = False

        def parser(index: int) -> ReplyParser:
            if index not in parsers:
                parsers[index] = ReplyParser(
                    entry.reply_format,
                    tools=request.tools is not None and bool(request.tools.callable),
                    thinking=thinking is not None and thinking.enabled,
                    in_thought=in_thought,
                )
            return parsers[index]

        events = engine.generate(request, entry.input_token_limit)
        try:
            async for event in events:
                if isinstance(event, PromptAccepted):
                    usage.prompt_tokens = event.prompt_tokens
                    usage.prompt_modality_tokens = dict(event.modality_tokens)
                    in_thought = event.in_thought
                    yield ResponseChunk([], _copy(usage), request.model, response_id)  # accepted_only
                    continue
                if isinstance(event, TextDelta):
                    parts = parser(event.index).feed(event.text)
                    reason = None
                elif isinstance(event, CandidateDone):
                    p = parser(event.index)
                    parts = p.feed(event.text) + p.finish()
                    reason = FinishReason.MALFORMED_FUNCTION_CALL if p.malformed else event.finish_reason
                    usage.candidates_tokens += event.token_count - event.thought_tokens
                    usage.thoughts_tokens += event.thought_tokens
                else:
                    continue
                if not show_thoughts:  # thoughts are counted either way, shown only when asked for
                    parts = [x for x in parts if not (isinstance(x, ReplyText) and x.thought)]
                if not parts and reason is None:
                    continue
                yield ResponseChunk(
                    [CandidateChunk(event.index, parts, reason)], _copy(usage), request.model, response_id
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
                merged = candidates.setdefault(c.index, CandidateChunk(c.index))
                merged.parts = merge_parts(merged.parts + c.parts)
                merged.finish_reason = c.finish_reason or merged.finish_reason
        assert last is not None, "an engine finishes every candidate"
        return dataclasses.replace(last, candidates=sorted(candidates.values(), key=lambda c: c.index))

    async def count_tokens(self, entry: ModelEntry, prompt: Prompt, owner: str = "") -> dict[str, int]:
        """The prompt's tokens per modality."""
        prompt = await self.resolve_files(entry, prompt, owner)
        async with self._engines.lease(entry) as engine:
            _refuse_oversized(engine, entry, prompt, entry.name)
            return await engine.count_tokens(prompt)


def _refuse_oversized(engine: Any, entry: ModelEntry, prompt: Prompt, model: str) -> None:
    """Before the engine tokenizes anything (core/prompt_size.py)."""
    refuse_oversized(prompt_chars(prompt), entry.input_token_limit, getattr(engine, "max_token_chars", None), model)
