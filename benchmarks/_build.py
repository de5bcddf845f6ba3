"""Builds (and caches) the checkpoints the text-serving benchmark measures.

Full mode: a randomly initialised Qwen2.5-0.5B architecture (Qwen2, hidden 896, 24 layers, 14 heads / 2 KV heads,
intermediate 4864, vocab 151,936, tied embeddings: 494M parameters, 0.99 GB in bf16) with a synthetic byte-level BPE
tokenizer of exactly 151,936 ids, so every id the random model emits decodes to text. The tokenizer is not trained:
its merges are the 2-byte sequences that are whole UTF-8 text (18,304: ASCII pairs and 2-byte characters) and then
ASCII 3-byte merges in a fixed order until the vocabulary is full. Only the 128 lone bytes 0x80–0xFF are not text on
their own: with every 2-byte pair (build 1), 20 % of the ids ended in an unfinished character, which a server must
hold back, so "time to first text" measured the tokenizer more than the server.

Quick mode: genserve's own tiny demo chat model (Qwen3, 205k parameters, vocab 2048).

Both get the ChatML template (genserve.demo.text.CHAT_TEMPLATE) and a generation_config.json with the sampling every
engine in the benchmark uses (temperature 1.0, top-k 64, top-p 0.95: the Gemini defaults genserve applies), so that
`transformers serve`, which reads top-k only from the model's generation config, samples the same way. Then GGUF
files (bf16 and Q8_0) for llama.cpp, written by genserve.demo.gguf."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

BUILD_VERSION = "2"
VOCAB_SIZE = 151_936
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
SAMPLING = {"temperature": 1.0, "top_k": 64, "top_p": 0.95}

# Byte priority for the 3-byte merges: common ASCII text first, so ordinary prompts get 3-byte tokens.
_PRIORITY = b" etaoinshrdlucmfwypvbgkjqxzETAOINSHRDLUCMFWYPVBGKJQXZ0123456789.,'\n-:;!?()\"/"


def _byte_order() -> list[int]:
    order = list(dict.fromkeys(_PRIORITY))
    return order + [b for b in range(256) if b not in order]


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte -> printable character table, which tokenizers' ByteLevel pre-tokenizer uses."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), 256))
    table, extra = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def _whole_text(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def build_synthetic_tokenizer(vocab_size: int = VOCAB_SIZE):
    """A byte-level BPE with exactly `vocab_size` ids: 256 bytes, the 2-byte merges that are whole UTF-8 text, then
    ASCII 3-byte merges, then the three ChatML special tokens. Takes well under a second."""
    from itertools import product

    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    b2u = _bytes_to_unicode()
    assert set(b2u.values()) == set(pre_tokenizers.ByteLevel.alphabet())
    order = _byte_order()
    vocab: dict[str, int] = {}
    for b in order:
        vocab[b2u[b]] = len(vocab)
    merges: list[tuple[str, str]] = []
    for a, b in product(order, order):
        if not _whole_text(bytes([a, b])):
            continue
        merges.append((b2u[a], b2u[b]))
        vocab[b2u[a] + b2u[b]] = len(vocab)
    n3 = vocab_size - len(SPECIALS) - len(vocab)
    rank = {b: i for i, b in enumerate(order)}
    # Triples in order of their rarest byte, so the most common bytes' triples come first.
    triples = sorted(product(order[:52], repeat=3), key=lambda t: (max(rank[x] for x in t), *(rank[x] for x in t)))
    if len(triples) < n3:
        raise ValueError("not enough 3-byte merges for the requested vocabulary")
    for a, b, c in triples[:n3]:
        merges.append((b2u[a] + b2u[b], b2u[c]))
        vocab[b2u[a] + b2u[b] + b2u[c]] = len(vocab)
    bpe = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        padding_side="left",
        additional_special_tokens=["<|im_start|>"],
    )
    if len(tokenizer) != vocab_size:
        raise AssertionError(f"synthetic tokenizer has {len(tokenizer)} ids, wanted {vocab_size}")
    return tokenizer


def _generation_config(tokenizer):
    from transformers import GenerationConfig

    return GenerationConfig(
        do_sample=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **SAMPLING,
    )


def build_qwen05b(target: Path, log=print) -> None:
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from genserve.demo.text import CHAT_TEMPLATE

    t0 = time.perf_counter()
    tokenizer = build_synthetic_tokenizer()
    log(f"  synthetic byte-level BPE, {len(tokenizer)} ids, in {time.perf_counter() - t0:.1f} s")
    config = Qwen2Config(
        vocab_size=VOCAB_SIZE,
        hidden_size=896,
        intermediate_size=4864,
        num_hidden_layers=24,
        num_attention_heads=14,
        num_key_value_heads=2,
        max_position_embeddings=32768,
        rope_theta=1_000_000.0,
        rms_norm_eps=1e-6,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
        dtype="bfloat16",
    )
    t0 = time.perf_counter()
    torch.manual_seed(0)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)  # initialise directly in bf16: half the memory and time
    try:
        model = Qwen2ForCausalLM(config)
    finally:
        torch.set_default_dtype(previous)
    model = model.to(torch.bfloat16)
    model.generation_config = _generation_config(tokenizer)
    params = sum(p.numel() for p in model.parameters())
    model.save_pretrained(target)
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(target)
    log(
        f"  random Qwen2.5-0.5B architecture, {params / 1e6:.0f}M parameters, bf16, in {time.perf_counter() - t0:.1f} s"
    )


def build_quick(target: Path, scratch: Path, log=print) -> None:
    """genserve's demo chat model, copied, with the benchmark's sampling in its generation config."""
    from transformers import AutoTokenizer

    from genserve.demo.checkpoints import CHAT_DIR, write_demo_models

    demo = write_demo_models(scratch)
    shutil.copytree(demo / CHAT_DIR, target)
    tokenizer = AutoTokenizer.from_pretrained(target)
    _generation_config(tokenizer).save_pretrained(target)
    log("  genserve demo chat model (Qwen3, 205k parameters, vocab 2048)")


def build_once(target: Path, version: str, build: Callable[[], None]) -> bool:
    """Runs `build()`, which writes `target`, unless a finished build of `version` is there; returns whether it
    ran. The marker is written last, so an interrupted build is rebuilt rather than loaded half-written."""
    marker = target / "bench-build.json"
    if marker.exists() and json.loads(marker.read_text()).get("version") == version:
        return False
    build()
    marker.write_text(json.dumps({"version": version}))
    return True


def ensure_models(cache: Path, quick: bool, log=print) -> dict:
    """The checkpoint directory and GGUF files, built once into `cache` and reused. Returns their paths and a
    reason for each GGUF that could not be written."""
    name = "demo-chat" if quick else "qwen2.5-0.5b-random"
    root = cache / name
    hf_dir = root / "hf"
    marker = root / "built.json"
    if not (marker.exists() and json.loads(marker.read_text()).get("version") == BUILD_VERSION):
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        log(f"building {name} into {root}")
        if quick:
            build_quick(hf_dir, root / "demo-scratch", log)
        else:
            build_qwen05b(hf_dir, log)
        marker.write_text(json.dumps({"version": BUILD_VERSION}))
    ggufs: dict[str, Path | str] = {}
    for dtype in ("bf16", "q8_0"):
        out = root / "gguf" / dtype / f"model-{dtype}.gguf"
        if out.exists():
            ggufs[dtype] = out
            continue
        try:
            from genserve.demo.gguf import write_gguf
        except ImportError as exc:
            ggufs[dtype] = f"genserve.demo.gguf not importable ({exc})"
            continue
        t0 = time.perf_counter()
        partial = out.with_suffix(".partial")
        try:
            write_gguf(hf_dir, partial, dtype)
        except Exception as exc:  # missing gguf package, unsupported layout, ...
            partial.unlink(missing_ok=True)
            ggufs[dtype] = f"GGUF {dtype} could not be written: {type(exc).__name__}: {exc}"
            continue
        partial.rename(out)
        log(f"  GGUF {dtype}: {out.stat().st_size / 1e9:.2f} GB in {time.perf_counter() - t0:.1f} s")
        ggufs[dtype] = out
    return {"hf_dir": hf_dir, "gguf": ggufs}


def hf_weight_bytes(hf_dir: Path, dtype: str = "bfloat16") -> int:
    """Bytes of weights one decode step reads when the checkpoint is loaded in `dtype`: every tensor in the
    safetensors files once (tied embeddings are stored once and read once, as the LM head; the input embedding reads
    a single row)."""
    itemsize = {"bfloat16": 2, "float16": 2, "float32": 4}[dtype]
    elements = 0
    for file in sorted(hf_dir.glob("*.safetensors")):
        with file.open("rb") as f:
            header = json.loads(f.read(int.from_bytes(f.read(8), "little")))
        for name, info in header.items():
            if name != "__metadata__":
                count = 1
                for dim in info["shape"]:
                    count *= dim
                elements += count
    return elements * itemsize


def gguf_weight_bytes(path: Path) -> int:
    from gguf import GGUFReader

    return int(sum(int(t.n_bytes) for t in GGUFReader(str(path)).tensors))
