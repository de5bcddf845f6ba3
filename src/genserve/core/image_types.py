"""Validated image requests: what an image engine is asked to draw, and the images it hands back."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class ImageTask(str, enum.Enum):
    GENERATE = "generate"  # text to image
    EDIT = "edit"  # an instruction applied to `image` (instruction-edit pipeline, else image-to-image)
    INPAINT = "inpaint"  # repaint where `mask` is white, keep the rest (also outpainting: pad + mask)


@dataclass(frozen=True)
class ImageRequest:
    """One pipeline call. Sizes are already snapped to the engine's `size_multiple` by the service."""

    prompt: str
    width: int
    height: int
    count: int = 1
    task: ImageTask = ImageTask.GENERATE
    negative_prompt: str | None = None
    guidance_scale: float | None = None  # None: the engine's default
    # Image i of the batch uses seed + i, so every image is distinct and each is reproducible on its own.
    seed: int | None = None
    steps: int | None = None  # None: the engine's default (catalog option `steps`)
    image: Any = None  # PIL RGB image: the picture to edit or inpaint
    mask: Any = None  # PIL "L" image the size of `image`: white = repaint
    strength: float | None = None  # image-to-image and inpainting: how far from `image` (0..1)
