"""Text generation on GGUF checkpoints with llama.cpp (llama-cpp-python): chat template, sampling, stop sequences.

Options (catalog `options`): `n_ctx` (context size, default 8192; keep it at least input_token_limit +
output_token_limit), `n_threads` (default: every core, shared between contexts), `n_gpu_layers` (default 0: CPU;
-1 offloads every layer), `parallel` (independent llama.cpp contexts, default 1), `prompt_cache` (reuse the KV cache
of a shared prompt prefix, default false: llama.cpp's logits depend slightly on how a prompt was batched, so reuse
would let the same greedy request answer differently).

A llama.cpp context is not thread-safe: each context runs one request at a time on its own worker thread, and further
requests queue. With `parallel` > 1 that many requests run at once, each on its own context; on CPU the mmapped
weights are shared by the contexts and each adds only its KV cache, on GPU each holds its own copy of the weights."""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
import queue
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import llama_cpp
from jinja2.sandbox import ImmutableSandboxedEnvironment

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
from genserve.engines.text_decoding import CandidateText
from genserve.engines.worker import stream_job
from genserve.errors import InvalidArgument, Unavailable

_CONTINUE_TAG = "CONTINUE_FINAL_MESSAGE_TAG "  # the marker transformers uses to continue the last model turn
_MOSTLY_Q8_0 = "7"  # general.file_type


class LlamaCppTextEngine:
    def __init__(self, path: str, options: dict[str, Any]) -> None:
        model_file = gguf_file(Path(path))
        parallel = int(options.get("parallel", 1))
        threads = int(options.get("n_threads") or max(1, (os.cpu_count() or 1) // parallel))
        kwargs: dict[str, Any] = {
            "n_ctx": int(options.get("n_ctx", 8192)),
            "n_threads": threads,
            "n_threads_batch": threads,
            "n_gpu_layers": int(options.get("n_gpu_layers", 0)),
            "verbose": False,
        }
        self._contexts: queue.SimpleQueue[llama_cpp.Llama] = queue.SimpleQueue()
        first = llama_cpp.Llama(str(model_file), **kwargs)
        _refuse_known_crash(first)
        self._contexts.put(first)
        for _ in range(parallel - 1):
            self._contexts.put(llama_cpp.Llama(str(model_file), **kwargs))
        self._model = first._model  # tokenizing only reads the vocabulary: safe beside a running decode
        self._n_ctx = first.n_ctx()
        # Pieces are bytes and a character takes at least one: the longest piece bounds characters per token.
        pieces = (self._model.token_to_piece(i, special=True) for i in range(self._model.n_vocab()))
        self.max_token_chars = max((len(p) for p in pieces), default=1) or 1
        self._prompt_cache = bool(options.get("prompt_cache", False))
        self._executor = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix=f"llamacpp:{model_file.name}")
        self._pieces: dict[int, bytes] = {}
        self._template = first.metadata.get("tokenizer.chat_template")
        self._special = _special_tokens(first)
        self._system_role = True

    # -- prompt rendering ---------------------------------------------------------------------------

    def prompt_ids(self, prompt: Prompt) -> list[int]:
        if not self._template:
            text = "\n\n".join(filter(None, [prompt.system, *(t.text for t in prompt.turns)]))
        else:
            try:
                text = self._render(prompt)
            except jinja2.TemplateError as exc:  # e.g. raise_exception("System role not supported")
                if not (prompt.system and self._system_role):
                    raise InvalidArgument(f"The model's chat template rejected the conversation: {exc}") from exc
                self._system_role = False
                text = self._render(prompt)
        # Like transformers: the template writes any BOS itself, and special tokens in it are parsed as such.
        return self._model.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def _render(self, prompt: Prompt) -> str:
        """Render the way transformers' apply_chat_template does, so both engines see the same prompt text."""
        messages = chat_messages(prompt, system_role=self._system_role)
        continue_model_turn = bool(messages) and messages[-1]["role"] == "assistant"
        if continue_model_turn:
            messages[-1]["content"] += _CONTINUE_TAG
        text = _compile(self._template).render(
            messages=messages,
            add_generation_prompt=not continue_model_turn,
            # As the transformers engine renders for a model not served as a thinking model (no thinking here yet).
            enable_thinking=False,
            **self._special,
        )
        if continue_model_turn:
            cut = text.rindex(_CONTINUE_TAG.strip())
            text = text[:cut] if text[cut:].startswith(_CONTINUE_TAG) else text[:cut].rstrip()
        return text

    async def count_tokens(self, prompt: Prompt) -> dict[str, int]:
        return {"TEXT": len(await asyncio.to_thread(self.prompt_ids, prompt))}

    # -- generation ---------------------------------------------------------------------------------

    def generate(self, request: TextRequest, input_token_limit: int) -> AsyncIterator[GenerationEvent]:
        def job(cancel: threading.Event, emit: Callable[[GenerationEvent], None]) -> None:
            ids = self.prompt_ids(request.prompt)
            if len(ids) > input_token_limit:
                raise InvalidArgument(
                    f"The input token count ({len(ids)}) exceeds the maximum number of tokens allowed "
                    f"({input_token_limit})."
                )
            if len(ids) >= self._n_ctx:
                raise InvalidArgument(
                    f"The input token count ({len(ids)}) leaves no room in this model's context of "
                    f"{self._n_ctx} tokens (its n_ctx option)."
                )
            emit(PromptAccepted(prompt_tokens=len(ids)))
            llama = self._contexts.get()
            try:
                for index in range(request.sampling.candidate_count):
                    if not self._candidate(llama, ids, request.sampling, index, cancel, emit):
                        return
            finally:
                self._contexts.put(llama)

        return stream_job(self._executor, job)

    def _candidate(
        self, llama: Any, ids: list[int], s: SamplingParams, index: int, cancel: threading.Event, emit: Callable
    ) -> bool:
        """Generate one candidate; False when cancelled."""
        text = CandidateText(self._decode, s.stop_sequences)
        # Room left in the context bounds the answer as maxOutputTokens does.
        budget = min(s.max_output_tokens, self._n_ctx - len(ids))
        # Each candidate gets its own seed, so n candidates differ and the same request repeats them all.
        llama.set_seed((s.seed + index) % 2**32 if s.seed is not None else llama_cpp.LLAMA_DEFAULT_SEED)
        llama.last_n_tokens_size = budget  # presence/frequency penalties count every token of the answer
        if not self._prompt_cache and not self._prefill(llama, ids, cancel):
            return False
        sample = s.temperature > 0
        tokens = llama.generate(
            ids,
            temp=s.temperature if sample else 0.0,
            top_k=s.top_k or 0,  # 0: off
            top_p=s.top_p if sample and s.top_p is not None else 1.0,
            min_p=0.0,
            typical_p=1.0,
            repeat_penalty=1.0,
            presence_penalty=s.presence_penalty,
            frequency_penalty=s.frequency_penalty,
        )
        try:
            for token in tokens:
                if cancel.is_set():
                    return False
                if llama_cpp.llama_vocab_is_eog(self._model.vocab, token):
                    emit(CandidateDone(index, FinishReason.STOP, len(text.tokens), text.flush()))
                    return True
                delta = text.push(token)
                if text.stopped:
                    emit(CandidateDone(index, FinishReason.STOP, len(text.tokens), delta))
                    return True
                if len(text.tokens) >= budget:
                    # The last token's text travels with the finishReason, as the Gemini API sends it.
                    emit(CandidateDone(index, FinishReason.MAX_TOKENS, len(text.tokens), delta + text.flush()))
                    return True
                if delta:
                    emit(TextDelta(index, delta))
        finally:
            tokens.close()
        return True

    def _prefill(self, llama: Any, ids: list[int], cancel: threading.Event) -> bool:
        """Evaluate all but the last prompt token from scratch, a batch at a time, so that a client gone during a
        long prompt frees the context; generate() then finds them cached and evaluates only the last one."""
        llama.reset()
        for start in range(0, len(ids) - 1, llama.n_batch):
            if cancel.is_set():
                return False
            llama.eval(ids[start : min(start + llama.n_batch, len(ids) - 1)])
        return True

    def _decode(self, tokens: list[int]) -> str:
        return b"".join(self._piece(t) for t in tokens).decode("utf-8", errors="replace")

    def _piece(self, token: int) -> bytes:
        """The token's bytes (special tokens render as nothing, like skip_special_tokens), cached."""
        piece = self._pieces.get(token)
        if piece is None:
            size = 64
            while True:
                buffer = (ctypes.c_char * size)()
                n = llama_cpp.llama_token_to_piece(self._model.vocab, token, buffer, size, 0, False)
                if n >= 0:
                    break
                size = -n  # a negative length is the size the piece needs
            piece = self._pieces[token] = buffer.raw[:n]
        return piece

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def gguf_file(path: Path) -> Path:
    """A .gguf file, or a directory holding exactly one."""
    if path.is_file():
        return path
    found = sorted(path.glob("*.gguf")) if path.is_dir() else []
    if len(found) != 1:
        raise ValueError(f"{path}: expected a .gguf file or a directory with exactly one, found {len(found)}")
    return found[0]


def _refuse_known_crash(llama: Any) -> None:
    """A llama.cpp built with AMX kernels (pip's default -march=native on recent Xeons) segfaults on the first
    token of a Q8_0 model, which would take the whole server down: refuse to load it instead."""
    amx = "AMX_INT8 = 1" in llama_cpp.llama_print_system_info().decode(errors="replace")
    if amx and llama.metadata.get("general.file_type") == _MOSTLY_Q8_0:
        llama.close()
        raise Unavailable(
            "This llama-cpp-python build uses AMX kernels, which crash on Q8_0 models. Rebuild it without them "
            "(GGML_NATIVE=OFF, GGML_AMX_INT8=OFF: see docs/llamacpp.md) or serve another quantization."
        )


def _special_tokens(llama: Any) -> dict[str, str]:
    """bos_token, eos_token, ... for the template, as transformers passes them: only those the GGUF declares."""
    keys = {"bos": "bos_token_id", "eos": "eos_token_id", "unk": "unknown_token_id", "pad": "padding_token_id"}
    return {
        f"{name}_token": llama._model.token_get_text(int(llama.metadata[f"tokenizer.ggml.{key}"]))
        for name, key in keys.items()
        if f"tokenizer.ggml.{key}" in llama.metadata
    }


@lru_cache(maxsize=8)
def _compile(template: str) -> jinja2.Template:
    """A sandboxed environment with the globals and filters transformers gives chat templates."""

    def raise_exception(message: str) -> None:
        raise jinja2.TemplateError(message)

    def tojson(x: Any, ensure_ascii: bool = False, indent: int | None = None, separators=None, sort_keys=False) -> str:
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    return env.from_string(template)
