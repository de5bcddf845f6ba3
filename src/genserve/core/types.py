"""Validated domain requests and the events engines and services exchange."""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["user", "model"]


@dataclass(frozen=True)
class FileRef:
    """A `fileData` part: a Files API file, resolved by the service before an engine sees the prompt."""

    reference: str
    mime_type: str | None = None


@dataclass(frozen=True)
class Media:
    """Bytes a multimodal model reads (an image, audio, video): inline data or a resolved file."""

    mime_type: str
    data: bytes

    @property
    def modality(self) -> str:
        return self.mime_type.split("/", 1)[0]


@dataclass(frozen=True)
class FunctionCall:
    """A tool call: in the history (the model asked for it earlier) or in a reply."""

    name: str
    args: dict[str, Any]
    id: str | None = None


@dataclass(frozen=True)
class FunctionResult:
    """A `functionResponse` part: what the client's function returned for an earlier call."""

    name: str
    response: dict[str, Any]
    id: str | None = None


PromptPart = str | FileRef | Media | FunctionCall | FunctionResult


@dataclass(frozen=True)
class Turn:
    """One conversation turn; consecutive same-role turns are allowed."""

    role: Role
    parts: tuple[PromptPart, ...]

    @property
    def text(self) -> str:
        """The turn's text parts joined (media, calls and results are read through `parts`)."""
        if self.files:
            raise RuntimeError("file references must be resolved before the text is read")
        return "".join(p for p in self.parts if isinstance(p, str))

    @property
    def files(self) -> tuple[FileRef, ...]:
        return tuple(p for p in self.parts if isinstance(p, FileRef))

    @property
    def media(self) -> tuple[Media, ...]:
        return tuple(p for p in self.parts if isinstance(p, Media))


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
class FunctionDeclaration:
    name: str
    description: str = ""
    # Plain JSON Schema (OpenAPI-form declarations are converted before they get here); None: no arguments.
    parameters: dict[str, Any] | None = None


class FunctionCallingMode(str, enum.Enum):
    AUTO = "AUTO"  # the model chooses between text and calls
    ANY = "ANY"  # the model must call one of the allowed functions (enforced by constrained decoding)
    NONE = "NONE"  # the model must not call functions (declarations are not shown to it)
    VALIDATED = "VALIDATED"  # text or calls; calls are constrained to the declared schemas


@dataclass(frozen=True)
class ToolSpec:
    declarations: tuple[FunctionDeclaration, ...]
    mode: FunctionCallingMode = FunctionCallingMode.AUTO
    # For ANY / VALIDATED: the functions the model may call; empty means all declared ones.
    allowed_names: tuple[str, ...] = ()

    @property
    def callable(self) -> tuple[FunctionDeclaration, ...]:
        if self.mode is FunctionCallingMode.NONE:
            return ()
        if not self.allowed_names:
            return self.declarations
        return tuple(d for d in self.declarations if d.name in self.allowed_names)


@dataclass(frozen=True)
class ResponseFormat:
    """Structured output: the whole reply is JSON (optionally matching a JSON Schema) or one enum value."""

    kind: Literal["json", "enum"]
    json_schema: dict[str, Any] | None = None  # kind json; None: any JSON value
    enum_values: tuple[str, ...] = ()  # kind enum


@dataclass(frozen=True)
class ThinkingParams:
    enabled: bool
    # Most thought tokens before the model is made to answer; None: bounded by maxOutputTokens only.
    budget: int | None = None
    include_thoughts: bool = False


@dataclass(frozen=True)
class ImageReply:
    """responseModalities with IMAGE: the reply interleaves text (unless image-only) and generated images."""

    text: bool = True
    aspect_ratio: str | None = None  # None: 1:1, or an edited image's own ratio
    image_size: str = "1K"
    person_generation: Any = None  # core.safety.PersonGeneration, or None for no person rule


@dataclass(frozen=True)
class TextRequest:
    model: str
    prompt: Prompt
    sampling: SamplingParams
    tools: ToolSpec | None = None
    response_format: ResponseFormat | None = None
    thinking: ThinkingParams | None = None
    image_reply: ImageReply | None = None


class FinishReason(str, enum.Enum):
    STOP = "STOP"
    MAX_TOKENS = "MAX_TOKENS"
    MALFORMED_FUNCTION_CALL = "MALFORMED_FUNCTION_CALL"
    IMAGE_SAFETY = "IMAGE_SAFETY"  # an image the reply planned was blocked by the safety policy


@dataclass(frozen=True)
class PromptAccepted:
    """First event of every generation: the prompt fitted and was tokenized."""

    prompt_tokens: int
    # Prompt tokens per modality ("TEXT", "IMAGE", ...); empty means all text.
    modality_tokens: dict[str, int] = field(default_factory=dict)
    # The rendered prompt already opened a thought (templates that start the reply with `<think>`).
    in_thought: bool = False


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
    # Of token_count, how many were thought (inside the reasoning tags).
    thought_tokens: int = 0


GenerationEvent = PromptAccepted | TextDelta | CandidateDone


@dataclass
class Usage:
    prompt_tokens: int = 0
    # Answer tokens only; thoughts are counted apart, as Gemini reports them.
    candidates_tokens: int = 0
    thoughts_tokens: int = 0
    prompt_modality_tokens: dict[str, int] = field(default_factory=dict)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.candidates_tokens + self.thoughts_tokens


@dataclass(frozen=True)
class ReplyText:
    text: str
    thought: bool = False


@dataclass(frozen=True)
class ReplyImage:
    """A generated image in a reply (Gemini-native image output), already encoded and stamped."""

    mime_type: str
    data: bytes


ReplyPart = ReplyText | FunctionCall | ReplyImage


@dataclass
class CandidateChunk:
    index: int
    parts: list[ReplyPart] = field(default_factory=list)
    finish_reason: FinishReason | None = None

    @property
    def text(self) -> str:
        """The answer text (thoughts excluded), as `response.text` reads it."""
        return "".join(p.text for p in self.parts if isinstance(p, ReplyText) and not p.thought)


@dataclass
class ResponseChunk:
    """What a service yields: one streamed GenerateContentResponse in domain terms."""

    candidates: list[CandidateChunk]
    usage: Usage
    model: str
    response_id: str
    # The prompt was blocked (promptFeedback.blockReason); no candidates then.
    block_reason: str | None = None
    block_message: str | None = None

    @property
    def accepted_only(self) -> bool:
        """The first chunk of a stream whose prompt the engine accepted, before any output: nothing to send yet,
        but the response may start (a long prompt's prefill can outlast a client's wait for the headers)."""
        return not self.candidates and self.block_reason is None


def new_response_id() -> str:
    """A GenerateContentResponse's responseId: opaque, unique per reply."""
    return secrets.token_urlsafe(12)


@dataclass(frozen=True)
class EmbedRequest:
    text: str
    title: str | None = None
    task_type: str | None = None
    output_dimensionality: int | None = None
