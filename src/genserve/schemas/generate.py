"""generateContent / streamGenerateContent request and response bodies (wire.md §2, §3)."""

from __future__ import annotations

import enum
from typing import Annotated, Any

from pydantic import Field, model_validator

from genserve.schemas.base import Float, Int32, ProtoModel, proto_enum
from genserve.schemas.content import Content, ContentsMixin, as_contents


class Modality(enum.Enum):
    MODALITY_UNSPECIFIED = 0
    TEXT = 1
    IMAGE = 2
    AUDIO = 3


class HarmCategory(enum.Enum):
    HARM_CATEGORY_UNSPECIFIED = 0
    HARM_CATEGORY_DEROGATORY = 1
    HARM_CATEGORY_TOXICITY = 2
    HARM_CATEGORY_VIOLENCE = 3
    HARM_CATEGORY_SEXUAL = 4
    HARM_CATEGORY_MEDICAL = 5
    HARM_CATEGORY_DANGEROUS = 6
    HARM_CATEGORY_HARASSMENT = 7
    HARM_CATEGORY_HATE_SPEECH = 8
    HARM_CATEGORY_SEXUALLY_EXPLICIT = 9
    HARM_CATEGORY_DANGEROUS_CONTENT = 10
    HARM_CATEGORY_CIVIC_INTEGRITY = 11


class HarmBlockThreshold(enum.Enum):
    HARM_BLOCK_THRESHOLD_UNSPECIFIED = 0
    BLOCK_LOW_AND_ABOVE = 1
    BLOCK_MEDIUM_AND_ABOVE = 2
    BLOCK_ONLY_HIGH = 3
    BLOCK_NONE = 4
    OFF = 5


class SafetySetting(ProtoModel):
    category: Annotated[HarmCategory, proto_enum(HarmCategory)] | None = None
    threshold: Annotated[HarmBlockThreshold, proto_enum(HarmBlockThreshold)] | None = None


class ThinkingConfig(ProtoModel):
    include_thoughts: bool | None = None
    thinking_budget: Int32 | None = None
    thinking_level: str | None = None


class ImageConfig(ProtoModel):
    aspect_ratio: str | None = None
    image_size: str | None = None
    person_generation: str | None = None


class GenerationConfig(ProtoModel):
    temperature: Float | None = None
    top_p: Float | None = None
    top_k: Int32 | None = None
    candidate_count: Int32 | None = None
    max_output_tokens: Int32 | None = None
    stop_sequences: list[str] | None = None
    seed: Int32 | None = None
    presence_penalty: Float | None = None
    frequency_penalty: Float | None = None
    response_logprobs: bool | None = None
    logprobs: Int32 | None = None
    response_mime_type: str | None = None
    # Schemas are user data (property names must survive unchanged), so they stay plain JSON here.
    response_schema: dict[str, Any] | None = None
    response_json_schema: Any = None
    response_modalities: list[Annotated[Modality, proto_enum(Modality)]] | None = None
    speech_config: dict[str, Any] | None = None
    thinking_config: ThinkingConfig | None = None
    image_config: ImageConfig | None = None
    media_resolution: str | Int32 | None = None


class GenerateContentRequest(ContentsMixin):
    model: str | None = None
    contents: list[Content] = Field(default_factory=list)
    system_instruction: Content | None = None
    tools: list[dict[str, Any]] | None = None
    tool_config: dict[str, Any] | None = None
    safety_settings: list[SafetySetting] | None = None
    generation_config: GenerationConfig | None = None
    cached_content: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _system_as_content(cls, data: Any) -> Any:
        # A plain string system instruction is a common REST shortcut.
        for key in ("systemInstruction", "system_instruction"):
            if isinstance(data, dict) and isinstance(text := data.get(key), str):
                data = {**data, key: as_contents(text)[0]}
        return data


class Candidate(ProtoModel):
    content: Content | None = None
    finish_reason: str | None = None
    index: int | None = None


class ModalityTokenCount(ProtoModel):
    modality: str
    token_count: int


class UsageMetadata(ProtoModel):
    prompt_token_count: int | None = None
    candidates_token_count: int | None = None
    thoughts_token_count: int | None = None
    total_token_count: int | None = None
    prompt_tokens_details: list[ModalityTokenCount] | None = None


class PromptFeedback(ProtoModel):
    block_reason: str | None = None
    block_reason_message: str | None = None


class GenerateContentResponse(ProtoModel):
    candidates: list[Candidate] | None = None
    prompt_feedback: PromptFeedback | None = None
    usage_metadata: UsageMetadata | None = None
    model_version: str | None = None
    response_id: str | None = None
