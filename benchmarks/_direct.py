"""In-process (no HTTP) contenders for text_serving.py. Each runs as a subprocess (its own peak RSS, nothing of it
left in the benchmark's process) that loads its engine once and then takes orders on stdin, so that text_serving.py
can interleave it with the servers:

    python benchmarks/_direct.py MODE --model PATH --prompt TEXT --max-tokens 64

It prints {"ready": true} once loaded and warmed up; then for each line "CONCURRENCY ROUNDS" on stdin it runs that
closed-loop level (CONCURRENCY workers each send ROUNDS requests back to back) and prints one JSON line with every
request's send / first token / last token / done times and token count; EOF ends it.

MODE:
  generate  transformers `model.generate()` with a streamer (single stream only)
  cb        transformers' ContinuousBatchingManager, driven directly, with its own per-request sampling
  engine    genserve's TransformersTextEngine, called in-process (what the server runs, minus HTTP)
  llamacpp  llama-cpp-python `Llama.generate()` on a GGUF (single stream only)

EOS is not suppressed anywhere (a real server would not do it either); a request that ends early shows up with fewer
tokens than requested."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _build import SAMPLING  # noqa: E402

# genserve's defaults for continuous batching (src/genserve/engines/continuous.py), so the raw manager gets the same
# cache and batch sizes as the server.
CB_PAGE_SIZE, CB_NUM_BLOCKS, CB_MAX_BATCH_TOKENS = 256, 128, 512


def _record(t_send: float, times: list[float], t_done: float, tokens: int, finish: str) -> dict[str, Any]:
    return {
        "t_send": t_send,
        "t_first": times[0] if times else None,
        "t_last": times[-1] if times else None,
        "chunks": len(times),
        "t_done": t_done,
        "tokens": tokens,
        "finish": finish,
    }


def prompt_ids(tokenizer, prompt: str) -> list[int]:
    """Rendered exactly as genserve's transformers engine renders a one-turn user prompt."""
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
    )
    return tokenizer(text, add_special_tokens=False)["input_ids"]


DTYPE = "bfloat16"


def _load_hf(path: str):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, DTYPE), device_map="cpu").eval()
    return tokenizer, model


# -- transformers generate() -------------------------------------------------------------------------------------


def run_generate(args) -> Loaded:
    import torch
    from transformers import GenerationConfig
    from transformers.generation.streamers import BaseStreamer

    tokenizer, model = _load_hf(args.model)
    ids = prompt_ids(tokenizer, args.prompt)
    eos = model.generation_config.eos_token_id
    config = GenerationConfig(
        max_new_tokens=args.max_tokens,
        do_sample=True,
        eos_token_id=eos,
        pad_token_id=tokenizer.pad_token_id,
        **SAMPLING,
    )

    class Clock(BaseStreamer):
        def __init__(self) -> None:
            self.times: list[float] = []
            self.prompt_seen = False

        def put(self, value) -> None:
            if not self.prompt_seen:
                self.prompt_seen = True
                return
            self.times.append(time.perf_counter())

        def end(self) -> None:
            pass

    input_ids = torch.tensor([ids])

    def one() -> dict:
        clock = Clock()
        t_send = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                generation_config=config,
                streamer=clock,
            )
        t_done = time.perf_counter()
        n = out.shape[1] - len(ids)
        return _record(t_send, clock.times, t_done, n, "MAX_TOKENS" if n >= args.max_tokens else "STOP")

    return _single_stream(one), None


# -- transformers ContinuousBatchingManager, driven directly ------------------------------------------------------


def run_cb(args) -> Loaded:
    from transformers import ContinuousBatchingConfig, GenerationConfig

    tokenizer, model = _load_hf(args.model)
    ids = prompt_ids(tokenizer, args.prompt)
    eos = model.generation_config.eos_token_id
    eos_ids = eos if isinstance(eos, list) else [eos]
    manager = model.init_continuous_batching(
        generation_config=GenerationConfig(
            do_sample=True,
            temperature=0.7,
            top_k=50,
            top_p=0.9,
            eos_token_id=eos_ids,
            pad_token_id=tokenizer.pad_token_id,
        ),
        continuous_batching_config=ContinuousBatchingConfig(
            per_request_processors=True,
            use_cuda_graph=False,
            page_size=CB_PAGE_SIZE,
            num_blocks=CB_NUM_BLOCKS,
            max_batch_tokens=CB_MAX_BATCH_TOKENS,
        ),
    )
    manager.start()
    counter = iter(range(10**9))

    async def one() -> dict:
        done = asyncio.get_running_loop().create_future()
        times: list[float] = []
        seen = [0]

        def on_output(out) -> None:
            now = time.perf_counter()
            n = len(out.generated_tokens)
            times.extend([now] * (n - seen[0]))
            seen[0] = n
            if (out.is_finished() or out.error is not None) and not done.done():
                done.set_result(out)

        t_send = time.perf_counter()
        rid = manager.add_request(
            ids, request_id=f"bench-{next(counter)}", max_new_tokens=args.max_tokens, streaming=True, **SAMPLING
        )
        manager.register_result_handler(rid, on_output)
        out = await done
        t_done = time.perf_counter()
        if out.error is not None:
            raise RuntimeError(out.error)
        n = len(out.generated_tokens)
        return _record(t_send, times, t_done, n, "MAX_TOKENS" if n >= args.max_tokens else "STOP")

    return one, lambda: manager.stop(block=True, timeout=10)


# -- genserve's engine, in-process --------------------------------------------------------------------------------


def run_engine(args) -> Loaded:
    from genserve.core.types import CandidateDone, Prompt, SamplingParams, TextDelta, TextRequest, Turn
    from genserve.engines.hf_transformers import TransformersTextEngine

    engine = TransformersTextEngine(args.model, {"dtype": DTYPE})
    request = TextRequest(
        model="bench",
        prompt=Prompt(system=None, turns=(Turn(role="user", parts=(args.prompt,)),)),
        sampling=SamplingParams(
            temperature=SAMPLING["temperature"],
            top_p=SAMPLING["top_p"],
            top_k=SAMPLING["top_k"],
            max_output_tokens=args.max_tokens,
        ),
    )

    async def one() -> dict:
        times: list[float] = []
        tokens, finish = 0, "?"
        t_send = time.perf_counter()
        async for event in engine.generate(request, 100_000):
            if isinstance(event, TextDelta) and event.text:
                times.append(time.perf_counter())
            elif isinstance(event, CandidateDone):
                if event.text:
                    times.append(time.perf_counter())
                tokens, finish = event.token_count, event.finish_reason.value
        return _record(t_send, times, time.perf_counter(), tokens, finish)

    return one, engine.close


# -- llama.cpp ----------------------------------------------------------------------------------------------------


def run_llamacpp(args) -> Loaded:
    import llama_cpp
    from transformers import AutoTokenizer

    threads = os.cpu_count() or 1
    llama = llama_cpp.Llama(
        args.model, n_ctx=8192, n_threads=threads, n_threads_batch=threads, n_gpu_layers=0, verbose=False
    )
    # The GGUF carries the same vocabulary, so the HF tokenizer's ids are llama.cpp's ids.
    tokenizer = AutoTokenizer.from_pretrained(args.hf_dir)
    ids = prompt_ids(tokenizer, args.prompt)
    native = llama.tokenize(
        tokenizer.apply_chat_template(
            [{"role": "user", "content": args.prompt}], tokenize=False, add_generation_prompt=True
        ).encode(),
        add_bos=False,
        special=True,
    )
    if native != ids:
        print(f"note: llama.cpp tokenizes the prompt to {len(native)} ids, transformers to {len(ids)}", file=sys.stderr)

    def one() -> dict:
        llama.reset()
        times: list[float] = []
        stopped = False
        t_send = time.perf_counter()
        tokens = llama.generate(
            ids,
            temp=SAMPLING["temperature"],
            top_k=SAMPLING["top_k"],
            top_p=SAMPLING["top_p"],
            min_p=0.0,
            typical_p=1.0,
            repeat_penalty=1.0,
        )
        for token in tokens:
            times.append(time.perf_counter())
            if llama_cpp.llama_vocab_is_eog(llama._model.vocab, token):
                stopped = True
                times.pop()
                break
            if len(times) >= args.max_tokens:
                break
        tokens.close()
        return _record(t_send, times, time.perf_counter(), len(times), "STOP" if stopped else "MAX_TOKENS")

    return _single_stream(one), None


# -- shared ---------------------------------------------------------------------------------------------------------


Loaded = tuple[Callable[[], Awaitable[dict]], Callable[[], None] | None]  # one request; how to shut down


def _single_stream(one: Callable[[], dict]) -> Callable[[], Awaitable[dict]]:
    """An engine without batching: its requests run one at a time, on the calling thread."""

    async def run() -> dict:
        return one()

    return run


async def _level(one, concurrency: int, rounds: int) -> list[dict]:
    async def worker() -> list[dict]:
        return [await one() for _ in range(rounds)]

    results = await asyncio.gather(*(worker() for _ in range(concurrency)))
    return [r for rs in results for r in rs]


def _peak_rss() -> int | None:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork + exec.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["generate", "cb", "engine", "llamacpp"])
    parser.add_argument("--model", required=True)
    parser.add_argument("--hf-dir", help="the HF checkpoint with the tokenizer (llamacpp mode)")
    parser.add_argument("--prompt", required=True)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float32"])
    args = parser.parse_args()
    global DTYPE
    DTYPE = args.dtype
    modes = {"generate": run_generate, "cb": run_cb, "engine": run_engine, "llamacpp": run_llamacpp}
    one, close = modes[args.mode](args)
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(one())  # warm-up
        print(json.dumps({"ready": True}), flush=True)
        for line in sys.stdin:
            concurrency, rounds = (int(x) for x in line.split())
            requests = loop.run_until_complete(_level(one, concurrency, rounds))
            print(json.dumps({"requests": requests, "peak_rss_bytes": _peak_rss()}), flush=True)
    finally:
        if close is not None:
            close()
        loop.close()


if __name__ == "__main__":
    main()
