"""How well SmolLM2-135M-Instruct (trained on 8,192 positions) reads past them, as genserve serves it (dynamic NTK
RoPE, demo/smollm2.py) and in the alternatives, measured on one English text in one run:

    .venv/bin/python benchmarks/long_context.py [--tokens 12288] [--scored 4096] [--data-dir benchmarks/.cache]

The text is Python's own documentation (pydoc_data.topics, English prose shipped with every Python). The last
--scored tokens of a --tokens-long window are scored (mean negative log-likelihood per token, and its perplexity)
under each way of reading the window:
  trained window   only the 8,192 tokens before each scored token's block are read (what the model was trained on:
                   the first scored token sees 4,096 tokens of context, the last 8,191)
  plain RoPE       the whole window, positions past 8,192 extrapolated
  dynamic NTK x2   the whole window, rotary base stretched for its length (genserve's choice)
  dynamic NTK x1   the same with the gentler factor
Lower is better. Reading a longer context should not make a scored token harder to predict than the trained window
does: the window's NLL is the baseline the others are compared to."""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
TRAINED = 8192


def english_tokens(tokenizer, count: int) -> list[int]:
    from pydoc_data.topics import topics

    text = "\n\n".join(topics[key] for key in sorted(topics))
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    if len(ids) < count:
        raise SystemExit(f"pydoc topics have {len(ids)} tokens, fewer than {count}")
    return ids[:count]


def nll(model, ids: list[int], scored: int) -> float:
    """Mean negative log-likelihood of the last `scored` tokens of `ids`, reading all of `ids`."""
    x = torch.tensor([ids])
    with torch.inference_mode():
        logits = model(x, logits_to_keep=scored + 1).logits[0, :-1].float()
    targets = x[0, -scored:]
    return torch.nn.functional.cross_entropy(logits, targets).item()


def load(path: Path, rope: dict | None):
    from transformers import AutoModelForCausalLM

    kwargs = {"rope_parameters": {**rope, "rope_theta": 100000.0}} if rope else {}
    return AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, **kwargs).eval()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=12288)
    parser.add_argument("--scored", type=int, default=4096)
    parser.add_argument("--data-dir", type=Path, default=HERE / ".cache")
    args = parser.parse_args()
    from transformers import AutoTokenizer

    from genserve.demo.packaged import SMOLLM2
    from genserve.demo.smollm2 import smollm2_checkpoint

    source = SMOLLM2.locate()
    if source is None:
        raise SystemExit("SmolLM2 is not installed: genserve install-weights")
    path = smollm2_checkpoint(SMOLLM2.verified(source), args.data_dir / "smollm2-135m-instruct")
    tokenizer = AutoTokenizer.from_pretrained(path)
    ids = english_tokens(tokenizer, args.tokens)
    window = ids[-TRAINED:]
    rows = [
        ("trained window (8,192 tokens)", None, window),
        ("plain RoPE, whole window", {"rope_type": "default"}, ids),
        ("dynamic NTK x2, whole window (genserve)", {"rope_type": "dynamic", "factor": 2.0}, ids),
        ("dynamic NTK x1, whole window", {"rope_type": "dynamic", "factor": 1.0}, ids),
    ]
    print(f"SmolLM2-135M-Instruct, {args.tokens} tokens of pydoc topics, last {args.scored} scored", flush=True)
    results = []
    for name, rope, tokens in rows:
        model = load(path, rope if rope is not None else {"rope_type": "default"})
        started = time.monotonic()
        value = nll(model, tokens, args.scored)
        results.append((name, value, len(tokens), time.monotonic() - started))
        print(f"  measured {name}", flush=True)
        del model
    base = results[0][1]
    print("\n| reading | tokens read | NLL / token | perplexity | vs trained window | seconds |")
    print("|---|---|---|---|---|---|")
    for name, value, count, seconds in results:
        print(f"| {name} | {count} | {value:.3f} | {math.exp(value):.2f} | {value - base:+.3f} | {seconds:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
