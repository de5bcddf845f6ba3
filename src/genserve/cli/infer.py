"""Which engine serves a checkpoint and what it can do, judged from its files (for `serve --model NAME=PATH`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_ENCODER_SUFFIXES = ("Model", "ForMaskedLM")


def infer_engine(path: str) -> str:
    local = Path(path)
    # A GGUF file, or a directory with exactly one, is served by llama.cpp.
    if (local.is_file() and local.suffix == ".gguf") or (local.is_dir() and len(list(local.glob("*.gguf"))) == 1):
        return "llamacpp"
    if local.is_dir():
        files = {p.name for p in local.iterdir()}
        if "model_index.json" in files:  # a diffusers pipeline
            return "diffusers"
        config = json.loads((local / "config.json").read_text()) if "config.json" in files else None
        st_modules = "modules.json" in files
    else:  # a hub id: read its config (from the local cache when offline)
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import EntryNotFoundError

        try:
            hf_hub_download(path, "model_index.json")
            return "diffusers"
        except EntryNotFoundError:
            pass
        config = json.loads(Path(hf_hub_download(path, "config.json")).read_text())
        st_modules = False
    if config is None:
        raise SystemExit(f"{path}: no config.json; cannot tell which engine serves it")
    architectures = config.get("architectures") or []
    if st_modules or any(a.endswith(_ENCODER_SUFFIXES) and "CausalLM" not in a for a in architectures):
        return "transformers-embedding"
    if "vision_config" in config and any(a.endswith("ForConditionalGeneration") for a in architectures):
        return "transformers-vision"
    if any(a.endswith("ForCausalLM") for a in architectures):
        return "transformers"
    raise SystemExit(f"{path}: architectures {architectures} are not served by any installed engine")


def infer_capabilities(path: str, engine: str) -> dict[str, Any]:
    """Catalog fields for a checkpoint: its limits, read from its own files, and for a transformers model the
    capabilities its chat template shows (tools when it renders them, thinking when it has a reasoning switch;
    grammar-constrained output works on any)."""
    if engine == "diffusers":  # an Imagen-style model: Imagen's prompt limit
        return {"input_token_limit": 480, "output_token_limit": 1, "output_modalities": ["image"]}
    caps: dict[str, Any] = {}
    limit = _token_limit(Path(path), engine)
    if limit:
        caps["input_token_limit"] = limit
        caps["output_token_limit"] = 1 if engine == "transformers-embedding" else min(limit, DEFAULT_OUTPUT_TOKENS)
    if engine not in ("transformers", "transformers-vision"):
        return caps
    template = _chat_template(path)
    caps |= {"structured_output": True, "function_calling": "tools" in template}
    if "enable_thinking" in template or "<think>" in template:
        caps["thinking"] = True
    if engine == "transformers-vision":
        caps["input_modalities"] = ["text", "image"]
    return caps


# The output limit of a `--model` text model whose context is at least this long (ModelEntry's default).
DEFAULT_OUTPUT_TOKENS = 2048
# RoPE scalings that stretch a model past max_position_embeddings by their factor.
_STRETCHING_ROPE = ("linear", "dynamic", "yarn", "longrope")


def _token_limit(path: Path, engine: str) -> int | None:
    """The longest prompt the checkpoint takes: a GGUF's context length; sentence-transformers' max_seq_length (what
    it embeds, often less than the encoder's positions); else the model's positions, stretched by RoPE scaling."""
    if engine == "llamacpp":
        from genserve.engines.gguf_info import gguf_context_length

        return gguf_context_length(path if path.is_file() else next(path.glob("*.gguf")))
    if not path.is_dir():
        return None  # a hub id: limits are left to a catalog file
    sentence = path / "sentence_bert_config.json"
    if sentence.is_file() and "max_seq_length" in (st := json.loads(sentence.read_text())):
        return int(st["max_seq_length"])
    if not (path / "config.json").is_file():
        return None
    config = json.loads((path / "config.json").read_text())
    config = config.get("text_config") or config
    positions = config.get("max_position_embeddings")
    if not positions:
        return None
    rope = config.get("rope_parameters") or config.get("rope_scaling") or {}
    stretch = rope.get("factor", 1) if rope.get("rope_type", rope.get("type")) in _STRETCHING_ROPE else 1
    return int(positions * stretch)


def _chat_template(path: str) -> str:
    local = Path(path)
    if not local.is_dir():
        return ""  # a hub id: capabilities are left to a catalog file
    if (local / "chat_template.jinja").is_file():
        return (local / "chat_template.jinja").read_text()
    for name in ("tokenizer_config.json", "processor_config.json"):
        if (local / name).is_file():
            template = json.loads((local / name).read_text()).get("chat_template") or ""
            if template:
                return template if isinstance(template, str) else json.dumps(template)
    return ""
