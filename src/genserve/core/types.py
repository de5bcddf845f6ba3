"""Validated domain requests and the events engines and services exchange."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal

Role = Literal["user", "model"]


@dataclass(frozen=True)
class FileRef:
    """A `fileData` part: a Files API file, resolved by the service before an engine sees the prompt."""

    reference: str
    mime_type: str | None = None


@dataclass(frozen=True)
class Turn:
    """One conversation turn; consecutive same-role turns are allowed."""

    role: Role
    parts: tuple[str | FileRef, ...]

    @property
    def text(self) -> str:
        if any(isinstance(p, FileRef) for p in self.parts):
            raise RuntimeError("file references must be resolved before the text is read")
        return "".join(self.parts)  # type: ignore[arg-type]

    @property
    def files(self) -> tuple[FileRef, ...]:
        return tuple(p for p in self.parts if isinstance(p, FileRef))


@dataclass(frozen=True)
class Prompt:
    system: str | None
    turns: tuple[Turn, ...]


@dataclass(frozen=True)
class SamplingParams:
    temperature: float
    top_p: float | None
    top_k: int | None
    max_output_tokens: int
    stop_sequences: tuple[str, ...] = ()
    seed: int | None = None
    candidate_count: int = 1
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0


@dataclass(frozen=True)
class TextRequest:
    model: str
    prompt: Prompt
    sampling: SamplingParams


class FinishReason(str, enum.Enum):
    STOP = "STOP"
    MAX_TOKENS = "MAX_TOKENS"


@dataclass(frozen=True)
class PromptAccepted:
    """First event of every generation: the prompt fitted and was tokenized."""

    prompt_tokens: int


@dataclass(frozen=True)
class TextDelta:
    index: int
    text: str


@dataclass(frozen=True)
class CandidateDone:
    """The candidate's last event: its final text (often empty), why it ended, how many tokens it took."""

    index: int
    finish_reason: FinishReason
    token_count: int
    text: str = ""


GenerationEvent = PromptAccepted | TextDelta | CandidateDone


@dataclass
class Usage:
    prompt_tokens: int = 0
    candidates_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.candidates_tokens


@dataclass
class CandidateChunk:
    index: int
    text: str
    finish_reason: FinishReason | None = None


@dataclass
class ResponseChunk:
    """What a service yields: one streamed GenerateContentResponse in domain terms."""

    candidates: list[CandidateChunk]
    usage: Usage
    model: str
    response_id: str


@dataclass(frozen=True)
class EmbedRequest:
    text: str
    title: str | None = None
    task_type: str | None = None
    output_dimensionality: int | None = None
