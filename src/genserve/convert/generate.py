"""generateContent wire request <-> domain TextRequest and ResponseChunk."""

from __future__ import annotations

from genserve.constrain.schema import check_json_schema, enum_values, openapi_to_json_schema
from genserve.convert.contents import to_prompt
from genserve.convert.predict import to_person_generation
from genserve.convert.tools import check_calls, to_tool_spec
from genserve.core.catalog import ModelEntry
from genserve.core.types import (
    FunctionCallingMode,
    ImageReply,
    ReplyImage,
    ReplyPart,
    ReplyText,
    ResponseChunk,
    ResponseFormat,
    SamplingParams,
    TextRequest,
    ThinkingParams,
)
from genserve.errors import InvalidArgument
from genserve.media.aspect import IMAGE_SIZE_FACTORS, IMAGEN_SIZES
from genserve.schemas.content import Blob, Content, FunctionCall, Part
from genserve.schemas.generate import (
    Candidate,
    GenerateContentRequest,
    GenerateContentResponse,
    GenerationConfig,
    ImageConfig,
    ModalityTokenCount,
    PromptFeedback,
    UsageMetadata,
)

MAX_STOP_SEQUENCES = 5


def to_text_request(body: GenerateContentRequest, entry: ModelEntry, model: str) -> TextRequest:
    # Error messages name the model the way the client called it, not the catalog entry behind the alias.
    entry = entry.model_copy(update={"name": model})
    _refuse_unsupported(body, entry)
    prompt = to_prompt(body.contents, body.system_instruction, entry)
    media = sum(len(t.media) + len(t.files) for t in prompt.turns)
    if media > entry.max_media_per_prompt:
        raise InvalidArgument(
            f"contents: {media} media parts (images, audio, video, files) is more than model '{model}' accepts "
            f"in one prompt ({entry.max_media_per_prompt})"
        )
    tools = to_tool_spec(body.tools, body.tool_config, entry)
    check_calls(prompt, tools)
    config = body.generation_config or GenerationConfig()
    response_format = to_response_format(config, entry)
    if response_format is not None and tools is not None and tools.mode is FunctionCallingMode.ANY:
        raise InvalidArgument(
            "toolConfig.functionCallingConfig.mode: ANY forces a function call, which cannot also be a "
            "structured response; use mode AUTO with responseMimeType, or drop responseMimeType"
        )
    image_reply = to_image_reply(config, entry, model)
    if image_reply is not None and (response_format is not None or (tools is not None and tools.callable)):
        raise InvalidArgument(
            "generationConfig.responseModalities: image output cannot be combined with function calling or a "
            "structured (JSON) response; ask for TEXT only, or leave the tools and responseMimeType out"
        )
    sampling = to_sampling(config, entry)
    if image_reply is not None and sampling.candidate_count > 1:
        raise InvalidArgument("generationConfig.candidateCount: image output gives one candidate; leave it at 1")
    return TextRequest(
        model=model,
        prompt=prompt,
        sampling=sampling,
        tools=tools,
        response_format=response_format,
        thinking=to_thinking(config, entry),
        image_reply=image_reply,
    )


def to_image_reply(c: GenerationConfig, entry: ModelEntry, model: str) -> ImageReply | None:
    """responseModalities with IMAGE (checked against the model's output modalities already)."""
    modalities = {m.name for m in c.response_modalities or ()}
    if "IMAGE" not in modalities:
        if c.image_config is not None and (c.image_config.aspect_ratio or c.image_config.image_size):
            raise InvalidArgument("generationConfig.imageConfig: set responseModalities to include IMAGE")
        return None
    if "TEXT" not in modalities and not entry.image_only_output:
        raise InvalidArgument(
            f"generationConfig.responseModalities: model '{model}' does not support image-only output; "
            'use ["TEXT", "IMAGE"]'
        )
    config = c.image_config or ImageConfig()
    where = "generationConfig.imageConfig"
    if config.aspect_ratio is not None and config.aspect_ratio not in IMAGEN_SIZES:
        raise InvalidArgument(
            f"{where}.aspectRatio: '{config.aspect_ratio}' is not supported; use one of {', '.join(IMAGEN_SIZES)}"
        )
    size = (config.image_size or "1K").upper()
    if size not in IMAGE_SIZE_FACTORS:
        raise InvalidArgument(f"{where}.imageSize: '{config.image_size}' is not supported; use 1K or 2K")
    return ImageReply(
        text="TEXT" in modalities,
        aspect_ratio=config.aspect_ratio,
        image_size=size,
        person_generation=to_person_generation(config.person_generation, f"{where}.personGeneration"),
    )


_JSON, _ENUM = "application/json", "text/x.enum"


def to_response_format(c: GenerationConfig, entry: ModelEntry) -> ResponseFormat | None:
    mime = c.response_mime_type or "text/plain"
    schema, json_schema = c.response_schema, c.response_json_schema
    where = "generationConfig"
    if mime == "text/plain":
        if schema is not None or json_schema is not None:
            raise InvalidArgument(
                f"{where}.responseMimeType: a response schema needs responseMimeType '{_JSON}' or '{_ENUM}'"
            )
        return None
    if mime not in (_JSON, _ENUM):
        raise InvalidArgument(
            f"{where}.responseMimeType: '{mime}' is not supported; use text/plain, {_JSON} or {_ENUM}"
        )
    if not entry.structured_output:
        raise InvalidArgument(f"{where}.responseMimeType: structured output is not supported by model '{entry.name}'")
    if schema is not None and json_schema is not None:
        raise InvalidArgument(f"{where}: set either responseSchema or responseJsonSchema, not both")
    if mime == _ENUM:
        if schema is None and json_schema is None:
            raise InvalidArgument(f"{where}.responseSchema: '{_ENUM}' needs a schema with the enum values")
        field = "responseSchema" if schema is not None else "responseJsonSchema"
        return ResponseFormat("enum", enum_values=enum_values(schema or json_schema, f"{where}.{field}"))
    if schema is not None:
        return ResponseFormat("json", openapi_to_json_schema(schema, f"{where}.responseSchema"))
    if json_schema is not None:
        return ResponseFormat("json", check_json_schema(json_schema, f"{where}.responseJsonSchema"))
    return ResponseFormat("json")


# thinkingLevel as a share of the model's largest budget; HIGH lets the model decide.
_LEVELS = {"MINIMAL": 0.0, "LOW": 0.125, "MEDIUM": 0.5}


def to_thinking(c: GenerationConfig, entry: ModelEntry) -> ThinkingParams | None:
    t = c.thinking_config
    where = "generationConfig.thinkingConfig"
    if not entry.thinking:
        if t is not None and (t.include_thoughts or t.thinking_budget not in (None, 0) or t.thinking_level):
            raise InvalidArgument(f"{where}: thinking is not supported by model '{entry.name}'")
        return None
    budget = t.thinking_budget if t is not None else None
    requested_level = t.thinking_level if t is not None else None
    level = (requested_level or "").upper()
    if level and budget is not None:
        raise InvalidArgument(f"{where}: set either thinkingBudget or thinkingLevel, not both")
    if level and level not in (*_LEVELS, "HIGH", "THINKING_LEVEL_UNSPECIFIED"):
        raise InvalidArgument(f"{where}.thinkingLevel: '{requested_level}' is not a level; use LOW or HIGH")
    if level in _LEVELS:
        budget = max(entry.min_thinking_budget, int(entry.max_thinking_budget * _LEVELS[level]))
    if budget is None or budget == -1:
        budget = entry.default_thinking_budget
    elif budget == 0 and entry.min_thinking_budget > 0:
        raise InvalidArgument(f"{where}.thinkingBudget: Budget 0 is invalid. This model only works in thinking mode.")
    elif budget != 0 and not entry.min_thinking_budget <= budget <= entry.max_thinking_budget:
        raise InvalidArgument(
            f"{where}.thinkingBudget: The thinking budget {budget} is invalid. Please choose a value between "
            f"{entry.min_thinking_budget} and {entry.max_thinking_budget}."
        )
    include = bool(t is not None and t.include_thoughts)
    return ThinkingParams(enabled=budget != 0, budget=budget, include_thoughts=include)


def to_sampling(config: GenerationConfig | None, entry: ModelEntry) -> SamplingParams:
    c = config or GenerationConfig()
    temperature = entry.temperature if c.temperature is None else c.temperature
    if not 0 <= temperature <= entry.max_temperature:
        raise InvalidArgument(
            f"generationConfig.temperature must be between 0 and {entry.max_temperature}, got {temperature}"
        )
    top_p = entry.top_p if c.top_p is None else c.top_p
    if not 0 <= top_p <= 1:
        raise InvalidArgument(f"generationConfig.topP must be between 0 and 1, got {top_p}")
    top_k = entry.top_k if c.top_k is None else c.top_k
    if top_k < 0:
        raise InvalidArgument(f"generationConfig.topK must not be negative, got {top_k}")
    max_tokens = entry.output_token_limit if c.max_output_tokens is None else c.max_output_tokens
    if not 1 <= max_tokens <= entry.output_token_limit:
        raise InvalidArgument(
            f"generationConfig.maxOutputTokens must be between 1 and {entry.output_token_limit} "
            f"(the output token limit of {entry.name}), got {max_tokens}"
        )
    count = 1 if c.candidate_count is None else c.candidate_count
    if not 1 <= count <= entry.max_candidate_count:
        raise InvalidArgument(
            f"generationConfig.candidateCount must be between 1 and {entry.max_candidate_count}, got {count}"
        )
    stops = tuple(c.stop_sequences or ())
    if len(stops) > MAX_STOP_SEQUENCES:
        raise InvalidArgument(
            f"generationConfig.stopSequences allows at most {MAX_STOP_SEQUENCES} sequences, got {len(stops)}"
        )
    for name, value in (("presencePenalty", c.presence_penalty), ("frequencyPenalty", c.frequency_penalty)):
        if value is not None and not -2 <= value <= 2:
            raise InvalidArgument(f"generationConfig.{name} must be between -2 and 2, got {value}")
    return SamplingParams(
        # topP 0 leaves a single token: the same answer as greedy decoding.
        temperature=0.0 if top_p == 0 else temperature,
        top_p=top_p or None,
        top_k=top_k or None,
        max_output_tokens=max_tokens,
        stop_sequences=stops,
        seed=c.seed,
        candidate_count=count,
        presence_penalty=c.presence_penalty or 0.0,
        frequency_penalty=c.frequency_penalty or 0.0,
    )


def _refuse_unsupported(body: GenerateContentRequest, entry: ModelEntry) -> None:
    """Anything that would change the answer and that this model cannot do is a 400, never ignored."""

    def refuse(field: str, what: str) -> None:
        raise InvalidArgument(f"{field}: {what} is not supported by model '{entry.name}'")

    if body.cached_content:
        refuse("cachedContent", "context caching")
    c = body.generation_config
    if c is None:
        return
    for modality in c.response_modalities or ():
        if modality.name.lower() not in entry.output_modalities:
            refuse("generationConfig.responseModalities", f"{modality.name} output")
    if c.response_logprobs or c.logprobs:
        refuse("generationConfig.responseLogprobs", "returning log probabilities")
    if c.speech_config is not None and "audio" not in entry.output_modalities:
        refuse("generationConfig.speechConfig", "speech output")
    if c.image_config is not None and "image" not in entry.output_modalities:
        refuse("generationConfig.imageConfig", "image output")


def to_response(chunk: ResponseChunk) -> GenerateContentResponse:
    usage = chunk.usage
    feedback = None
    if chunk.block_reason:
        feedback = PromptFeedback(block_reason=chunk.block_reason, block_reason_message=chunk.block_message)
    return GenerateContentResponse(
        prompt_feedback=feedback,
        candidates=[
            Candidate(
                # Never an empty parts list: the SDK chat drops turns whose parts are missing.
                content=Content(role="model", parts=[_part(p) for p in c.parts] or [Part(text="")]),
                finish_reason=c.finish_reason.value if c.finish_reason else None,
                index=c.index,
            )
            for c in chunk.candidates
        ]
        or None,
        usage_metadata=UsageMetadata(
            prompt_token_count=usage.prompt_tokens,
            candidates_token_count=usage.candidates_tokens or None,
            thoughts_token_count=usage.thoughts_tokens or None,
            total_token_count=usage.total_tokens,
            prompt_tokens_details=[
                ModalityTokenCount(modality=m, token_count=n)
                for m, n in (usage.prompt_modality_tokens or {"TEXT": usage.prompt_tokens}).items()
            ],
        ),
        model_version=chunk.model,
        response_id=chunk.response_id,
    )


def _part(part: ReplyPart) -> Part:
    if isinstance(part, ReplyText):
        return Part(text=part.text, thought=True if part.thought else None)
    if isinstance(part, ReplyImage):
        return Part(inline_data=Blob(mime_type=part.mime_type, data=part.data))
    return Part(function_call=FunctionCall(id=part.id, name=part.name, args=part.args))
