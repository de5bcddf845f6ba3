"""Video generation with a diffusers pipeline (LTX-Video, Wan, CogVideoX), one batched call per request."""

from __future__ import annotations

import enum
import inspect
import secrets
import threading
from dataclasses import dataclass
from typing import Any

import diffusers
import torch
from PIL import Image

from genserve.core.video_types import VideoRequest
from genserve.engines.base import StepCallback
from genserve.engines.diffusers_common import PipelineEngine, run_cancellable
from genserve.errors import Cancelled, InvalidArgument


class Mode(enum.Enum):
    TEXT = "generate video from text"
    IMAGE = "animate an image"
    FIRST_LAST = "animate between a first and a last frame"


@dataclass(frozen=True)
class Family:
    """A video pipeline family: the pipeline class behind each mode and how it takes its frames."""

    name: str
    text: str  # text-to-video pipeline class
    image: str  # image-to-video (first frame) pipeline class
    first_last: str | None = None  # pipeline class that conditions on a first and a last frame
    steps: int = 50  # the family's usual number of denoising steps
    # Every checkpoint of the family does text and image alike (one transformer); otherwise an image-to-video
    # checkpoint is recognised by a transformer reading more channels than the VAE's latents (the image's).
    shared_weights: bool = False
    one_image_per_batch: bool = False  # the pipeline repeats one image to the batch (copies would multiply it)
    frame_index_keys: bool = False  # first and last frame go in as a list of images at frame indices
    # The first-and-last pipeline passes its own sigma schedule, which a scheduler set up for dynamic
    # shifting rejects ("mu must be passed"): it gets a copy with the shift fixed.
    first_last_static_shift: bool = False
    # A transformer setting only checkpoints trained on first and last frames have. Wan FLF2V embeds both
    # images' features as one sequence: a plain I2V transformer fails on two, an FLF2V one on a single image.
    first_last_marker: str | None = None
    # The pipeline makes one video per prompt (CogVideoX ignores num_videos_per_prompt) or repeats its image
    # features per prompt (Wan 2.1 I2V fails on more videos): a batch is one copy of the prompt per video.
    prompt_per_video: bool = False


# By pipeline class name prefix.
FAMILIES: tuple[tuple[str, Family], ...] = (
    (
        "LTX",
        Family(
            "LTX-Video",
            text="LTXPipeline",
            image="LTXImageToVideoPipeline",
            first_last="LTXConditionPipeline",
            shared_weights=True,
            frame_index_keys=True,
            first_last_static_shift=True,
        ),
    ),
    (
        "Wan",
        Family(
            "Wan",
            text="WanPipeline",
            image="WanImageToVideoPipeline",
            first_last="WanImageToVideoPipeline",
            one_image_per_batch=True,
            first_last_marker="pos_embed_seq_len",
            prompt_per_video=True,
        ),
    ),
    (
        "CogVideoX",
        Family("CogVideoX", text="CogVideoXPipeline", image="CogVideoXImageToVideoPipeline", prompt_per_video=True),
    ),
)


def family_of(pipe: Any) -> Family:
    name = type(pipe).__name__
    for prefix, family in FAMILIES:
        if name.startswith(prefix):
            return family
    known = ", ".join(family.name for _, family in FAMILIES)
    raise ValueError(f"{name} is not a video pipeline this engine knows ({known})")


def size_multiple_of(pipe: Any) -> int:
    """The VAE's spatial compression times the transformer's spatial patch."""
    spatial = getattr(pipe, "vae_spatial_compression_ratio", None) or pipe.vae_scale_factor_spatial
    patch = pipe.transformer.config.patch_size
    return int(spatial) * int(patch[-1] if isinstance(patch, (list, tuple)) else patch or 1)


def temporal_factor_of(pipe: Any) -> int:
    """Frames per latent frame: counts are factor * k + 1 (the first frame has a latent of its own)."""
    return int(getattr(pipe, "vae_temporal_compression_ratio", None) or pipe.vae_scale_factor_temporal)


class DiffusersVideoEngine(PipelineEngine):
    def __init__(self, path: str, options: dict[str, Any]) -> None:
        super().__init__(path, options, "video")
        self.family = family_of(self.pipe)
        self.size_multiple = size_multiple_of(self.pipe)
        self._temporal = temporal_factor_of(self.pipe)
        self._pipelines = _mode_pipelines(self.pipe, self.family)
        for pipe in self._pipelines.values():
            pipe.set_progress_bar_config(disable=True)
        # A first-and-last-frame checkpoint takes a first frame too, but only with a last one (it says so).
        self.image_to_video = Mode.IMAGE in self._pipelines or Mode.FIRST_LAST in self._pipelines
        self.last_frame = Mode.FIRST_LAST in self._pipelines
        self.steps = int(options.get("steps", self.family.steps))
        guidance = options.get("guidance_scale")
        self.guidance_scale = None if guidance is None else float(guidance)  # None: the pipeline's default

    def frame_count(self, frames: int) -> int:
        latent_steps = max(0, -(-(frames - 1) // self._temporal))  # ceiling division
        return self._temporal * latent_steps + 1

    async def generate(self, request: VideoRequest, on_step: StepCallback | None = None) -> list[list[Any]]:
        mode = self._mode_for(request)
        return await run_cancellable(self._executor, lambda cancel: self._run(mode, request, on_step, cancel))

    def _mode_for(self, request: VideoRequest) -> Mode:
        if request.last_frame is not None and request.image is None:
            raise InvalidArgument("A last frame can only be given together with the first frame (image).")
        mode = Mode.TEXT if request.image is None else Mode.IMAGE
        mode = Mode.FIRST_LAST if request.last_frame is not None else mode
        if mode not in self._pipelines:
            can = " and ".join(m.value for m in Mode if m in self._pipelines)
            raise InvalidArgument(f"This model ({self.family.name}) cannot {mode.value}: it can only {can}.")
        multiple = self.size_multiple
        if request.width % multiple or request.height % multiple or request.width <= 0 or request.height <= 0:
            raise InvalidArgument(f"Video width and height must be positive multiples of {multiple}.")
        if request.num_frames != self.frame_count(request.num_frames):
            raise InvalidArgument(f"This model generates {self._temporal}k+1 frames, not {request.num_frames}.")
        return mode

    def _run(self, mode: Mode, request: VideoRequest, on_step: StepCallback | None, cancel: threading.Event) -> list:
        if cancel.is_set():
            raise Cancelled("Video generation was cancelled.")
        pipe = self._pipelines[mode]
        kwargs = self._call_arguments(pipe, mode, request)

        def step_end(running: Any, step: int, timestep: Any, tensors: dict) -> dict:
            if on_step is not None:
                on_step(step + 1, int(getattr(running, "_num_timesteps", None) or kwargs["num_inference_steps"]))
            if cancel.is_set():
                # Raising leaves the pipeline at once (no VAE decode, the costly part of a video) and leaves
                # no flag behind on the shared pipeline object, so the next call starts clean.
                raise Cancelled("Video generation was cancelled.")
            return tensors

        kwargs["callback_on_step_end"] = step_end
        videos = pipe(**kwargs).frames
        return [_finish(video, request) for video in videos]

    def _call_arguments(self, pipe: Any, mode: Mode, request: VideoRequest) -> dict[str, Any]:
        seed = request.seed if request.seed is not None else secrets.randbits(31)
        per_video = self.family.prompt_per_video
        steps = request.steps or self.steps
        if steps < 2 and pipe.scheduler.config.get("shift_terminal"):
            steps = 2  # a schedule stretched to a terminal shift divides by zero with a single step
        arguments = {
            "prompt": [request.prompt] * request.count if per_video else request.prompt,
            "negative_prompt": request.negative_prompt,
            "num_videos_per_prompt": 1 if per_video else request.count,
            # CPU generators: a seed draws the same starting noise on any device. Video i uses seed + i.
            "generator": [torch.Generator("cpu").manual_seed(seed + i) for i in range(request.count)],
            "num_inference_steps": steps,
            "guidance_scale": request.guidance_scale if request.guidance_scale is not None else self.guidance_scale,
            # Always given: the defaults are the family's training size and length.
            "width": request.width,
            "height": request.height,
            "num_frames": request.num_frames,
            "frame_rate": request.fps,  # LTX conditions its rotary positions on the frame rate
            "output_type": "pil",
            **self._frame_arguments(mode, request),
        }
        accepted = inspect.signature(pipe.__call__).parameters
        return {key: value for key, value in arguments.items() if value is not None and key in accepted}

    def _frame_arguments(self, mode: Mode, request: VideoRequest) -> dict[str, Any]:
        if mode is Mode.TEXT:
            return {}
        size = (request.width, request.height)
        images = [_fit(request.image, size)]
        if mode is Mode.FIRST_LAST:
            images.append(_fit(request.last_frame, size))
        if self.family.frame_index_keys:
            if mode is Mode.FIRST_LAST:
                return {"image": images, "frame_index": [0, request.num_frames - 1]}
            return {"image": images * request.count}  # one copy per video: image i is encoded with generator i
        arguments: dict[str, Any] = {"image": images[0], "last_image": images[1] if len(images) > 1 else None}
        if not self.family.one_image_per_batch:
            arguments["image"] = [images[0]] * request.count
        return arguments


def _mode_pipelines(base: Any, family: Family) -> dict[Mode, Any]:
    """The pipelines this checkpoint's weights can run, sharing every module with `base`."""
    pipelines: dict[Mode, Any] = {}
    for mode, class_name in _mode_classes(base, family).items():
        extra = {}
        dynamic = base.scheduler.config.get("use_dynamic_shifting")
        if mode is Mode.FIRST_LAST and family.first_last_static_shift and dynamic:
            extra["scheduler"] = type(base.scheduler).from_config(base.scheduler.config, use_dynamic_shifting=False)
        same = type(base).__name__ == class_name and not extra
        pipelines[mode] = base if same else _derive(base, getattr(diffusers, class_name), extra)
    return pipelines


def _mode_classes(base: Any, family: Family) -> dict[Mode, str]:
    transformer, vae = base.transformer.config, base.vae.config
    latent = vae.get("latent_channels") or vae.get("z_dim")
    # Wan 2.2 TI2V conditions on the image through its timesteps, not extra channels: one model does both.
    timestep_image = bool(base.config.get("expand_timesteps"))
    shared = family.shared_weights or timestep_image
    image_weights = shared or transformer.in_channels > latent
    marked = family.first_last_marker is not None and transformer.get(family.first_last_marker) is not None
    classes = {}
    if shared or transformer.in_channels == latent:
        classes[Mode.TEXT] = family.text
    if image_weights and not marked:
        classes[Mode.IMAGE] = family.image
    trained = family.first_last_marker is None or marked
    if image_weights and family.first_last and trained and not timestep_image:
        classes[Mode.FIRST_LAST] = family.first_last
    return classes


def _derive(base: Any, pipeline_class: type[Any], overrides: dict[str, Any]) -> Any:
    """`from_pipe` without its final cast of every shared module to one dtype (float32 unless told), which
    would turn bfloat16 weights back to float32 under the base pipeline, undo layers kept in float32, and
    fail on quantized weights."""
    arguments = {}
    for name in list(inspect.signature(pipeline_class.__init__).parameters)[1:]:
        if name in overrides:
            arguments[name] = overrides[name]
        elif name in base.components:
            arguments[name] = base.components[name]
        elif name in base.config:  # settings such as Wan's expand_timesteps
            arguments[name] = base.config[name]
    return pipeline_class(**arguments)


def _finish(video: list, request: VideoRequest) -> list[Image.Image]:
    size = (request.width, request.height)
    frames = [_fit(frame, size) for frame in video[: request.num_frames]]
    # A pipeline that rounds the count down would otherwise shorten the clip; hold the last frame instead.
    return frames + [frames[-1]] * (request.num_frames - len(frames))


def _fit(image: Any, size: tuple[int, int]) -> Image.Image:
    image = image if image.mode == "RGB" else image.convert("RGB")
    return image if image.size == size else image.resize(size, Image.Resampling.LANCZOS)
