"""Validated video requests: what a video engine is asked to render, and what an audio engine adds."""

from __future__ import annotations

from dataclasses import asdict, dataclass
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


@dataclass(frozen=True)
class InputImage:
    mime_type: str
    data_b64: str  # standard base64, as stored with the operation


@dataclass(frozen=True)
class GenerateVideosRequest:
    """A Veo call in domain terms, validated by convert/video.py and stored as the operation's request."""

    prompt: str
    count: int
    aspect_ratio: str
    resolution: str
    duration_s: int
    generate_audio: bool
    negative_prompt: str | None = None
    seed: int | None = None
    person_generation: str | None = None
    image: InputImage | None = None
    last_frame: InputImage | None = None
    reference_images: tuple[InputImage, ...] = ()
    # How results are returned: Vertex answers with the video bytes inline, the Developer API with file URIs.
    vertex: bool = False
    api_version: str = "v1beta"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GenerateVideosRequest:
        def image(value: Any) -> InputImage | None:
            return InputImage(**value) if value else None

        refs = tuple(InputImage(**r) for r in data.get("reference_images", ()))
        fields = {**data, "image": image(data.get("image")), "last_frame": image(data.get("last_frame"))}
        return cls(**{**fields, "reference_images": refs})
