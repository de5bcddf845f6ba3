"""Which checkpoints the demo writes, where, and the build that writes them all."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Collection
from pathlib import Path

from genserve.demo.image import build_sd_pipeline
from genserve.demo.text import CHAT_TEMPLATE, build_chat_model, build_embedding_model, build_tokenizer
from genserve.demo.video import build_ltx_pipeline, build_stable_audio_pipeline
from genserve.demo.vision import build_vlm

# Bump when a checkpoint changes: an existing demo directory of an older version is rebuilt.
DEMO_VERSION = "4"
CHAT_DIR, VISION_DIR, EMBEDDING_DIR, IMAGE_DIR = "chat", "vision", "embedding", "image"
VIDEO_DIR, AUDIO_DIR = "video", "audio"


# The demo's parts and what each needs installed (the extra of the same name brings it): an install without an extra
# serves the demo without that part, and one without any extra an empty demo.
PARTS: dict[str, tuple[str, ...]] = {
    "text": ("torch", "transformers", "tokenizers", "PIL", "llguidance"),
    "image": ("torch", "transformers", "diffusers", "PIL", "c2pa", "pywt"),
    "video": ("torch", "transformers", "diffusers", "PIL", "c2pa", "pywt", "av", "ftfy"),
}


def installed_parts() -> frozenset[str]:
    return frozenset(part for part, needs in PARTS.items() if all(importlib.util.find_spec(m) for m in needs))


def write_demo_models(target: Path, parts: Collection[str] | None = None) -> Path:
    """Build the demo checkpoints of `parts` (default: every installed part) into `target`, unless this version of
    them is already there."""
    wanted = installed_parts() if parts is None else frozenset(parts)
    marker = target / "genserve-demo.json"
    built: set[str] = set()
    if marker.exists():
        written = json.loads(marker.read_text())
        if written.get("version") == DEMO_VERSION:
            built = set(written.get("parts", PARTS))
    missing = wanted - built
    if not missing:
        return target
    target.mkdir(parents=True, exist_ok=True)
    if "text" in missing:
        tokenizer = build_tokenizer()
        build_chat_model(target / CHAT_DIR, tokenizer)
        build_vlm(target / VISION_DIR, tokenizer, CHAT_TEMPLATE)
        build_embedding_model(target / EMBEDDING_DIR, tokenizer)
    if "image" in missing:
        build_sd_pipeline(target / IMAGE_DIR)
    if "video" in missing:
        build_ltx_pipeline(target / VIDEO_DIR)
        build_stable_audio_pipeline(target / AUDIO_DIR)
    marker.write_text(json.dumps({"version": DEMO_VERSION, "parts": sorted(built | wanted)}))
    return target
