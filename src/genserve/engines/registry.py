"""Engine name -> implementing class, imported only when a catalog entry uses it (no torch at start-up)."""

from __future__ import annotations

import importlib
from typing import Any

from genserve.errors import Unavailable

_ENGINES: dict[str, tuple[str, str]] = {
    # name: (module:Class, the extra that installs its dependencies)
    "transformers": ("genserve.engines.hf_transformers:TransformersTextEngine", "text"),
    "transformers-embedding": ("genserve.engines.hf_embedding:TransformersEmbeddingEngine", "text"),
    "transformers-vision": ("genserve.engines.hf_vision:TransformersVisionEngine", "text"),
    "scripted": ("genserve.engines.scripted:ScriptedTextEngine", ""),
    "llamacpp": ("genserve.engines.llamacpp:LlamaCppTextEngine", "llamacpp"),
    "diffusers": ("genserve.engines.hf_diffusers_image:DiffusersImageEngine", "image"),
    "diffusers-video": ("genserve.engines.hf_diffusers_video:DiffusersVideoEngine", "video"),
    "diffusers-audio": ("genserve.engines.hf_audio:DiffusersAudioEngine", "video"),
}


def engine_class(name: str) -> Any:
    spec, extra = _ENGINES[name]
    module_name, _, class_name = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise Unavailable(
            f"The '{name}' engine needs packages that are not installed ({exc.name}): pip install 'genserve[{extra}]'"
        ) from exc
    return getattr(module, class_name)
