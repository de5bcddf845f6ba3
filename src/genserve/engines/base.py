"""The small typed interfaces every engine implements."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from genserve.core.types import GenerationEvent, Prompt, TextRequest


class TextEngine(Protocol):
    async def count_tokens(self, prompt: Prompt) -> dict[str, int]:
        """Tokens the prompt takes once rendered through the model's chat template, per modality ("TEXT", ...)."""

    def generate(self, request: TextRequest, input_token_limit: int) -> AsyncIterator[GenerationEvent]:
        """PromptAccepted first, then TextDelta/CandidateDone events; closing the iterator cancels generation.

        Raises InvalidArgument before any event when the prompt exceeds `input_token_limit`."""

    def close(self) -> None: ...


class EmbeddingEngine(Protocol):
    dimension: int

    async def embed(self, texts: Sequence[str], max_tokens: int) -> list[list[float]]:
        """One unit-length vector per text, inputs truncated to `max_tokens`."""

    async def count_tokens(self, texts: Sequence[str]) -> int: ...

    def close(self) -> None: ...
