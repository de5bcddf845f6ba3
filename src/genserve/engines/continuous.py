"""Continuous batching for the transformers engine: concurrent requests share every forward pass.

Built on transformers' ContinuousBatchingManager (a background thread with a paged KV cache), with genserve's
own per-request sampler in place of the manager's: temperature, top-k and top-p only; requests that need
anything else (a seed, penalties, logits processors) take the engine's plain generate() path instead."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Any

import torch
from transformers import ContinuousBatchingConfig, GenerationConfig, LogitsProcessorList
from transformers.generation.continuous_batching.cb_logits_processors import ContinuousBatchingLogitsProcessorList

from genserve.core.types import SamplingParams
from genserve.engines.sampling import sample
from genserve.errors import Unavailable

log = logging.getLogger(__name__)

# Defaults sized for CPU hosts; the catalog entry's options override them (cb_page_size, ...).
DEFAULT_PAGE_SIZE = 256
DEFAULT_NUM_BLOCKS = 128  # 32k tokens of KV cache shared by all running requests
DEFAULT_MAX_BATCH_TOKENS = 512
# An idle batcher admits a request once no other has arrived for QUIET_S, within cb_admission_ms at most.
QUIET_S = 0.003
DEFAULT_ADMISSION_MS = 10


def batchable(sampling: SamplingParams) -> bool:
    return sampling.seed is None and not (sampling.presence_penalty or sampling.frequency_penalty)


@dataclass
class TokenUpdate:
    """All tokens a request has generated so far, and whether it has finished."""

    index: int
    tokens: list[int]
    finished: bool
    error: str | None = None  # the manager failed this request (or died): it ends with an error, not an answer


class ContinuousBatcher:
    def __init__(self, model: Any, eos_ids: list[int], pad_id: int, options: dict[str, Any]) -> None:
        self._model = model
        # Greedy for the manager: PerRequestSampling has already drawn each token and left a one-hot row.
        self._config = GenerationConfig(do_sample=False, eos_token_id=eos_ids, pad_token_id=pad_id)
        self._cb_config = ContinuousBatchingConfig(
            use_cuda_graph=False if model.device.type == "cpu" else None,
            page_size=int(options.get("cb_page_size", DEFAULT_PAGE_SIZE)),
            num_blocks=int(options.get("cb_num_blocks", DEFAULT_NUM_BLOCKS)),
            max_batch_tokens=int(options.get("cb_max_batch_tokens", DEFAULT_MAX_BATCH_TOKENS)),
        )
        self._vocab = int(model.config.get_text_config().vocab_size)
        self.manager = self._start_manager()
        self._ids = itertools.count()
        self._window = AdmissionWindow(float(options.get("cb_admission_ms", DEFAULT_ADMISSION_MS)) / 1000, self.pending)

    def _start_manager(self) -> Any:
        manager = self._model.init_continuous_batching(
            generation_config=self._config, continuous_batching_config=self._cb_config
        )
        manager.logit_processor = PerRequestSampling()  # read when start() builds the batch processor
        manager.start()
        return manager

    def _alive_manager(self) -> Any:
        """The manager, started afresh if its thread has died: one request must never leave a model refusing
        every later one until the server restarts (a topK that overflowed int32 once did exactly that)."""
        if self.manager.is_running() and self.manager.background_thread_status.can_accept_new_requests() is None:
            return self.manager
        log.error("the continuous batcher of %s stopped; starting a new one", self._model.name_or_path)
        with contextlib.suppress(Exception):  # it is dead already: stopping only releases what it held
            self.manager.stop(block=False)
        self.manager = self._start_manager()
        return self.manager

    def _processor_kwargs(self, s: SamplingParams) -> dict[str, Any]:
        # top_k travels as int32 and means nothing beyond the vocabulary.
        top_k = min(s.top_k or 0, self._vocab)
        return {"temperature": float(s.temperature), "top_k": top_k, "top_p": float(s.top_p or 1.0)}

    async def stream(self, prompt_ids: list[int], sampling: SamplingParams) -> AsyncGenerator[TokenUpdate, None]:
        """Updates for `candidate_count` requests on one prompt, interleaved as they arrive. Closing the
        iterator cancels whatever is unfinished, which frees its cache blocks at the manager's next step."""
        await self._window.wait()
        queue: asyncio.Queue[TokenUpdate] = asyncio.Queue()
        kwargs = self._processor_kwargs(sampling)
        request_of: dict[int, str] = {}
        manager = self._alive_manager()
        for index in range(sampling.candidate_count):
            request_id = manager.add_request(
                prompt_ids,
                request_id=f"genserve-{next(self._ids)}",
                max_new_tokens=sampling.max_output_tokens,
                streaming=True,
                **kwargs,
            )
            if request_id is None:
                raise Unavailable("The model is not accepting requests right now. Please try again later.")
            request_of[index] = request_id
            manager.register_result_handler(
                request_id,
                lambda out, i=index: queue.put_nowait(
                    TokenUpdate(i, list(out.generated_tokens), out.is_finished() or out.error is not None, out.error)
                ),
            )
        unfinished = set(request_of)
        try:
            while unfinished:
                update = await queue.get()
                if update.error is not None:
                    log.error("the continuous batcher failed a request: %s", update.error)
                    raise Unavailable("The model failed while generating this answer. Please try again.")
                if update.finished:
                    unfinished.discard(update.index)
                yield update
        finally:
            for index in unfinished:
                self.cancel(manager, request_of[index])

    @staticmethod
    def cancel(manager: Any, request_id: str) -> None:
        manager.cancel_request(request_id)
        # A cancelled request gets no final output, so its handler would never be removed otherwise.
        with manager.output_router._lock:
            manager.output_router.result_handlers.pop(request_id, None)

    def pending(self) -> int:
        """Requests the manager still holds (running or waiting): 0 means idle."""
        processor = self.manager.batch_processor
        if processor is None:
            return self.manager.input_queue.qsize()
        scheduler = processor.scheduler
        return len(scheduler.active_requests) + len(scheduler.waiting_requests) + self.manager.input_queue.qsize()

    def exclusive(self) -> ModelTurns:
        return ModelTurns(self.manager)

    def close(self) -> None:
        self.manager.stop(block=True, timeout=10)


class AdmissionWindow:
    """Lets requests that arrive together start together.

    An idle manager starts a prefill step as soon as one request arrives; requests that arrive a few
    milliseconds later then wait for that whole step. Measured on 2 cores with 8 requests: arriving at once,
    they shared one prefill and all had their first token at 610 ms; arriving 3 ms apart, the first had it at
    130 ms and the other seven at 660–760 ms. So when the batcher is idle, a request waits until no other has
    arrived for 3 ms (at most `limit`); when it is busy, the next step takes new requests anyway."""

    def __init__(self, limit: float, pending: Callable[[], int]) -> None:
        self._limit = limit
        self._pending = pending
        self._open: asyncio.Future[None] | None = None  # the gate the current wave waits at
        self._deadline = 0.0
        self._timer: asyncio.TimerHandle | None = None

    async def wait(self) -> None:
        if self._limit <= 0 or (self._open is None and self._pending()):
            return
        loop = asyncio.get_running_loop()
        if self._open is None:
            self._open = gate = loop.create_future()
            self._deadline = loop.time() + self._limit
            self._timer = loop.call_later(QUIET_S, self._close)
        else:
            gate = self._open
            if self._timer is not None:
                self._timer.cancel()
            self._timer = loop.call_at(min(loop.time() + QUIET_S, self._deadline), self._close)
        await asyncio.shield(gate)

    def _close(self) -> None:
        gate, self._open = self._open, None
        if gate is not None and not gate.done():
            gate.set_result(None)


class PerRequestSampling(ContinuousBatchingLogitsProcessorList):
    """The manager's logits step, replaced: each request's own temperature, top-k and top-p in one pass
    (engines/sampling.py). transformers' per-request warpers sort the whole vocabulary twice per request and
    then draw from it: on Qwen2.5's 151,936 ids that was ~25 ms of a 72 ms single-stream step on 2 CPU
    cores, and most of the step at 8 streams.

    The manager hands each step's arguments over as int32 rows (floats bit-cast), one column per request
    that gets a token this step; rows: temperature, top_k, top_p."""

    _KEYS = {"temperature": float, "top_k": int, "top_p": float}

    def __init__(self) -> None:
        super().__init__(LogitsProcessorList())
        self.tensors_required = len(self._KEYS)
        self.supported_keys = dict(self._KEYS)
        self.do_processing = True

    def fill_defaults(self, int32_tensor: torch.Tensor) -> None:
        int32_tensor.copy_(self._rows([{"temperature": 1.0, "top_k": 0, "top_p": 1.0}]))

    def prepare_tensor_args(self, requests_in_batch: list[Any], arg_storage: torch.Tensor) -> torch.Tensor:
        kwargs = [r.state.logit_processor_kwargs for r in requests_in_batch if r.has_new_token]
        if kwargs:
            arg_storage[: len(self._KEYS), : len(kwargs)] = self._rows(kwargs).to(arg_storage.device)
        return arg_storage

    def _rows(self, kwargs: list[dict[str, Any]]) -> torch.Tensor:
        return torch.stack(
            [
                torch.tensor([k["temperature"] for k in kwargs], dtype=torch.float32).view(torch.int32),
                torch.tensor([k["top_k"] for k in kwargs], dtype=torch.int32),
                torch.tensor([k["top_p"] for k in kwargs], dtype=torch.float32).view(torch.int32),
            ]
        )

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, args: torch.Tensor) -> torch.Tensor:
        rows = scores.shape[0]
        tokens = sample(scores, args[0, :rows].view(torch.float32), args[1, :rows], args[2, :rows].view(torch.float32))
        return scores.fill_(float("-inf")).scatter_(1, tokens[:, None], 0.0)


class ModelTurns:
    """Lets the engine's plain generate() share the model with the batcher's loop, one forward pass at a time.

    Measured: a generate() forward pass that runs while the batcher's loop runs its own gives different logits
    (so a seeded request stopped repeating under load). The manager's pause() parks its loop between steps;
    holding it during each of our passes and letting go between them interleaves the two step by step."""

    def __init__(self, manager: Any) -> None:
        self._manager = manager
        self._pause: Any = None

    def __enter__(self) -> ModelTurns:
        self._hold()
        return self

    def __exit__(self, *exc: object) -> None:
        self._let_go()

    def between_steps(self) -> None:
        """Called after each of our forward passes: the batcher's loop may take one step of its own."""
        self._let_go()
        self._hold()

    def _hold(self) -> None:
        if self._manager.is_running():
            self._pause = self._manager.pause()
            self._pause.__enter__()

    def _let_go(self) -> None:
        if self._pause is not None:
            pause, self._pause = self._pause, None
            pause.__exit__(None, None, None)
