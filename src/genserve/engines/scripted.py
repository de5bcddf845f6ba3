"""A scripted text engine for fast tests of the protocol layers; never a product feature.

Options: `chunks` (the text pieces to stream), `replies` (several replies, each a list of chunks: reply N
answers a conversation holding N function results, so a tool loop can be scripted with calls written in
the model family's raw format), `delay` (seconds between pieces), and `fail_after` (raise an engine
failure after that many pieces, to exercise mid-stream errors)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from genserve.core.types import (
    CandidateDone,
    FinishReason,
    FunctionResult,
    GenerationEvent,
    Prompt,
    PromptAccepted,
    TextDelta,
    TextRequest,
)
from genserve.engines.worker import stream_job
from genserve.errors import InvalidArgument


class ScriptedTextEngine:
    def __init__(self, path: str, options: dict[str, Any]) -> None:
        chunks = list(options.get("chunks", ["Hello", " from", " genserve."]))
        self.replies: list[list[str]] = [list(r) for r in options.get("replies", [chunks])]
        self.delay = float(options.get("delay", 0.0))
        self.fail_after: int | None = options.get("fail_after")
        self._executor = ThreadPoolExecutor(max_workers=1)

    async def count_tokens(self, prompt: Prompt) -> dict[str, int]:
        return {"TEXT": _words(prompt)}

    def generate(self, request: TextRequest, input_token_limit: int) -> AsyncIterator[GenerationEvent]:
        def job(cancel: threading.Event, emit: Callable[[GenerationEvent], None]) -> None:
            prompt_tokens = _words(request.prompt)
            if prompt_tokens > input_token_limit:
                raise InvalidArgument(f"The input token count ({prompt_tokens}) exceeds {input_token_limit}.")
            emit(PromptAccepted(prompt_tokens))
            results = sum(isinstance(p, FunctionResult) for t in request.prompt.turns for p in t.parts)
            script = self.replies[min(results, len(self.replies) - 1)]
            chunks = script[: request.sampling.max_output_tokens]
            reason = FinishReason.MAX_TOKENS if len(chunks) < len(script) else FinishReason.STOP
            for index in range(request.sampling.candidate_count):
                for number, chunk in enumerate(chunks):
                    if cancel.wait(self.delay) if self.delay else cancel.is_set():
                        return
                    if self.fail_after is not None and number >= self.fail_after:
                        raise RuntimeError("scripted engine failure")
                    last = number == len(chunks) - 1
                    emit(CandidateDone(index, reason, len(chunks), chunk) if last else TextDelta(index, chunk))

        return stream_job(self._executor, job)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _words(prompt: Prompt) -> int:
    return sum(len(t.text.split()) for t in prompt.turns) + len((prompt.system or "").split())
