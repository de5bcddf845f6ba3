"""Validated image requests: what an image engine is asked to draw, and the images it hands back."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from genserve.core.safety import PersonGeneration


class ImageTask(str, enum.Enum):
    GENERATE = "generate"  # text to image
    EDIT = "edit"  # an instruction applied to `image` (instruction-edit pipeline, else image-to-image)
    INPAINT = "inpaint"  # repaint where `mask` is white, keep the rest (also outpainting: pad + mask)
    UPSCALE = "upscale"  # `image` enlarged, then redrawn at low strength to add detail (image-to-image)


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


@dataclass(frozen=True)
class ImageOutput:
    """How generated images are encoded: PNG, or JPEG at `quality` (0-100)."""

    mime_type: str = "image/png"
    quality: int | None = None


@dataclass(frozen=True)
class GenerateImagesRequest:
    """An Imagen call (generate_images, edit_image) in domain terms; validated by convert/predict.py."""

    model: str
    prompt: str
    count: int
    aspect_ratio: str = "1:1"
    image_size: str = "1K"
    person_generation: PersonGeneration | None = PersonGeneration.ALLOW_ADULT
    output: ImageOutput = ImageOutput()
    negative_prompt: str | None = None
    guidance_scale: float | None = None
    seed: int | None = None
    include_rai_reason: bool = False
    task: ImageTask = ImageTask.GENERATE
    image: Any = None  # edits: the decoded source picture (PIL RGB)
    mask: Any = None  # INPAINT: PIL "L", the size of `image`
    upscale_factor: int = 1  # UPSCALE: 2 or 4
    strength: float | None = None  # UPSCALE: how far the redraw may move from the enlarged image


@dataclass(frozen=True)
class GeneratedImage:
    """One prediction: an encoded image carrying provenance, or the reason it was filtered."""

    mime_type: str | None = None
    data: bytes | None = None
    rai_filtered_reason: str | None = None
