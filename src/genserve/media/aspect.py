"""Aspect ratios and output sizes: Imagen's documented sizes, scaled per model and snapped to the pipeline."""

from __future__ import annotations

from genserve.errors import InvalidArgument

# Imagen's output sizes at sampleImageSize 1K (width, height); 2K doubles them.
IMAGEN_SIZES: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024),
    "3:4": (896, 1280),
    "4:3": (1280, 896),
    "9:16": (768, 1408),
    "16:9": (1408, 768),
}
IMAGE_SIZE_FACTORS = {"1K": 1, "2K": 2}


def snap(value: float, multiple: int) -> int:
    """The nearest positive multiple of `multiple` (pipelines need latents that divide evenly)."""
    return max(multiple, int(round(value / multiple)) * multiple)


def output_size(aspect_ratio: str, image_size: str, scale: float, multiple: int, where: str) -> tuple[int, int]:
    """(width, height) for a documented aspect ratio and size, scaled by the model's `image_scale`."""
    if aspect_ratio not in IMAGEN_SIZES:
        raise InvalidArgument(
            f"{where}.aspectRatio: '{aspect_ratio}' is not supported; use one of {', '.join(IMAGEN_SIZES)}"
        )
    width, height = IMAGEN_SIZES[aspect_ratio]
    factor = IMAGE_SIZE_FACTORS[image_size] * scale
    return snap(width * factor, multiple), snap(height * factor, multiple)


def size_like(width: int, height: int, longest: int, multiple: int) -> tuple[int, int]:
    """An output size with the input image's aspect ratio, its longer side near `longest` (edits)."""
    ratio = longest / max(width, height)
    return snap(width * ratio, multiple), snap(height * ratio, multiple)


# Veo's output sizes (width, height) per resolution and aspect ratio.
VEO_SIZES: dict[str, dict[str, tuple[int, int]]] = {
    "720p": {"16:9": (1280, 720), "9:16": (720, 1280)},
    "1080p": {"16:9": (1920, 1080), "9:16": (1080, 1920)},
}


def video_size(resolution: str, aspect_ratio: str, scale: float) -> tuple[int, int]:
    """Veo's size for the resolution and ratio times the model's `video_scale`, rounded to even numbers
    (H.264 in yuv420p needs them). The pipeline renders at a multiple of its own and frames are resized."""
    width, height = VEO_SIZES[resolution][aspect_ratio]
    return snap(width * scale, 2), snap(height * scale, 2)
