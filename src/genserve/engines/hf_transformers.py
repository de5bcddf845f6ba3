"""Text generation with Hugging Face transformers: chat templates, sampling, stop sequences, streaming."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, cast

import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    GenerationConfig,
    LogitsProcessor,
    LogitsProcessorList,
    StoppingCriteria,
    StoppingCriteriaList,
)
from transformers.generation.streamers import BaseStreamer

from genserve.core.reply_format import ReplyFormat, reply_format
from genserve.core.types import (
    CandidateDone,
    FinishReason,
    FunctionCallingMode,
    GenerationEvent,
    Prompt,
    PromptAccepted,
    SamplingParams,
    TextDelta,
    TextRequest,
)
from genserve.engines.chat_template import chat_messages, template_tools, with_response_format
from genserve.engines.constrained.closing import ClosingPressure, closing_token_ids
from genserve.engines.continuous import ContinuousBatcher, ModelTurns, batchable
from genserve.engines.sampling import dead_rows, sample
from genserve.engines.text_decoding import CandidateText
from genserve.engines.token_chars import max_token_chars
from genserve.engines.torch_options import load_options
from genserve.engines.worker import FreshThreadExecutor, stream_job
from genserve.errors import Internal, InvalidArgument, Unavailable

log = logging.getLogger(__name__)


@dataclass
class PreparedPrompt:
    """A request's prompt as the model reads it."""

    ids: list[int]
    # Extra generate() inputs (pixel values and the like from a multimodal processor).
    model_inputs: dict[str, Any] = field(default_factory=dict)
    modality_tokens: dict[str, int] = field(default_factory=dict)
    # The template opened the reply with a thought tag, so the output starts inside a thought.
    in_thought: bool = False

    def accepted(self) -> PromptAccepted:
        return PromptAccepted(len(self.ids), dict(self.modality_tokens), self.in_thought)


class TransformersTextEngine:
    """One causal LM on one thread: requests queue on the engine's executor and run one at a time."""

    def __init__(self, path: str, options: dict[str, Any]) -> None:
        load = load_options(options)
        self._load(path, load.model_kwargs)
        self.device = self.model.device
        self._executor = FreshThreadExecutor(f"engine:{path}")
        self._eos_ids = _eos_ids(self.model.generation_config, self.tokenizer)
        self.max_token_chars = max_token_chars(self.tokenizer)
        self._pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self._eos_ids[0]
        self._system_role = True
        self.format: ReplyFormat = reply_format(options.get("reply_format", "hermes"))
        self._grammars: Any = None  # built on the first constrained request
        # Plain sampling traffic shares forward passes; see continuous.py for what takes the generate() path.
        enabled = options.get("continuous_batching", True) and self.supports_batching
        self._batcher = ContinuousBatcher(self.model, self._eos_ids, self._pad_id, options) if enabled else None
        self._batch_positions = _batch_positions(self.model.config.get_text_config())

    supports_batching = True

    def _load(self, path: str, model_kwargs: dict[str, Any]) -> None:
        """Sets `tokenizer` and `model`; multimodal engines load a processor here too."""
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModelForCausalLM.from_pretrained(path, **model_kwargs).eval()

    # -- prompt rendering ---------------------------------------------------------------------------

    def prompt_text(self, request: TextRequest) -> str:
        """The conversation rendered through the chat template (the last model turn is continued)."""
        prompt = with_response_format(request.prompt, request.response_format)
        if not self.tokenizer.chat_template:
            return "\n\n".join(filter(None, [prompt.system, *(t.text for t in prompt.turns)]))
        try:
            return self._render(request)
        except Exception as exc:  # jinja raises TemplateError for e.g. "System role not supported"
            if not (prompt.system and self._system_role):
                raise InvalidArgument(f"The model's chat template rejected the conversation: {exc}") from exc
            self._system_role = False
            return self._render(request)

    def _render(self, request: TextRequest) -> str:
        prompt = request.prompt
        continue_model_turn = bool(prompt.turns) and prompt.turns[-1].role == "model"
        thinking = request.thinking is not None and request.thinking.enabled
        # transformers types `tools` as an invariant list[dict | Callable] (a list of dicts is refused) and the result
        # for every mode at once: with tokenize=False it is the rendered text.
        rendered = self.tokenizer.apply_chat_template(
            chat_messages(with_response_format(prompt, request.response_format), system_role=self._system_role),
            tools=template_tools(request.tools.callable) if request.tools else None,  # type: ignore[arg-type]
            tokenize=False,
            add_generation_prompt=not continue_model_turn,
            continue_final_message=continue_model_turn,
            # Templates of reasoning models read this; others ignore it. Constrained output cannot start with
            # free-form reasoning, and a model whose catalog entry is not a thinking model does not think.
            enable_thinking=thinking and self._grammar_spec(request) is None,
        )
        return cast(str, rendered)

    def prepare(self, request: TextRequest) -> PreparedPrompt:
        text = self.prompt_text(request)
        ids = self.tokenizer(text, add_special_tokens=not self.tokenizer.chat_template)["input_ids"]
        return PreparedPrompt(ids, in_thought=text.rstrip().endswith(self.format.think_open))

    async def count_tokens(self, prompt: Prompt) -> dict[str, int]:
        prepared = await asyncio.to_thread(self.prepare, TextRequest("", prompt, _COUNT_ONLY))
        return prepared.modality_tokens or {"TEXT": len(prepared.ids)}

    # -- generation ---------------------------------------------------------------------------------

    def generate(self, request: TextRequest, input_token_limit: int) -> AsyncIterator[GenerationEvent]:
        if self._batcher is not None and self._batchable(request):
            return self._generate_batched(request, input_token_limit)

        def job(cancel: threading.Event, emit: Callable[[GenerationEvent], None]) -> None:
            grammar = self._grammar_spec(request)
            if grammar is not None:  # a schema that cannot be enforced is named before the prompt's length (the
                self._grammar_processor(grammar, 1)  # prompt states the schema); the compile is cached for below
            self._generate(self._checked(request, input_token_limit), request, cancel, emit)

        return stream_job(self._executor, job)

    def _batchable(self, request: TextRequest) -> bool:
        """The continuous batcher samples with temperature/top-k/top-p only: anything needing a logits
        processor (grammar, thinking budget, seed, penalties) takes the generate() path. A model whose template
        never opens a thought has no budget to enforce."""
        thinks = self.format.think_open in (self.tokenizer.chat_template or "")
        thinking = request.thinking
        budget = thinks and thinking is not None and thinking.enabled and thinking.budget is not None
        return batchable(request.sampling) and self._grammar_spec(request) is None and not budget

    def _checked(self, request: TextRequest, input_token_limit: int) -> PreparedPrompt:
        prepared = self.prepare(request)
        if len(prepared.ids) > input_token_limit:
            raise InvalidArgument(
                f"The input token count ({len(prepared.ids)}) exceeds the maximum number of tokens allowed "
                f"({input_token_limit})."
            )
        return prepared

    async def _generate_batched(self, request: TextRequest, input_token_limit: int) -> AsyncIterator[GenerationEvent]:
        prepared = await asyncio.to_thread(self._checked, request, input_token_limit)
        ids = prepared.ids
        sampling = request.sampling
        if len(ids) + sampling.max_output_tokens > self._batch_positions:
            # Past the positions a dynamic-RoPE model was trained on, the rotary frequencies are rescaled for the
            # longest sequence in each forward pass: in a shared batch they would change the other requests' too.
            def job(cancel: threading.Event, emit: Callable[[GenerationEvent], None]) -> None:
                self._generate(prepared, request, cancel, emit)

            alone: AsyncIterator[GenerationEvent] = stream_job(self._executor, job)
            async for event in alone:
                yield event
            return
        yield prepared.accepted()
        events: list[GenerationEvent] = []
        candidates = [CandidateText(self._decode, sampling.stop_sequences) for _ in range(sampling.candidate_count)]
        streamer = self._streamer(candidates, sampling, prepared.in_thought, events.append)
        seen = [0] * len(candidates)
        assert self._batcher is not None  # generate() sends a request here only when there is a batcher
        updates = self._batcher.stream(ids, sampling)
        try:
            async for update in updates:
                for token in update.tokens[seen[update.index] :]:
                    streamer.accept(update.index, token)
                seen[update.index] = len(update.tokens)
                if update.finished and not streamer.finished[update.index]:
                    streamer.finish(update.index, FinishReason.MAX_TOKENS, candidates[update.index].flush())
                for event in events:
                    yield event
                events.clear()
                if all(streamer.finished):
                    break  # a stop sequence may end a candidate before the manager does
        finally:
            await updates.aclose()

    def _streamer(
        self, candidates: list[CandidateText], sampling: SamplingParams, in_thought: bool, emit: Callable
    ) -> _CandidateStreamer:
        close = self.format.think_close
        return _CandidateStreamer(candidates, self._eos_ids, sampling.max_output_tokens, emit, close, in_thought)

    def _generate(
        self, prepared: PreparedPrompt, request: TextRequest, cancel: threading.Event, emit: Callable
    ) -> None:
        sampling = request.sampling
        n = sampling.candidate_count
        candidates = [CandidateText(self._decode, sampling.stop_sequences) for _ in range(n)]
        streamer = self._streamer(candidates, sampling, prepared.in_thought, emit)
        input_ids = torch.tensor([prepared.ids] * n, device=self.device)
        inputs = {k: torch.cat([v] * n) if n > 1 else v for k, v in prepared.model_inputs.items()}
        # generate() itself only picks the best token: every rule that shapes the choice is a processor
        # here, in this order, so a grammar mask is applied before top-k/top-p (never after, which could
        # leave no token at all) and the draw uses the request's own random generator.
        processors = LogitsProcessorList()
        if sampling.presence_penalty or sampling.frequency_penalty:
            penalty = _PresenceFrequencyPenalty(
                sampling.presence_penalty, sampling.frequency_penalty, len(prepared.ids)
            )
            processors.append(penalty)
        grammar = self._grammar_spec(request)
        if grammar is not None:
            processors.append(self._utf8_guard())
            processors.append(self._grammar_processor(grammar, n))
            processors.append(ClosingPressure(self._closer_ids(), len(prepared.ids), sampling.max_output_tokens))
        thinking = request.thinking
        if thinking is not None and thinking.enabled and thinking.budget is not None:
            close_ids = self.tokenizer(self.format.think_close + "\n\n", add_special_tokens=False)["input_ids"]
            processors.append(_ThinkingBudget(thinking.budget, close_ids, streamer))
        if sampling.temperature > 0:
            processors.append(_Sampler(sampling, self.device))
        # Accepted once everything that can refuse the request (a grammar's compile) has run: a refusal is then still
        # an HTTP error, not one inside a started stream.
        emit(prepared.accepted())
        turns = self._batcher.exclusive() if self._batcher is not None else contextlib.nullcontext()
        with torch.inference_mode(), turns:
            self.model.generate(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                generation_config=self._generation_config(sampling),
                logits_processor=processors,
                stopping_criteria=StoppingCriteriaList([_StopWhen(streamer, cancel, turns)]),
                streamer=streamer,
                **inputs,
            )
        if not cancel.is_set():  # generate() may also stop on limits of its own (the model's max length)
            for index, cand in enumerate(candidates):
                if not streamer.finished[index]:
                    streamer.finish(index, FinishReason.MAX_TOKENS, cand.flush())

    # -- constrained decoding -------------------------------------------------------------------------

    def _grammar_spec(self, request: TextRequest) -> tuple[str, Any] | None:
        """What the output must match, if anything: a response format, or tool calls (ANY / VALIDATED)."""
        if request.response_format is not None:
            return ("response", request.response_format)
        tools = request.tools
        if tools is not None and tools.callable:
            if tools.mode is FunctionCallingMode.ANY:
                return ("calls", tools.callable)
            if tools.mode is FunctionCallingMode.VALIDATED:
                return ("validated", tools.callable)
        return None

    @functools.cache  # noqa: B019 - one engine per model, kept for the server's lifetime
    def _closer_ids(self) -> list[int]:
        return closing_token_ids(self.tokenizer, self._eos_ids)

    def _grammar_compiler(self) -> Any:
        if self._grammars is None:
            try:
                from genserve.engines.constrained.grammar import GrammarCompiler
            except ImportError as exc:
                raise Unavailable(
                    f"Structured output and forced function calls need llguidance ({exc.name} is missing), which "
                    "the text extra installs: pip install 'genserve[text]'"
                ) from exc
            vocab = self.model.config.get_text_config().vocab_size
            self._grammars = GrammarCompiler(self.tokenizer, vocab, stop_token_ids=self._eos_ids)
        return self._grammars

    @functools.cache  # noqa: B019 - one engine per model, kept for the server's lifetime
    def _utf8_guard(self) -> LogitsProcessor:
        from genserve.engines.constrained.utf8 import Utf8Guard

        compiler = self._grammar_compiler()
        return Utf8Guard(compiler.token_bytes, compiler.vocab_size)

    def _grammar_processor(self, spec: tuple[str, Any], batch_size: int) -> LogitsProcessor:
        self._grammar_compiler()
        kind, what = spec
        f = self.format
        if kind == "response":
            compiled = self._grammars.for_response(what)
        elif kind == "calls":
            compiled = self._grammars.for_tool_calls(what, f.tool_open, f.tool_close)
        else:
            compiled = self._grammars.for_validated_tool_calls(what, f.tool_open, f.tool_close)
        return self._grammars.logits_processor(compiled, batch_size)

    def _generation_config(self, s: SamplingParams) -> GenerationConfig:
        # Greedy over what the processors leave: _Sampler has already made the draw when sampling.
        return GenerationConfig(
            max_new_tokens=s.max_output_tokens,
            do_sample=False,
            eos_token_id=self._eos_ids,
            pad_token_id=self._pad_id,
        )

    def _decode(self, tokens: list[int]) -> str:
        # One sequence of ids decodes to one string (transformers types the batched form's list in too).
        return cast(str, self.tokenizer.decode(tokens, skip_special_tokens=True))

    def close(self) -> None:
        if self._batcher is not None:
            self._batcher.close()
        self._executor.shutdown(wait=False, cancel_futures=True)


class _CandidateStreamer(BaseStreamer):
    """Receives each step's tokens (one per candidate) from generate() and turns them into events.

    It also counts each candidate's thought tokens: those up to the end of the thought's close tag."""

    def __init__(
        self,
        candidates: list[CandidateText],
        eos_ids: list[int],
        max_tokens: int,
        emit: Callable,
        think_close: str = "",
        in_thought: bool = False,
    ) -> None:
        self.candidates = candidates
        self.finished = [False] * len(candidates)
        self._eos = set(eos_ids)
        self._max_tokens = max_tokens
        self._emit = emit
        self._prompt_seen = False
        self._think_close = think_close
        self.in_thought = [in_thought] * len(candidates)
        self.thought_tokens = [0] * len(candidates)

    def put(self, value: torch.Tensor) -> None:
        if not self._prompt_seen:  # generate() first hands over the prompt itself
            self._prompt_seen = True
            return
        for index, token in enumerate(value.reshape(-1).tolist()):
            self.accept(index, token)

    def accept(self, index: int, token: int) -> None:
        """One new token of one candidate (from generate()'s streamer hook or the continuous batcher)."""
        if self.finished[index]:
            return
        cand = self.candidates[index]
        if token in self._eos:
            self.finish(index, FinishReason.STOP, cand.flush())
            return
        delta = cand.push(token)
        if self.in_thought[index]:
            self.thought_tokens[index] = len(cand.tokens)
            if self._think_close and self._think_close in cand.text:
                self.in_thought[index] = False
        if cand.stopped:
            self.finish(index, FinishReason.STOP, delta)
        elif len(cand.tokens) >= self._max_tokens:
            # The last token's text travels with the finishReason, as the Gemini API sends it.
            self.finish(index, FinishReason.MAX_TOKENS, delta + cand.flush())
        elif delta:
            self._emit(TextDelta(index, delta))

    def finish(self, index: int, reason: FinishReason, text: str) -> None:
        self.finished[index] = True
        tokens = len(self.candidates[index].tokens)
        self._emit(CandidateDone(index, reason, tokens, text, thought_tokens=self.thought_tokens[index]))

    def end(self) -> None:
        pass


class _StopWhen(StoppingCriteria):
    """Stops each row once its candidate finished (stop sequence), and every row on cancellation."""

    def __init__(self, streamer: _CandidateStreamer, cancel: threading.Event, turns: Any) -> None:
        self.streamer = streamer
        self.cancel = cancel
        self.turns = turns

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: Any) -> torch.BoolTensor:
        # StoppingCriteria's signature names the legacy BoolTensor type; a bool-dtype Tensor is what it means.
        if isinstance(self.turns, ModelTurns):
            self.turns.between_steps()
        if self.cancel.is_set():
            return cast(torch.BoolTensor, torch.ones(input_ids.shape[0], dtype=torch.bool, device=input_ids.device))
        return cast(torch.BoolTensor, torch.tensor(self.streamer.finished, dtype=torch.bool, device=input_ids.device))


class _ThinkingBudget(LogitsProcessor):
    """Makes a row close its thought once it has thought `budget` tokens (thinkingConfig.thinkingBudget):
    the close tag's tokens are forced one by one, then the model answers."""

    def __init__(self, budget: int, close_ids: list[int], streamer: _CandidateStreamer) -> None:
        self.budget, self.close_ids, self.streamer = budget, close_ids, streamer
        self.forced = [0] * len(streamer.candidates)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        for row in range(scores.shape[0]):
            step = self.forced[row]
            thinking = self.streamer.in_thought[row] and not self.streamer.finished[row]
            if step < len(self.close_ids) and (step or (thinking and self.streamer.thought_tokens[row] >= self.budget)):
                scores[row] = float("-inf")
                scores[row, self.close_ids[step]] = 0.0
                self.forced[row] += 1
        return scores


class _PresenceFrequencyPenalty(LogitsProcessor):
    """Gemini's additive penalties over tokens already in the response (not the prompt)."""

    def __init__(self, presence: float, frequency: float, prompt_len: int) -> None:
        self.presence, self.frequency, self.prompt_len = presence, frequency, prompt_len

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        generated = input_ids[:, self.prompt_len :]
        if generated.shape[1] == 0:
            return scores
        counts = torch.zeros_like(scores)
        counts.scatter_add_(1, generated, torch.ones_like(generated, dtype=scores.dtype))
        # LogitsProcessor's signature names the legacy FloatTensor type; any float Tensor is what it means.
        return cast(torch.FloatTensor, scores - self.frequency * counts - self.presence * (counts > 0).to(scores.dtype))


class _Sampler(LogitsProcessor):
    """Temperature, top-k and top-p sampling from the request's own random generator; leaves generate()
    a one-hot choice. torch's global generator is shared with everything else sampling in the process
    (the continuous batcher's thread included), so seeding it could not make a request repeatable."""

    def __init__(self, s: SamplingParams, device: torch.device) -> None:
        self.temperature, self.top_k, self.top_p = s.temperature, s.top_k, s.top_p
        self.generator = torch.Generator(device=device)
        if s.seed is not None:
            self.generator.manual_seed(s.seed)
        else:
            self.generator.seed()

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        rows = scores.shape[0]
        dead = dead_rows(scores)
        if dead.any():  # this request alone ends, with its own error, instead of torch's "inf/nan" message
            if torch.isnan(scores[dead]).any():
                raise Internal("Generation failed: the model produced invalid scores (NaN) for the next token.")
            raise InvalidArgument(
                "Generation stopped: the request's constraints (response schema, forced function call, thinking "
                "budget) left no allowed next token. Simplify the schema or the tool declarations."
            )
        tokens = sample(
            scores,
            torch.full((rows,), self.temperature),
            torch.full((rows,), self.top_k or 0),
            torch.full((rows,), self.top_p or 1.0),
            self.generator,
        )
        # LogitsProcessor's signature names the legacy FloatTensor type; any float Tensor is what it means.
        return cast(torch.FloatTensor, torch.full_like(scores, float("-inf")).scatter_(1, tokens[:, None], 0.0))


# count_tokens renders the prompt alone; sampling plays no part in it.
_COUNT_ONLY = SamplingParams(temperature=0.0, top_p=None, top_k=None, max_output_tokens=1)


def _batch_positions(config: Any) -> float:
    """How long a sequence (prompt and reply) may be to share the batcher's forward passes: any length, except for
    dynamic RoPE (rescaled beyond the trained positions, for the whole batch at once)."""
    rope = getattr(config, "rope_parameters", None) or {}
    return config.max_position_embeddings if rope.get("rope_type") == "dynamic" else math.inf


def _eos_ids(generation_config: GenerationConfig, tokenizer: Any) -> list[int]:
    eos = generation_config.eos_token_id
    ids = eos if isinstance(eos, list) else [eos] if eos is not None else []
    if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in ids:
        ids.append(tokenizer.eos_token_id)
    return ids
