"""Validated video requests: what a video engine is asked to render, and what an audio engine adds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class VideoRequest:
    """One video pipeline call. The service sizes it: `width`/`height` are multiples of the engine's
    `size_multiple`, `num_frames` a count the family accepts (`engine.frame_count`)."""

    prompt: str
    width: int
    height: int
    num_frames: int
    fps: int = 24
    count: int = 1  # videos from one call (num_videos_per_prompt)
    negative_prompt: str | None = None
    guidance_scale: float | None = None  # None: the engine's default
    # Video i of the batch uses seed + i, so each is distinct and reproducible on its own.
    seed: int | None = None
    steps: int | None = None  # None: the engine's default (catalog option `steps`)
    image: Any = None  # PIL RGB: the first frame (image-to-video)
    last_frame: Any = None  # PIL RGB: the last frame, for families that condition on it


@dataclass(frozen=True)
class AudioRequest:
    """A soundtrack: dialogue, sound effects and ambience described in the prompt, `seconds` long."""

    prompt: str
    seconds: float
    negative_prompt: str | None = None
    seed: int | None = None
    steps: int | None = None
