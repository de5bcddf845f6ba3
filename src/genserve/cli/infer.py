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
    """Catalog capability fields for a transformers checkpoint, read from its chat template: tools when the
    template renders them, thinking when it has a reasoning switch. Grammar-constrained output works on any."""
    if engine == "diffusers":  # an Imagen-style model: Imagen's prompt limit
        return {"input_token_limit": 480, "output_token_limit": 1, "output_modalities": ["image"]}
    if engine not in ("transformers", "transformers-vision"):
        return {}
    template = _chat_template(path)
    caps: dict[str, Any] = {"structured_output": True, "function_calling": "tools" in template}
    if "enable_thinking" in template or "<think>" in template:
        caps["thinking"] = True
    if engine == "transformers-vision":
        caps["input_modalities"] = ["text", "image"]
    return caps


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
