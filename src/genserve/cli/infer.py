"""Which engine serves a checkpoint, judged from its files (for `serve --model NAME=PATH`)."""

from __future__ import annotations

import json
from pathlib import Path

_ENCODER_SUFFIXES = ("Model", "ForMaskedLM")


def infer_engine(path: str) -> str:
    local = Path(path)
    # A GGUF file, or a directory with exactly one, is served by llama.cpp.
    if (local.is_file() and local.suffix == ".gguf") or (local.is_dir() and len(list(local.glob("*.gguf"))) == 1):
        return "llamacpp"
    if local.is_dir():
        files = {p.name for p in local.iterdir()}
        config = json.loads((local / "config.json").read_text()) if "config.json" in files else None
        st_modules = "modules.json" in files
    else:  # a hub id: read its config (from the local cache when offline)
        from huggingface_hub import hf_hub_download

        config = json.loads(Path(hf_hub_download(path, "config.json")).read_text())
        st_modules = False
    if config is None:
        raise SystemExit(f"{path}: no config.json; cannot tell which engine serves it")
    architectures = config.get("architectures") or []
    if st_modules or any(a.endswith(_ENCODER_SUFFIXES) and "CausalLM" not in a for a in architectures):
        return "transformers-embedding"
    if any(a.endswith("ForCausalLM") for a in architectures):
        return "transformers"
    raise SystemExit(f"{path}: architectures {architectures} are not served by any installed engine")
