"""Where does single-stream decode time go? Inter-token latency of the same model under the set-ups genserve and
`transformers serve` use, in one process, one after the other (a diagnostic for text_serving.py's results).

    .venv/bin/python benchmarks/decode_overhead.py [--quick] [--dtype bfloat16|float32] [--tokens 48] [--reps 3]

Set-ups:
  generate, main thread          model.generate() called from the main thread (text_serving.py's "direct" row)
  generate, worker thread        the same call on a ThreadPoolExecutor thread; the main thread waits on the future
  generate, worker + event loop  the same, with the main thread running an asyncio loop that receives every token
                                 through call_soon_threadsafe (genserve's generate() path, minus HTTP)
  CB, shared processors          ContinuousBatchingManager with one GenerationConfig for all requests (how
                                 `transformers serve --continuous-batching` sets it up)
  CB, per-request processors     per_request_processors=True, each request sending temperature/top_k/top_p
                                 (transformers' per-request warpers; genserve used them until 2026-12-03)
  CB, per-request, greedy        the same with top_k=1
  CB, genserve's sampler         genserve's ContinuousBatcher: the same manager with genserve.engines.sampling
  generate, greedy               model.generate(do_sample=False): the forward pass and an argmax, no sampling
Plus a sampler probe (sorting the whole vocabulary vs. torch.topk) and a matmul probe: the cost of a 4864x896 linear
layer with 1, 8 and 16 rows, bf16 and fp32, which says whether batching can pay off on this CPU at all."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _build  # noqa: E402
from _direct import CB_MAX_BATCH_TOKENS, CB_NUM_BLOCKS, CB_PAGE_SIZE, prompt_ids  # noqa: E402
from text_serving import PROMPT, matmul_probe  # noqa: E402


def sampler_probe(vocab: int, top_k: int = 64, top_p: float = 0.95) -> list[str]:
    """Milliseconds to sample one token per row from `vocab` logits with temperature / top-k / top-p, for 1, 8 and 16
    rows, three ways: transformers' classic warpers with one shared config (generate(), and `transformers serve`'s
    CB set-up), its per-request CB warpers (top-k and top-p each sort the whole vocabulary), and genserve's sampler
    (genserve.engines.sampling: torch.topk(k) first, top-p on those k values only; the same distribution when top-k
    is set)."""
    import torch
    from transformers.generation.continuous_batching.cb_logits_processors import (
        ContinuousBatchingTemperatureLogitsWarper,
        ContinuousBatchingTopKLogitsWarper,
        ContinuousBatchingTopPLogitsWarper,
    )
    from transformers.generation.logits_process import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

    from genserve.engines.sampling import sample

    def ms(fn, n: int = 10) -> float:
        fn()
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        return (time.perf_counter() - t0) / n * 1000

    shared = [TemperatureLogitsWarper(0.999), TopKLogitsWarper(top_k), TopPLogitsWarper(top_p)]
    per_request = [
        ContinuousBatchingTemperatureLogitsWarper(TemperatureLogitsWarper(0.7)),
        ContinuousBatchingTopKLogitsWarper(TopKLogitsWarper(50)),
        ContinuousBatchingTopPLogitsWarper(TopPLogitsWarper(0.9)),
    ]
    lines = []
    for rows in (1, 8, 16):
        scores = torch.randn(rows, vocab)
        args = [
            torch.full((rows,), 1.0).view(torch.int32),
            torch.full((rows,), top_k, dtype=torch.int32),
            torch.full((rows,), top_p).view(torch.int32),
        ]

        def classic(scores=scores) -> torch.Tensor:
            for warper in shared:
                scores = warper(None, scores)
            return torch.multinomial(scores.softmax(-1), 1)

        def cb(scores=scores, args=args) -> torch.Tensor:
            for warper, arg in zip(per_request, args, strict=True):
                scores = warper(scores, arg)
            return torch.multinomial(scores.softmax(-1), 1)

        def fused(scores=scores, rows=rows) -> torch.Tensor:
            return sample(scores, torch.full((rows,), 1.0), torch.full((rows,), top_k), torch.full((rows,), top_p))

        lines.append(
            f"{rows:>2} rows: classic warpers {ms(classic):6.1f} ms | CB per-request warpers {ms(cb):6.1f} ms | "
            f"genserve's sampler {ms(fused):5.2f} ms | argmax {ms(lambda s=scores: s.argmax(-1)):5.2f} ms"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float32"])
    parser.add_argument("--tokens", type=int, default=48)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=HERE / ".cache")
    args = parser.parse_args()

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, ContinuousBatchingConfig, GenerationConfig
    from transformers.generation.streamers import BaseStreamer

    print("matmul probe (one 4864x896 linear layer; x = cost relative to 1 row):")
    for name, cost in matmul_probe().items():
        print(f"  {name:>8}: " + ", ".join(f"{r} rows {v:.2f} ms ({v / cost[1]:.1f}x)" for r, v in cost.items()))

    hf_dir = _build.ensure_models(args.cache, args.quick)["hf_dir"]
    tokenizer = AutoTokenizer.from_pretrained(hf_dir)
    model = AutoModelForCausalLM.from_pretrained(hf_dir, dtype=getattr(torch, args.dtype), device_map="cpu").eval()
    ids = prompt_ids(tokenizer, PROMPT)
    print(f"sampler probe (vocab {model.config.vocab_size}, temperature 1, top-k 64, top-p 0.95):")
    for line in sampler_probe(model.config.vocab_size):
        print("  " + line)
    eos = model.generation_config.eos_token_id
    sampling = dict(_build.SAMPLING)
    config = GenerationConfig(
        max_new_tokens=args.tokens, do_sample=True, eos_token_id=eos, pad_token_id=tokenizer.pad_token_id, **sampling
    )
    input_ids = torch.tensor([ids])

    class Clock(BaseStreamer):
        def __init__(self, on_token=None) -> None:
            self.times: list[float] = []
            self.prompt_seen = False
            self.on_token = on_token

        def put(self, value) -> None:
            if not self.prompt_seen:
                self.prompt_seen = True
                return
            self.times.append(time.perf_counter())
            if self.on_token:
                self.on_token(value.reshape(-1).tolist())

        def end(self) -> None:
            pass

    def gen(clock: Clock) -> list[float]:
        with torch.inference_mode():
            model.generate(
                input_ids=input_ids, attention_mask=torch.ones_like(input_ids), generation_config=config, streamer=clock
            )
        return clock.times

    def itl(times: list[float]) -> float:
        return (times[-1] - times[0]) / (len(times) - 1) * 1000

    results: dict[str, list[float]] = {}

    def record(name: str, times: list[float]) -> None:
        results.setdefault(name, []).append(itl(times))

    greedy = GenerationConfig(
        max_new_tokens=args.tokens, do_sample=False, eos_token_id=eos, pad_token_id=tokenizer.pad_token_id
    )

    def gen_greedy(clock: Clock) -> list[float]:
        with torch.inference_mode():
            model.generate(
                input_ids=input_ids, attention_mask=torch.ones_like(input_ids), generation_config=greedy, streamer=clock
            )
        return clock.times

    executor = ThreadPoolExecutor(max_workers=1)
    gen(Clock())  # warm-up
    executor.submit(gen, Clock()).result()
    for _ in range(args.reps):
        record("generate, main thread", gen(Clock()))
        record("generate, worker thread", executor.submit(gen, Clock()).result())
        record("generate, greedy (no sampling)", gen_greedy(Clock()))

        async def with_loop() -> list[float]:
            loop = asyncio.get_running_loop()
            queue: asyncio.Queue = asyncio.Queue()
            clock = Clock(lambda toks: loop.call_soon_threadsafe(queue.put_nowait, toks))
            future = loop.run_in_executor(executor, gen, clock)
            while not future.done() or not queue.empty():
                try:
                    await asyncio.wait_for(queue.get(), 0.5)
                except TimeoutError:
                    pass
            return await future

        record("generate, worker + event loop", asyncio.run(with_loop()))

    def cb_run(name: str, per_request: bool, kwargs: dict) -> None:
        gen_config = GenerationConfig(
            do_sample=True,
            eos_token_id=eos,
            pad_token_id=tokenizer.pad_token_id,
            **({"temperature": 0.7, "top_k": 50, "top_p": 0.9} if per_request else sampling),
        )
        manager = model.init_continuous_batching(
            generation_config=gen_config,
            continuous_batching_config=ContinuousBatchingConfig(
                per_request_processors=per_request,
                use_cuda_graph=False,
                page_size=CB_PAGE_SIZE,
                num_blocks=CB_NUM_BLOCKS,
                max_batch_tokens=CB_MAX_BATCH_TOKENS,
            ),
        )
        manager.start()

        async def one() -> list[float]:
            done = asyncio.get_running_loop().create_future()
            times: list[float] = []

            def on_output(out) -> None:
                times.extend([time.perf_counter()] * (len(out.generated_tokens) - len(times)))
                if out.is_finished() and not done.done():
                    done.set_result(None)

            rid = manager.add_request(ids, max_new_tokens=args.tokens, streaming=True, **kwargs)
            manager.register_result_handler(rid, on_output)
            await done
            return times

        async def all_runs() -> None:
            await one()  # warm-up
            for _ in range(args.reps):
                record(name, await one())

        try:
            asyncio.run(all_runs())
        finally:
            manager.stop(block=True, timeout=10)

    cb_run("CB, shared processors", False, {})
    cb_run("CB, per-request processors", True, sampling)
    cb_run("CB, per-request, greedy (top_k=1)", True, {"temperature": 1.0, "top_k": 1, "top_p": 1.0})

    from genserve.core.types import SamplingParams
    from genserve.engines.continuous import ContinuousBatcher

    batcher = ContinuousBatcher(model, eos if isinstance(eos, list) else [eos], tokenizer.pad_token_id, {})
    params = SamplingParams(**sampling, max_output_tokens=args.tokens)

    async def genserve_one() -> list[float]:
        times = []
        async for update in batcher.stream(ids, params):
            times.extend([time.perf_counter()] * (len(update.tokens) - len(times)))
        return times

    try:
        asyncio.run(genserve_one())  # warm-up
        for _ in range(args.reps):
            record("CB, genserve's sampler", asyncio.run(genserve_one()))
    finally:
        batcher.close()

    base = statistics.median(results["generate, main thread"])
    print(f"\nsingle-stream inter-token latency, {args.dtype}, {args.tokens} tokens, median of {args.reps}:")
    for name, values in results.items():
        med = statistics.median(values)
        print(
            f"  {name:<36} {med:7.1f} ms/token  ({1000 / med:5.1f} tok/s, {med / base:.2f}x)  "
            f"runs: {', '.join(f'{v:.1f}' for v in values)}"
        )


if __name__ == "__main__":
    main()
