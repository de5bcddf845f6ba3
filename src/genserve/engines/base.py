"""The small typed interfaces every engine implements."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Protocol

from genserve.core.image_types import ImageRequest, ImageTask
from genserve.core.types import GenerationEvent, Prompt, TextRequest
from genserve.core.video_types import AudioRequest, VideoRequest


class TextEngine(Protocol):
    # The most characters one token can stand for (core/prompt_size.py); None when the tokenizer cannot tell.
    max_token_chars: int | None

    async def count_tokens(self, prompt: Prompt) -> dict[str, int]:
        """Tokens the prompt takes once rendered through the model's chat template, per modality ("TEXT", ...)."""

    def generate(self, request: TextRequest, input_token_limit: int) -> AsyncIterator[GenerationEvent]:
        """PromptAccepted first, then TextDelta/CandidateDone events; closing the iterator cancels generation.

        Raises InvalidArgument before any event when the prompt exceeds `input_token_limit`."""

    def close(self) -> None: ...


class EmbeddingEngine(Protocol):
    dimension: int
    max_token_chars: int | None

    async def embed(self, texts: Sequence[str], max_tokens: int) -> list[list[float]]:
        """One unit-length vector per text, inputs truncated to `max_tokens`."""

    async def count_tokens(self, texts: Sequence[str]) -> int: ...

    def close(self) -> None: ...


# Called from the engine's thread after each denoising step: (steps done, steps in all).
StepCallback = Callable[[int, int], None]


class ImageEngine(Protocol):
    # Output width and height must be multiples of this (8 for SD/SDXL, 16 for SD3/FLUX).
    size_multiple: int
    # The tasks this pipeline family can run (GENERATE always; EDIT and INPAINT where the weights allow).
    tasks: frozenset[ImageTask]

    async def count_tokens(self, text: str) -> int:
        """Tokens the prompt takes in the pipeline's (first) text encoder tokenizer, untruncated."""

    async def generate(self, request: ImageRequest, on_step: StepCallback | None = None) -> list[Any]:
        """`request.count` PIL RGB images of exactly `request.width` x `request.height`, in one batched
        pipeline call. Cancelling the awaiting task stops the pipeline at its next step."""

    def memory_bytes(self) -> int:
        """Bytes of weights held (for the model memory budget)."""

    def close(self) -> None: ...


class VideoEngine(Protocol):
    # Pipeline width and height must be multiples of this (32 for LTX-Video, 16 for Wan, ...).
    size_multiple: int
    image_to_video: bool  # an input image can be the first frame
    last_frame: bool  # a last frame can be given too

    def frame_count(self, frames: int) -> int:
        """The smallest frame count this family can generate that is >= `frames` (LTX: 8k+1, Wan: 4k+1)."""

    async def count_tokens(self, text: str) -> int: ...

    async def generate(self, request: VideoRequest, on_step: StepCallback | None = None) -> list[list[Any]]:
        """`request.count` videos, each `request.num_frames` PIL RGB frames of `request.width` x `request.height`,
        from one batched pipeline call. Cancelling the awaiting task stops the pipeline at its next step."""

    def memory_bytes(self) -> int: ...

    def close(self) -> None: ...


class AudioEngine(Protocol):
    sample_rate: int
    channels: int

    async def generate(self, request: AudioRequest) -> Any:
        """A float32 numpy array (channels, samples) of exactly `request.seconds` x `sample_rate` samples, in
        [-1, 1]. Longer than the model's window: generated in consecutive pieces and joined."""

    def memory_bytes(self) -> int: ...

    def close(self) -> None: ...
