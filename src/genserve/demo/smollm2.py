"""SmolLM2-135M-Instruct from its packaged GGUF, converted once into a plain transformers checkpoint.

transformers reads the GGUF itself, but dequantizing it and converting its tokenizer take about 18 s on every
load, and a GGUF-loaded model cannot be saved as it is. The conversion copies the dequantized weights (exactly:
float32 holds every Q4_1 value) into an ordinary model and saves it with its tokenizer, so each later start
loads it in a fraction of a second through the same `from_pretrained` path as any checkpoint. Two things are
genserve's own: the chat template (SmolLM2's renders no tools; this one declares them in the system turn and
writes calls in <tool_call> tags, the Hermes form genserve parses and constrains) and the context (see CONTEXT)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from genserve.demo.packaged import SMOLLM2
from genserve.demo.text import chatml_template

# Bump when the conversion's output changes: an older converted checkpoint is rebuilt.
CONVERSION_VERSION = "3"
# SmolLM2 was trained on 8,192 positions (its max_position_embeddings). Dynamic NTK scaling leaves every sequence up
# to that length exactly as trained and stretches the rotary base only for longer ones, by as much as their length
# needs: Gemini CLI's first request is about 12,400 tokens of instructions and tool declarations. genserve serves up
# to CONTEXT tokens of prompt and reply (demo/real.py); benchmarks/long_context.py measures the quality there.
CONTEXT = 16384
# transformers' dynamic NTK: the rotary base times ((FACTOR * length / 8192) - (FACTOR - 1)) ** (dim / (dim - 2)).
NTK_FACTOR = 2.0
# The system turn SmolLM2 was trained with when a conversation brings none.
DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"


def smollm2_checkpoint(gguf: Path, target: Path) -> Path:
    """The converted checkpoint of the (verified) `gguf` in `target`, converted now unless it is there already."""
    marker = target / "genserve-converted.json"
    expected = {"source_sha256": SMOLLM2.sha256, "version": CONVERSION_VERSION}
    if marker.is_file() and json.loads(marker.read_text()) == expected:
        return target
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    _convert(gguf, partial)
    (partial / marker.name).write_text(json.dumps(expected))
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)  # a start interrupted mid-conversion leaves only the .partial directory behind
    return target


def _convert(gguf: Path, target: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    packed = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    settings = packed.config.to_dict()
    settings.pop("quantization_config", None)  # the weights below are plain tensors
    settings["rope_parameters"] = {**settings["rope_parameters"], "rope_type": "dynamic", "factor": NTK_FACTOR}
    config = type(packed.config).from_dict(settings)
    with torch.device("meta"):
        model = type(packed)(config)
    missing, unexpected = model.load_state_dict(packed.state_dict(), assign=True, strict=False)
    if unexpected or set(missing) - {"lm_head.weight"}:  # the output layer is the tied input embedding
        raise RuntimeError(f"converting {gguf.name}: missing {missing}, unexpected {unexpected}")
    model.tie_weights()
    model.generation_config = packed.generation_config
    model.save_pretrained(target)
    tokenizer.chat_template = chatml_template(DEFAULT_SYSTEM)
    tokenizer.save_pretrained(target)
