"""How long does xgrammar take to compile a schema, and does genserve's estimate (constrain/cost.py) stay above it?

    .venv/bin/python benchmarks/grammar_compile.py [--vocab trained|demo] [--only NAME,...] [--skip-over 20]

`trained` (default) is a byte-level BPE of 151,936 ids trained on the Python sources and docs of this machine
(cached in benchmarks/.cache/bpe-151936, about 30 s to build): real vocabularies (Qwen, Llama, Gemma) have as many
ids of word-like pieces, and compile time grows with both. `demo` is the demo chat model's 2,054-id tokenizer, which
hides most of the cost. Each row prints the measured compile time, the compiled grammar's size, and the estimate
scaled to the vocabulary; "accepted" says whether genserve would compile it. The estimate should be above the
measured time (it is an upper bound for the budget), and every accepted row well under a second."""

from __future__ import annotations

import argparse
import sysconfig
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"


def obj(n: int, required: range | list[int] = ()) -> dict:
    props = {f"p{i}": {"type": "integer"} for i in range(n)}
    return {"type": "object", "properties": props, "required": [f"p{i}" for i in required]}


def ranges(n: int, kind: str) -> dict:
    items = [{"type": kind, "minimum": -1234567 * i - 7, "maximum": 987654321 * i + 13} for i in range(n)]
    return {"type": "array", "prefixItems": items, "minItems": n, "maxItems": n}


CASES = {
    "maxLength 8": {"type": "string", "maxLength": 8},
    "maxLength 16": {"type": "string", "maxLength": 16},
    "maxLength 32": {"type": "string", "maxLength": 32},
    "maxLength 1000": {"type": "string", "maxLength": 1000},
    "minLength 1": {"type": "string", "minLength": 1},
    "optional 25": obj(25),
    "optional 40": obj(40),
    "optional 50": obj(50),
    "optional 100": obj(100),
    "alternating 200": obj(200, range(0, 200, 2)),
    "required 1000": obj(1000, range(1000)),
    "enum 2000 x 10 chars": {"type": "string", "enum": [f"{i:05d}abcde" for i in range(2000)]},
    "enum 2000 x 50 chars": {"type": "string", "enum": [f"{i:05d}" + "abcdefghi" * 5 for i in range(2000)]},
    "const 100k chars": {"const": "x" * 100_000},
    "integer ranges 40": ranges(40, "integer"),
    "number ranges 40": ranges(40, "number"),
    "regex [a-z0-9]{16}": {"type": "string", "pattern": "^[a-z0-9]{16}$"},
    "regex [a-z0-9]{64}": {"type": "string", "pattern": "^[a-z0-9]{64}$"},
    "regex phone": {"type": "string", "pattern": r"^\d{3}-\d{3}-\d{4}$"},
    "formats 40": {"type": "array", "prefixItems": [{"type": "string", "format": "date-time"}] * 40, "minItems": 40},
    # At the edge of the budget (0.6 s estimated for 151,936 ids): the worst schemas genserve accepts.
    "edge: maxLength 21": {"type": "string", "maxLength": 21},
    "edge: optional 35": obj(35),
    "edge: required 880": obj(880, range(880)),
    "edge: const 75k chars": {"const": "x" * 75_000},
    "edge: integer ranges 34": ranges(34, "integer"),
    "edge: number ranges 15": ranges(15, "number"),
    "edge: regex [a-z0-9]{73}": {"type": "string", "pattern": "^[a-z0-9]{73}$"},
    "edge: a mix": {
        "type": "object",
        "properties": {
            "title": {"type": "string", "maxLength": 10},
            "counts": ranges(10, "integer"),
            "extra": obj(20),
            "kind": {"enum": [f"kind-{i}-" + "x" * 40 for i in range(100)]},
        },
        "required": ["title", "counts", "extra", "kind"],
    },
    # Over the budget by a little.
    "over: maxLength 24": {"type": "string", "maxLength": 24},
    "over: optional 38": obj(38),
    "anyOf 500 objects": {
        "anyOf": [
            {"type": "object", "properties": {"k": {"const": i}, "v": {"type": "string"}}, "required": ["k", "v"]}
            for i in range(500)
        ]
    },
}


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
    from genserve.demo import build_tokenizer

    return build_tokenizer()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vocab", choices=["trained", "demo"], default="trained")
    parser.add_argument("--only", default="", help="comma-separated case names")
    parser.add_argument("--skip-over", type=float, default=20.0, help="skip cases estimated above this many seconds")
    args = parser.parse_args()

    from genserve.constrain.cost import BUDGET_MS, estimate_schema
    from genserve.constrain.grammar import GrammarCompiler, json_ebnf

    tokenizer = trained_tokenizer() if args.vocab == "trained" else demo_tokenizer()
    compiler = GrammarCompiler(tokenizer, len(tokenizer), cache_size=0)
    print(f"vocabulary {len(tokenizer):,} ids; budget {BUDGET_MS / 1000:.1f} s")
    print("| schema | measured | compiled size | estimate | accepted |\n|---|---|---|---|---|")
    only = set(filter(None, args.only.split(",")))
    for name, schema in CASES.items():
        if only and name not in only:
            continue
        estimate = estimate_schema(schema).ms_for(len(tokenizer)) / 1000
        if estimate > args.skip_over:
            print(f"| {name} | skipped | | {estimate:.2f} s | no |")
            continue
        start = time.perf_counter()
        compiled = compiler._compiler.compile_grammar(json_ebnf(schema))
        took = time.perf_counter() - start
        size = compiled.memory_size_bytes / 1e6
        accepted = "yes" if estimate * 1000 <= BUDGET_MS else "no"
        print(f"| {name} | {took:.3f} s | {size:.1f} MB | {estimate:.2f} s | {accepted} |", flush=True)


if __name__ == "__main__":
    main()
