"""What does a schema cost to compile and to enforce token by token: genserve's llguidance compiler against xgrammar
0.2.8 (the compiler it replaced), side by side in one run.

    .venv/bin/python benchmarks/grammar_compile.py [--vocab trained|demo] [--only NAME,...] [--reps 3] [--steps 64]
                                                   [--no-xgrammar]

`trained` (default) is a byte-level BPE of 151,936 ids trained on the Python sources and docs of this machine
(cached in benchmarks/.cache/bpe-151936, about 30 s to build): real vocabularies (Qwen, Llama, Gemma) have as many
ids of word-like pieces, and xgrammar's compile time grows with both. `demo` is the demo chat model's 2,048-id
tokenizer, which hides most of xgrammar's cost.

For each schema, in turn within each repetition so that machine drift hits both alike (medians reported):
  compile   llguidance: what GrammarCompiler does on a cache miss (JSON Schema to grammar, matcher, probe steps);
            xgrammar: what genserve did with it (JSON Schema to EBNF, compile_grammar for the vocabulary)
  mask      the time to compute one step's token mask, along one walk of --steps tokens (a random allowed token
            each step, seeded; xgrammar replays llguidance's walk and stops where it refuses a token), median and
            slowest step
"outcome" says what genserve does with the schema: compile it, or refuse it with a 400 (the schema checks' limits
or llguidance's), with the reason. xgrammar is measured when it is importable (it stays installed in the project's
.venv for this comparison; genserve no longer uses it) and the case is not marked llguidance-only (ones xgrammar
took minutes for)."""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sysconfig
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"


def obj(n: int, required: range | list[int] = ()) -> dict:
    props = {f"p{i}": {"type": "integer"} for i in range(n)}
    return {"type": "object", "properties": props, "required": [f"p{i}" for i in required]}


def ranges(n: int, kind: str) -> dict:
    items = [{"type": kind, "minimum": -1234567 * i - 7, "maximum": 987654321 * i + 13} for i in range(n)]
    return {"type": "array", "prefixItems": items, "minItems": n, "maxItems": n}


def strings(bounds: range) -> dict:
    props = {f"s{n}": {"type": "string", "maxLength": n} for n in bounds}
    return {"type": "object", "properties": props, "required": list(props)}


# Every shape constrain/cost.py used to price (its docstring's table), the edges of its budget, and a few that only
# llguidance gets (xgrammar takes minutes for them: the last column of the table says so).
CASES: dict[str, tuple[dict, bool]] = {
    "maxLength 8": ({"type": "string", "maxLength": 8}, True),
    "maxLength 16": ({"type": "string", "maxLength": 16}, True),
    "maxLength 32": ({"type": "string", "maxLength": 32}, True),
    "maxLength 1000": ({"type": "string", "maxLength": 1000}, True),
    "20 maxLengths 16-35": (strings(range(16, 36)), True),
    "minLength 1": ({"type": "string", "minLength": 1}, True),
    "optional 25": (obj(25), True),
    "optional 50": (obj(50), True),
    "optional 100": (obj(100), True),
    "alternating 200": (obj(200, range(0, 200, 2)), True),
    "required 1000": (obj(1000, range(1000)), True),
    "enum 2000 x 10 chars": ({"type": "string", "enum": [f"{i:05d}abcde" for i in range(2000)]}, True),
    "enum 2000 x 50 chars": ({"type": "string", "enum": [f"{i:05d}" + "abcdefghi" * 5 for i in range(2000)]}, True),
    "const 100k chars": ({"const": "x" * 100_000}, True),
    "const 10k chars": ({"const": "x" * 10_000}, True),
    "integer ranges 40": (ranges(40, "integer"), True),
    "number ranges 40": (ranges(40, "number"), True),
    "40 patterns ^[a-z0-9]{32}$": (
        {"type": "array", "prefixItems": [{"type": "string", "pattern": "^[a-z0-9]{32}$"}] * 40, "minItems": 40},
        True,
    ),
    "regex [a-z0-9]{64}": ({"type": "string", "pattern": "^[a-z0-9]{64}$"}, True),
    "regex phone": ({"type": "string", "pattern": r"^\d{3}-\d{3}-\d{4}$"}, True),
    "formats 40": (
        {"type": "array", "prefixItems": [{"type": "string", "format": "date-time"}] * 40, "minItems": 40},
        True,
    ),
    "anyOf 500 objects": (
        {
            "anyOf": [
                {"type": "object", "properties": {"k": {"const": i}, "v": {"type": "string"}}, "required": ["k", "v"]}
                for i in range(500)
            ]
        },
        True,
    ),
    "a mix": (
        {
            "type": "object",
            "properties": {
                "title": {"type": "string", "maxLength": 10},
                "counts": ranges(10, "integer"),
                "extra": obj(20),
                "kind": {"enum": [f"kind-{i}-" + "x" * 40 for i in range(100)]},
            },
            "required": ["title", "counts", "extra", "kind"],
        },
        True,
    ),
    "optional 300": (obj(300), False),
    "optional 1000": (obj(1000), False),
    "40 maxLengths 300-339": (strings(range(300, 340)), False),
    "anyOf 1000 strings maxLength": ({"anyOf": [{"type": "string", "maxLength": 100 + i} for i in range(1000)]}, False),
    "pattern (ab|cd){1,500}": ({"type": "string", "pattern": "^(ab|cd){1,500}$"}, False),
}


# -- the vocabularies ---------------------------------------------------------------------------------------------


def trained_tokenizer():
    from transformers import AutoTokenizer

    target = CACHE / "bpe-151936"
    if not (target / "tokenizer.json").exists():
        build_trained_tokenizer(target)
    return AutoTokenizer.from_pretrained(target)


def build_trained_tokenizer(target: Path, vocab_size: int = 151_936, limit: int = 120_000_000) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    roots = [Path(sysconfig.get_paths()["stdlib"]), Path(sysconfig.get_paths()["purelib"])]

    def texts():
        total = 0
        for root in roots:
            for path in sorted(root.rglob("*")):
                if path.suffix in (".py", ".txt", ".md", ".rst", ".json") and path.is_file():
                    text = path.read_text(encoding="utf-8", errors="ignore")
                    total += len(text)
                    yield text
                    if total > limit:
                        return

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials, initial_alphabet=alphabet)
    bpe.train_from_iterator(texts(), trainer)
    PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>").save_pretrained(
        target
    )


def demo_tokenizer():
    try:
        from genserve.demo.text import build_tokenizer
    except ImportError:  # the layout before genserve.demo became a package
        from genserve.demo import build_tokenizer  # type: ignore[attr-defined,no-redef]

    return build_tokenizer()


# -- xgrammar, as genserve used it until llguidance replaced it ---------------------------------------------------


class XGrammar:
    """xgrammar 0.2.8 driven the way genserve drove it: special tokens blanked out of the vocabulary, compact JSON
    (", " and ": ") from strict-mode JSON Schema, its own cache off. Also the logits processor (structured_output.py
    uses it)."""

    def __init__(self, tokenizer: Any, vocab_size: int, stop_token_ids: list[int]) -> None:
        import xgrammar as xgr

        self.xgr = xgr
        detected = xgr.TokenizerInfo.from_huggingface(tokenizer, vocab_size=vocab_size, stop_token_ids=stop_token_ids)
        special = set(getattr(tokenizer, "all_special_ids", ()))
        special.update(i for i, t in tokenizer.added_tokens_decoder.items() if getattr(t, "special", False))
        encoded = [""] * vocab_size
        for piece, index in tokenizer.get_vocab().items():
            if index < vocab_size and index not in special:
                encoded[index] = piece
        self.info = xgr.TokenizerInfo(
            encoded,
            detected.vocab_type,
            vocab_size=vocab_size,
            stop_token_ids=detected.stop_token_ids,
            add_prefix_space=detected.add_prefix_space,
        )
        self.compiler = xgr.GrammarCompiler(self.info, cache_enabled=False)
        self.vocab_size = vocab_size

    def compile(self, schema: dict) -> Any:
        grammar = self.xgr.Grammar.from_json_schema(json.dumps(schema), any_whitespace=False, strict_mode=True)
        # xgrammar 0.2.8 let raw control characters into strings with a length bound; genserve patched the class.
        return self.compiler.compile_grammar(str(grammar).replace(r"[^\"\\\r\n]", r"[^\0-\x1f\"\\]"))

    def processor(self, compiled: Any, batch_size: int) -> Any:
        import torch
        from transformers import LogitsProcessor

        xgr, vocab_size = self.xgr, self.vocab_size

        class XGrammarProcessor(LogitsProcessor):
            def __init__(self) -> None:
                self.matchers = [xgr.GrammarMatcher(compiled) for _ in range(batch_size)]
                self.bitmask = xgr.allocate_token_bitmask(batch_size, vocab_size)
                self.seen: int | None = None

            def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
                if self.seen is not None:
                    for row, tokens in enumerate(input_ids[:, self.seen :].tolist()):
                        for token in tokens:
                            if not self.matchers[row].is_terminated():
                                self.matchers[row].accept_token(token)
                self.seen = input_ids.shape[1]
                rows = [r for r, m in enumerate(self.matchers) if not m.is_terminated()]
                rows = [r for r in rows if self.matchers[r].fill_next_token_bitmask(self.bitmask, r)]
                if rows:
                    xgr.apply_token_bitmask_inplace(scores, self.bitmask.to(scores.device), indices=rows)
                return scores

        return XGrammarProcessor()


# -- the measurements ---------------------------------------------------------------------------------------------


def llguidance_walk(compiled: Any, vocab_size: int, stops: set[int], steps: int, seed: int) -> tuple[list, list]:
    """Mask times along a random walk (the tokens taken, and each step's seconds)."""
    import llguidance.numpy as llg_numpy
    import numpy as np

    rng = random.Random(seed)
    matcher = compiled.matcher.deep_copy()
    bitmask = llg_numpy.allocate_token_bitmask(1, vocab_size)
    tokens, times = [], []
    for _ in range(steps):
        started = time.perf_counter()
        llg_numpy.fill_next_token_bitmask(matcher, bitmask, 0)
        times.append(time.perf_counter() - started)
        if matcher.is_error():
            break
        allowed = np.flatnonzero(np.unpackbits(bitmask[0].view(np.uint8), bitorder="little")[:vocab_size])
        allowed = [int(i) for i in allowed if int(i) not in stops]
        if not allowed:
            break
        tokens.append(rng.choice(allowed))
        matcher.consume_token(tokens[-1])
    return tokens, times


def xgrammar_walk(xg: XGrammar, compiled: Any, tokens: list[int]) -> list[float]:
    matcher = xg.xgr.GrammarMatcher(compiled)
    bitmask = xg.xgr.allocate_token_bitmask(1, xg.vocab_size)
    times = []
    for token in tokens:
        started = time.perf_counter()
        matcher.fill_next_token_bitmask(bitmask, 0)
        times.append(time.perf_counter() - started)
        if not matcher.accept_token(token):
            break
    return times


def ms(seconds: float) -> str:
    if seconds < 0.01:
        return f"{seconds * 1000:.2f} ms"
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def ratio(xgrammar: float | None, llguidance: float | None) -> str:
    if not xgrammar or not llguidance:
        return ""
    return f"{xgrammar / llguidance:.0f}x" if xgrammar >= llguidance else f"1/{llguidance / xgrammar:.0f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vocab", choices=["trained", "demo"], default="trained")
    parser.add_argument("--only", default="", help="comma-separated case names")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--steps", type=int, default=64, help="tokens in each mask walk")
    parser.add_argument("--no-xgrammar", action="store_true", help="llguidance alone")
    args = parser.parse_args()

    import llguidance

    from genserve.constrain.schema import check_json_schema
    from genserve.core.types import ResponseFormat
    from genserve.engines.constrained.grammar import GrammarCompiler
    from genserve.errors import InvalidArgument

    tokenizer = trained_tokenizer() if args.vocab == "trained" else demo_tokenizer()
    vocab = len(tokenizer)
    stops = [tokenizer.eos_token_id]
    started = time.perf_counter()
    compiler = GrammarCompiler(tokenizer, vocab, stop_token_ids=stops, cache_size=0)
    setup = f"vocabulary {vocab:,} ids; set-up once per model: llguidance {llguidance.__version__} "
    setup += ms(time.perf_counter() - started)
    xg = None
    if not args.no_xgrammar:
        try:
            import xgrammar  # noqa: F401 - installed or not

            started = time.perf_counter()
            xg = XGrammar(tokenizer, vocab, stops)
            setup += f", xgrammar {version('xgrammar')} {ms(time.perf_counter() - started)}"
        except ImportError:
            setup += "; xgrammar is not installed: llguidance alone"
    print(setup)
    print(f"compile: median of {args.reps}, interleaved; mask: one walk of up to {args.steps} tokens\n")
    print(
        "| schema | outcome (genserve) | compile llguidance | compile xgrammar | ratio | mask llguidance median / max"
        " | mask xgrammar median / max | ratio |\n|---|---|---|---|---|---|---|---|"
    )
    only = set(filter(None, args.only.split(",")))
    for name, (schema, with_xgrammar) in CASES.items():
        if only and name not in only:
            continue
        try:
            check_json_schema(schema, "responseJsonSchema")
            outcome = "compiled"
        except InvalidArgument as exc:
            outcome = "400 at the schema checks: " + exc.message.split(": ", 2)[-1][:80]
        fmt = ResponseFormat("json", schema)
        llg_times: list[float] = []
        xgr_times: list[float] = []
        compiled = xcompiled = None
        for _ in range(args.reps):
            started = time.perf_counter()
            try:
                compiled = compiler.for_response(fmt)
            except InvalidArgument as exc:
                if outcome == "compiled":
                    outcome = "400 at compile: " + exc.message.split(": ", 1)[-1][:100]
            llg_times.append(time.perf_counter() - started)
            if xg is not None and with_xgrammar:
                started = time.perf_counter()
                xcompiled = xg.compile(schema)
                xgr_times.append(time.perf_counter() - started)
        llg_compile = statistics.median(llg_times)
        xgr_compile = statistics.median(xgr_times) if xgr_times else None
        llg_mask = xgr_mask = ""
        llg_median = xgr_median = None
        if compiled is not None:
            tokens, steps = llguidance_walk(compiled, vocab, set(stops), args.steps, seed=len(name))
            llg_median = statistics.median(steps)
            llg_mask = f"{ms(llg_median)} / {ms(max(steps))} ({len(steps)} steps)"
            if xcompiled is not None:
                xsteps = xgrammar_walk(xg, xcompiled, tokens)
                xgr_median = statistics.median(xsteps)
                xgr_mask = f"{ms(xgr_median)} / {ms(max(xsteps))} ({len(xsteps)} steps)"
        xgr_cell = ms(xgr_compile) if xgr_compile is not None else ("not run" if with_xgrammar else "minutes: skipped")
        print(
            f"| {name} | {outcome} | {ms(llg_compile)} | {xgr_cell} | {ratio(xgr_compile, llg_compile)} "
            f"| {llg_mask} | {xgr_mask} | {ratio(xgr_median, llg_median)} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
