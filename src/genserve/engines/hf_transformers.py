"""Text generation with Hugging Face transformers: chat templates, sampling, stop sequences, streaming."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

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

from genserve.core.types import (
    CandidateDone,
    FinishReason,
    GenerationEvent,
    Prompt,
    PromptAccepted,
    SamplingParams,
    TextDelta,
    TextRequest,
)
from genserve.engines.chat_template import chat_messages
from genserve.engines.continuous import ContinuousBatcher, batchable
from genserve.engines.text_decoding import CandidateText
from genserve.engines.torch_options import load_options
from genserve.engines.worker import stream_job
from genserve.errors import InvalidArgument

log = logging.getLogger(__name__)


class TransformersTextEngine:
    """One causal LM on one thread: requests queue on the engine's executor and run one at a time."""

    def __init__(self, path: str, options: dict[str, Any]) -> None:
        load = load_options(options)
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModelForCausalLM.from_pretrained(path, **load.model_kwargs).eval()
        self.device = self.model.device
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"engine:{path}")
        self._eos_ids = _eos_ids(self.model.generation_config, self.tokenizer)
        self._pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self._eos_ids[0]
        self._system_role = True
        # Plain sampling traffic shares forward passes; see continuous.py for what takes the generate() path.
        enabled = options.get("continuous_batching", True)
        self._batcher = ContinuousBatcher(self.model, self._eos_ids, self._pad_id, options) if enabled else None

    # -- prompt rendering ---------------------------------------------------------------------------

    def prompt_ids(self, prompt: Prompt) -> list[int]:
        if not self.tokenizer.chat_template:
            text = "\n\n".join(filter(None, [prompt.system, *(t.text for t in prompt.turns)]))
            return self.tokenizer(text)["input_ids"]
        continue_model_turn = bool(prompt.turns) and prompt.turns[-1].role == "model"
        try:
            text = self._render(prompt, continue_model_turn)
        except Exception as exc:  # jinja raises TemplateError for e.g. "System role not supported"
            if not (prompt.system and self._system_role):
                raise InvalidArgument(f"The model's chat template rejected the conversation: {exc}") from exc
            self._system_role = False
            text = self._render(prompt, continue_model_turn)
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def _render(self, prompt: Prompt, continue_model_turn: bool) -> str:
        return self.tokenizer.apply_chat_template(
            chat_messages(prompt, system_role=self._system_role),
            tokenize=False,
            add_generation_prompt=not continue_model_turn,
            continue_final_message=continue_model_turn,
        )

    async def count_tokens(self, prompt: Prompt) -> int:
        return len(await asyncio.to_thread(self.prompt_ids, prompt))

    # -- generation ---------------------------------------------------------------------------------

    def generate(self, request: TextRequest, input_token_limit: int) -> AsyncIterator[GenerationEvent]:
        if self._batcher is not None and batchable(request.sampling):
            return self._generate_batched(request, input_token_limit)

        def job(cancel: threading.Event, emit: Callable[[GenerationEvent], None]) -> None:
            ids = self._checked_prompt_ids(request.prompt, input_token_limit)
            emit(PromptAccepted(prompt_tokens=len(ids)))
            self._generate(ids, request.sampling, cancel, emit)

        return stream_job(self._executor, job)

    def _checked_prompt_ids(self, prompt: Prompt, input_token_limit: int) -> list[int]:
        ids = self.prompt_ids(prompt)
        if len(ids) > input_token_limit:
            raise InvalidArgument(
                f"The input token count ({len(ids)}) exceeds the maximum number of tokens allowed "
                f"({input_token_limit})."
            )
        return ids

    async def _generate_batched(self, request: TextRequest, input_token_limit: int) -> AsyncIterator[GenerationEvent]:
        ids = await asyncio.to_thread(self._checked_prompt_ids, request.prompt, input_token_limit)
        yield PromptAccepted(prompt_tokens=len(ids))
        sampling = request.sampling
        events: list[GenerationEvent] = []
        candidates = [CandidateText(self._decode, sampling.stop_sequences) for _ in range(sampling.candidate_count)]
        streamer = _CandidateStreamer(candidates, self._eos_ids, sampling.max_output_tokens, events.append)
        seen = [0] * len(candidates)
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

    def _generate(self, ids: list[int], sampling: SamplingParams, cancel: threading.Event, emit: Callable) -> None:
        n = sampling.candidate_count
        candidates = [CandidateText(self._decode, sampling.stop_sequences) for _ in range(n)]
        streamer = _CandidateStreamer(candidates, self._eos_ids, sampling.max_output_tokens, emit)
        input_ids = torch.tensor([ids] * n, device=self.device)
        with torch.inference_mode():
            self.model.generate(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                generation_config=self._generation_config(sampling),
                logits_processor=_processors(sampling, len(ids), self.device),
                stopping_criteria=StoppingCriteriaList([_StopWhen(streamer, cancel)]),
                streamer=streamer,
            )
        if not cancel.is_set():  # generate() may also stop on limits of its own (the model's max length)
            for index, cand in enumerate(candidates):
                if not streamer.finished[index]:
                    streamer.finish(index, FinishReason.MAX_TOKENS, cand.flush())

    def _generation_config(self, s: SamplingParams) -> GenerationConfig:
        sample = s.temperature > 0
        return GenerationConfig(
            max_new_tokens=s.max_output_tokens,
            do_sample=sample,
            temperature=s.temperature if sample else None,
            top_p=s.top_p if sample else None,
            top_k=s.top_k if sample else None,
            eos_token_id=self._eos_ids,
            pad_token_id=self._pad_id,
        )

    def _decode(self, tokens: list[int]) -> str:
        return self.tokenizer.decode(tokens, skip_special_tokens=True)

    def close(self) -> None:
        if self._batcher is not None:
            self._batcher.close()
        self._executor.shutdown(wait=False, cancel_futures=True)


class _CandidateStreamer(BaseStreamer):
    """Receives each step's tokens (one per candidate) from generate() and turns them into events."""

    def __init__(self, candidates: list[CandidateText], eos_ids: list[int], max_tokens: int, emit: Callable) -> None:
        self.candidates = candidates
        self.finished = [False] * len(candidates)
        self._eos = set(eos_ids)
        self._max_tokens = max_tokens
        self._emit = emit
        self._prompt_seen = False

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
        if cand.stopped:
            self.finish(index, FinishReason.STOP, delta)
        elif len(cand.tokens) >= self._max_tokens:
            # The last token's text travels with the finishReason, as the Gemini API sends it.
            self.finish(index, FinishReason.MAX_TOKENS, delta + cand.flush())
        elif delta:
            self._emit(TextDelta(index, delta))

    def finish(self, index: int, reason: FinishReason, text: str) -> None:
        self.finished[index] = True
        self._emit(CandidateDone(index, reason, len(self.candidates[index].tokens), text))

    def end(self) -> None:
        pass


class _StopWhen(StoppingCriteria):
    """Stops each row once its candidate finished (stop sequence), and every row on cancellation."""

    def __init__(self, streamer: _CandidateStreamer, cancel: threading.Event) -> None:
        self.streamer = streamer
        self.cancel = cancel

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: Any) -> torch.BoolTensor:
        if self.cancel.is_set():
            return torch.ones(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        return torch.tensor(self.streamer.finished, dtype=torch.bool, device=input_ids.device)


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
        return scores - self.frequency * counts - self.presence * (counts > 0).to(scores.dtype)


class _SeededSampler(LogitsProcessor):
    """Draws each token from the request's own random generator and leaves generate() a one-hot choice.

    torch's global generator is shared with everything else sampling in the process (the continuous
    batcher's thread included), so seeding it could not make a request repeatable."""

    def __init__(self, seed: int, device: torch.device) -> None:
        self.generator = torch.Generator(device=device).manual_seed(seed)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        probs = torch.softmax(scores.float(), dim=-1)
        chosen = torch.multinomial(probs, 1, generator=self.generator)
        return torch.full_like(scores, float("-inf")).scatter_(1, chosen, 0.0)


def _processors(s: SamplingParams, prompt_len: int, device: torch.device) -> LogitsProcessorList:
    """Custom processors run after generate()'s own temperature/top-k/top-p warpers, in this order."""
    processors = LogitsProcessorList()
    if s.presence_penalty or s.frequency_penalty:
        processors.append(_PresenceFrequencyPenalty(s.presence_penalty, s.frequency_penalty, prompt_len))
    if s.seed is not None and s.temperature > 0:
        processors.append(_SeededSampler(s.seed, device))
    return processors


def _eos_ids(generation_config: GenerationConfig, tokenizer: Any) -> list[int]:
    eos = generation_config.eos_token_id
    ids = eos if isinstance(eos, list) else [eos] if eos is not None else []
    if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in ids:
        ids.append(tokenizer.eos_token_id)
    return ids
