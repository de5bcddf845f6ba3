"""What a GGUF file says about itself, read with the `gguf` library (the llamacpp extra brings it)."""

from __future__ import annotations

from pathlib import Path


def gguf_context_length(path: Path) -> int | None:
    """The context the model was trained with (`<architecture>.context_length`), or None without `gguf`."""
    try:
        from gguf import GGUFReader
    except ImportError:
        return None
    reader = GGUFReader(str(path))
    for key, field in reader.fields.items():
        if key.endswith(".context_length"):
            return int(field.parts[field.data[0]][0])
    return None
