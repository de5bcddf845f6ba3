"""What does constrained decoding cost per token? Inter-token latency of `model.generate()` with and without
genserve's JSON-schema logits processor (llguidance), and with xgrammar's (the one it replaced, when xgrammar is
importable), on the same model, prompt and sampling, in one process.

    .venv/bin/python benchmarks/structured_output.py [--quick] [--dtype bfloat16|float32] [--tokens 64] [--reps 3]
                                                      [--rows 1] [--no-xgrammar]

Set-ups, run in turn within each repetition so that machine drift hits all of them alike:
  unconstrained          plain sampling (temperature 1, top-k 64, top-p 0.95: the benchmark model's defaults)
  strings                an array of at least 1000 strings of up to 12 characters, so the grammar can never let
                         the reply end within --tokens, and most steps are inside a free string (the widest masks)
  records                an array of at least 1000 objects with an integer, a string, a boolean and an enum list:
                         most steps are at structural positions (keys, separators, numbers, enums)
each schema with llguidance (genserve's processor) and with xgrammar (genserve's former processor, kept in
grammar_compile.py for this comparison). Every set-up generates exactly --tokens tokens (the random model's EOS is
not reachable under the grammars and, with 151,936 ids, practically never sampled without); the report flags a run
that ended early.

Reported per set-up: the median inter-token latency (time from the first to the last generated token divided by
the tokens in between, so prefill is excluded), its ratio to the unconstrained one, and the time spent inside the
grammar processor per token (matcher update, mask fill, mask application), with xgrammar's over llguidance's. The
target is that constrained decoding adds at most 25 % per token."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _build  # noqa: E402
from _direct import prompt_ids  # noqa: E402

TARGET = 1.25
SCHEMAS = {
    "strings": {
        "type": "array",
        "items": {"type": "string", "maxLength": 12},
        "minItems": 1000,
    },
    "records": {
        "type": "array",
        "minItems": 1000,
        "items": {
            "type": "object",
            "properties": {
                "id": {"type": "integer", "minimum": 0, "maximum": 1_000_000},
                "name": {"type": "string", "maxLength": 12},
                "active": {"type": "boolean"},
                "tags": {"type": "array", "items": {"enum": ["red", "green", "blue"]}, "maxItems": 3},
            },
            "required": ["id", "name", "active", "tags"],
        },
    },
}
PROMPT = "List the records as JSON."


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="genserve's tiny demo model instead of the 0.5B one")
    parser.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float32"])
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--rows", type=int, default=1, help="candidates per generate() call")
    parser.add_argument("--cache", type=Path, default=HERE / ".cache")
    parser.add_argument("--no-xgrammar", action="store_true", help="llguidance alone")
    args = parser.parse_args()

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig, LogitsProcessor
    from transformers.generation.streamers import BaseStreamer

    from genserve.core.types import ResponseFormat
    from genserve.engines.constrained.grammar import GrammarCompiler

    hf_dir = _build.ensure_models(args.cache, args.quick)["hf_dir"]
    tokenizer = AutoTokenizer.from_pretrained(hf_dir)
    model = AutoModelForCausalLM.from_pretrained(hf_dir, dtype=getattr(torch, args.dtype), device_map="cpu").eval()
    vocab = model.config.vocab_size
    stops = [tokenizer.eos_token_id]
    started = time.perf_counter()
    compiler = GrammarCompiler(tokenizer, vocab, stop_token_ids=stops)
    setup = {"llguidance": time.perf_counter() - started}
    engines = ["llguidance"]
    xg = None
    if not args.no_xgrammar:
        try:
            from grammar_compile import XGrammar

            started = time.perf_counter()
            xg = XGrammar(tokenizer, vocab, stops)
            setup["xgrammar"] = time.perf_counter() - started
            engines.append("xgrammar")
        except ImportError:
            pass
    compiled, compile_s = {}, {}
    for name, schema in SCHEMAS.items():
        for engine in engines:
            started = time.perf_counter()
            if engine == "llguidance":
                compiled[f"{name}: {engine}"] = compiler.for_response(ResponseFormat("json", schema))
            else:
                compiled[f"{name}: {engine}"] = xg.compile(schema)
            compile_s[f"{name}: {engine}"] = time.perf_counter() - started

    def processor(name: str):
        if name.endswith("xgrammar"):
            return xg.processor(compiled[name], args.rows)
        return compiler.logits_processor(compiled[name], args.rows)

    input_ids = torch.tensor([prompt_ids(tokenizer, PROMPT)] * args.rows)
    config = GenerationConfig(
        max_new_tokens=args.tokens,
        do_sample=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **_build.SAMPLING,
    )

    class Clock(BaseStreamer):
        """Time of every generated token (the first put() is the prompt)."""

        def __init__(self) -> None:
            self.times: list[float] = []
            self.prompt_seen = False

        def put(self, value) -> None:
            if self.prompt_seen:
                self.times.append(time.perf_counter())
            self.prompt_seen = True

        def end(self) -> None:
            pass

    class Timed(LogitsProcessor):
        """Wraps the grammar processor and adds up the time spent in it."""

        def __init__(self, inner) -> None:
            self.inner, self.seconds, self.calls = inner, 0.0, 0

        def __call__(self, ids, scores):
            t0 = time.perf_counter()
            out = self.inner(ids, scores)
            self.seconds += time.perf_counter() - t0
            self.calls += 1
            return out

    def run(name: str) -> tuple[float, int, float]:
        """(ms per token, tokens generated, ms in the grammar processor per token)."""
        clock = Clock()
        processors = [Timed(processor(name))] if name in compiled else []
        with torch.inference_mode():
            model.generate(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                generation_config=config,
                logits_processor=processors,
                streamer=clock,
            )
        times = clock.times
        itl = (times[-1] - times[0]) / (len(times) - 1) * 1000
        grammar = processors[0].seconds / processors[0].calls * 1000 if processors else 0.0
        return itl, len(times), grammar

    names = ["unconstrained", *compiled]
    for name in names:  # warm-up
        run(name)
    results: dict[str, list[tuple[float, int, float]]] = {n: [] for n in names}
    for _ in range(args.reps):
        for name in names:
            results[name].append(run(name))

    model_name = "genserve demo chat (tiny)" if args.quick else "random Qwen2.5-0.5B architecture"
    print(f"\nstructured output decode overhead: {model_name}, {args.dtype}, vocabulary {vocab:,}")
    print(f"{args.tokens} tokens per run, {args.rows} row(s) per generate(), median of {args.reps} runs")
    print(
        "  grammar set-up (once per model): "
        + ", ".join(f"{engine} {seconds:.2f} s" for engine, seconds in setup.items())
        + "; compile "
        + ", ".join(f"{n} {s * 1000:.1f} ms" for n, s in compile_s.items())
    )
    base = statistics.median(r[0] for r in results["unconstrained"])
    for name in names:
        runs = results[name]
        itl = statistics.median(r[0] for r in runs)
        grammar = statistics.median(r[2] for r in runs)
        short = [r[1] for r in runs if r[1] < args.tokens]
        note = f"  ENDED EARLY: {short} tokens" if short else ""
        print(
            f"  {name:<22} {itl:7.1f} ms/token ({1000 / itl:5.1f} tok/s, {itl / base:.3f}x)  "
            f"grammar {grammar:5.2f} ms/token  runs: {', '.join(f'{r[0]:.1f}' for r in runs)}{note}"
        )
    for name in SCHEMAS:
        if f"{name}: xgrammar" in results:
            xgr = statistics.median(r[2] for r in results[f"{name}: xgrammar"])
            llg = statistics.median(r[2] for r in results[f"{name}: llguidance"])
            print(f"  {name}: time in the grammar processor, xgrammar / llguidance = {xgr / llg:.2f}")
    ours = [f"{n}: llguidance" for n in SCHEMAS]
    worst = max(statistics.median(r[0] for r in results[n]) for n in ours) / base
    print(
        f"target: constrained (llguidance) adds <= {TARGET - 1:.0%} per token; worst {worst - 1:+.1%}: "
        + ("PASS" if worst <= TARGET else "FAIL")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
