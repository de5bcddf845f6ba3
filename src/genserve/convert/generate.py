"""generateContent wire request <-> domain TextRequest and ResponseChunk."""

from __future__ import annotations

from genserve.convert.contents import to_prompt
from genserve.core.catalog import ModelEntry
from genserve.core.types import ResponseChunk, SamplingParams, TextRequest
from genserve.errors import InvalidArgument
from genserve.schemas.content import Content, Part
from genserve.schemas.generate import (
    Candidate,
    GenerateContentRequest,
    GenerateContentResponse,
    GenerationConfig,
    ModalityTokenCount,
    UsageMetadata,
)

MAX_STOP_SEQUENCES = 5


def to_text_request(body: GenerateContentRequest, entry: ModelEntry, model: str) -> TextRequest:
    # Error messages name the model the way the client called it, not the catalog entry behind the alias.
    entry = entry.model_copy(update={"name": model})
    _refuse_unsupported(body, entry)
    prompt = to_prompt(body.contents, body.system_instruction, entry)
    return TextRequest(model=model, prompt=prompt, sampling=to_sampling(body.generation_config, entry))


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

    if body.tools:
        refuse("tools", "function calling and built-in tools")
    if body.cached_content:
        refuse("cachedContent", "context caching")
    c = body.generation_config
    if c is None:
        return
    if c.response_mime_type not in (None, "", "text/plain"):
        refuse("generationConfig.responseMimeType", f"'{c.response_mime_type}' output")
    if c.response_schema is not None or c.response_json_schema is not None:
        refuse("generationConfig.responseSchema", "structured output")
    for modality in c.response_modalities or ():
        if modality.name.lower() not in entry.output_modalities:
            refuse("generationConfig.responseModalities", f"{modality.name} output")
    if c.response_logprobs or c.logprobs:
        refuse("generationConfig.responseLogprobs", "returning log probabilities")
    if c.speech_config is not None and "audio" not in entry.output_modalities:
        refuse("generationConfig.speechConfig", "speech output")
    if c.image_config is not None and "image" not in entry.output_modalities:
        refuse("generationConfig.imageConfig", "image output")
    t = c.thinking_config
    if t is not None and not entry.thinking and (t.include_thoughts or t.thinking_budget not in (None, 0)):
        refuse("generationConfig.thinkingConfig", "thinking")


def to_response(chunk: ResponseChunk) -> GenerateContentResponse:
    usage = chunk.usage
    return GenerateContentResponse(
        candidates=[
            Candidate(
                # Always one text part, even empty: the SDK chat drops turns whose parts are missing.
                content=Content(role="model", parts=[Part(text=c.text)]),
                finish_reason=c.finish_reason.value if c.finish_reason else None,
                index=c.index,
            )
            for c in chunk.candidates
        ],
        usage_metadata=UsageMetadata(
            prompt_token_count=usage.prompt_tokens,
            candidates_token_count=usage.candidates_tokens or None,
            total_token_count=usage.total_tokens,
            prompt_tokens_details=[ModalityTokenCount(modality="TEXT", token_count=usage.prompt_tokens)],
        ),
        model_version=chunk.model,
        response_id=chunk.response_id,
    )
