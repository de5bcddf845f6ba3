"""Image generation, editing and inpainting with a diffusers pipeline, one batched call per request."""

from __future__ import annotations

import inspect
import math
import secrets
import threading
from dataclasses import dataclass
from typing import Any

import torch
from diffusers import AutoPipelineForImage2Image, AutoPipelineForInpainting
from PIL import Image

from genserve.core.image_types import ImageRequest, ImageTask
from genserve.engines.base import StepCallback
from genserve.engines.diffusers_common import PipelineEngine, run_cancellable
from genserve.errors import Cancelled, InvalidArgument


@dataclass(frozen=True)
class Family:
    """What a pipeline class can do and needs, looked up once from the loaded pipeline."""

    name: str
    steps: int = 30  # the family's usual number of denoising steps
    latent_patch: int = 1  # 2 where the pipeline packs 2x2 latent patches into tokens (sizes: VAE factor x 2)
    instruction_edit: bool = False  # EDIT runs the pipeline itself on the image and the instruction
    text_to_image: bool = True  # False for a pipeline that can only edit a given image
    derive_variants: bool = True  # image-to-image and inpainting variants come from `from_pipe`


# By pipeline class name prefix, most specific first.
FAMILIES: tuple[tuple[str, Family], ...] = (
    (
        "StableDiffusionInstructPix2Pix",
        Family("InstructPix2Pix", steps=20, instruction_edit=True, text_to_image=False, derive_variants=False),
    ),
    ("FluxKontext", Family("FLUX.1 Kontext", steps=28, latent_patch=2, instruction_edit=True, derive_variants=False)),
    ("Flux", Family("FLUX.1", steps=28, latent_patch=2)),
    ("StableDiffusion3", Family("Stable Diffusion 3", steps=28, latent_patch=2)),
    ("StableDiffusionXL", Family("Stable Diffusion XL")),
    ("StableDiffusion", Family("Stable Diffusion")),
)
TASK_WORDS = {
    ImageTask.GENERATE: "generate images from text",
    ImageTask.EDIT: "edit an image",
    ImageTask.INPAINT: "inpaint under a mask",
    ImageTask.UPSCALE: "upscale an image",
}


def family_of(pipe: Any) -> Family:
    name = type(pipe).__name__
    return next((family for prefix, family in FAMILIES if name.startswith(prefix)), Family(name))


def size_multiple_of(pipe: Any, family: Family) -> int:
    return int(getattr(pipe, "vae_scale_factor", 8)) * family.latent_patch


class DiffusersImageEngine(PipelineEngine):
    def __init__(self, path: str, options: dict[str, Any]) -> None:
        super().__init__(path, options, "image")
        self.family = family_of(self.pipe)
        self.size_multiple = size_multiple_of(self.pipe, self.family)
        vae = getattr(self.pipe, "vae", None)
        if options.get("vae_slicing", self.device == "cpu") and vae is not None and hasattr(vae, "enable_slicing"):
            # Decode a batch one image at a time: on a CPU a batched VAE decode was slower than separate ones
            # (and it needs batch-size times the memory).
            vae.enable_slicing()
        self._pipelines = _task_pipelines(self.pipe, self.family)
        for pipe in self._pipelines.values():
            pipe.set_progress_bar_config(disable=True)
        self.tasks = frozenset(self._pipelines)
        self.steps = int(options.get("steps", self.family.steps))
        self.guidance_scale = _float_or_none(options.get("guidance_scale"))  # None: the pipeline's own default
        self.strength = float(options.get("strength", 0.75))  # image-to-image: keep a quarter of the picture
        self.inpaint_strength = float(options.get("inpaint_strength", 1.0))  # repaint the masked area fully
        self.image_guidance_scale = _float_or_none(options.get("image_guidance_scale"))  # InstructPix2Pix

    async def generate(self, request: ImageRequest, on_step: StepCallback | None = None) -> list[Any]:
        pipe = self._pipeline_for(request)
        return await run_cancellable(self._executor, lambda cancel: self._run(pipe, request, on_step, cancel))

    def _pipeline_for(self, request: ImageRequest) -> Any:
        pipe = self._pipelines.get(request.task)
        if pipe is None:
            can = " and ".join(TASK_WORDS[t] for t in ImageTask if t in self.tasks)
            raise InvalidArgument(
                f"This model ({self.family.name}) cannot {TASK_WORDS[request.task]}: it can only {can}."
            )
        if request.task is not ImageTask.GENERATE and request.image is None:
            raise InvalidArgument(f"To {TASK_WORDS[request.task]} the request must include the image.")
        if request.task is ImageTask.INPAINT and request.mask is None:
            raise InvalidArgument("To inpaint the request must include a mask (white where the image is repainted).")
        return pipe

    def _run(self, pipe: Any, request: ImageRequest, on_step: StepCallback | None, cancel: threading.Event) -> list:
        if cancel.is_set():
            raise Cancelled("Image generation was cancelled.")
        kwargs = self._call_arguments(pipe, request)

        def step_end(running: Any, step: int, timestep: Any, tensors: dict) -> dict:
            if on_step is not None:
                on_step(step + 1, int(getattr(running, "_num_timesteps", kwargs["num_inference_steps"])))
            if cancel.is_set():
                # Raising leaves the pipeline at once (no final VAE decode) and leaves no flag behind on the
                # shared pipeline object, so the next call starts clean.
                raise Cancelled("Image generation was cancelled.")
            return tensors

        kwargs["callback_on_step_end"] = step_end
        images = pipe(**kwargs).images
        return self._finish(images, request)

    def _call_arguments(self, pipe: Any, request: ImageRequest) -> dict[str, Any]:
        size = (request.width, request.height)
        seed = request.seed if request.seed is not None else secrets.randbits(31)
        steps = request.steps or self.steps
        inpaint = request.task is ImageTask.INPAINT
        strength = request.strength
        if strength is None:
            strength = self.inpaint_strength if inpaint else self.strength
        blends = inpaint or request.task is ImageTask.UPSCALE
        blends = blends or (request.task is ImageTask.EDIT and not self.family.instruction_edit)
        if blends and strength > 0:
            # The pipeline runs int(steps * strength) steps; keep at least one so a low strength still works.
            steps = max(steps, math.ceil(1 / strength))
        arguments = {
            "prompt": request.prompt,
            "negative_prompt": request.negative_prompt,
            "num_images_per_prompt": request.count,
            # CPU generators: a seed draws the same starting noise on any device. Image i uses seed + i.
            "generator": [torch.Generator("cpu").manual_seed(seed + i) for i in range(request.count)],
            "num_inference_steps": steps,
            "guidance_scale": request.guidance_scale if request.guidance_scale is not None else self.guidance_scale,
            # Always given: some pipelines default to their training size, not the input image's.
            "width": request.width,
            "height": request.height,
            "max_area": request.width * request.height,  # Kontext otherwise scales every output to one megapixel
            # One copy per output image: pipelines that repeat a single image to the batch size warn that
            # they will stop doing so.
            "image": None if request.task is ImageTask.GENERATE else _copies(request.image, size, "RGB", request.count),
            "mask_image": _copies(request.mask, size, "L", request.count) if inpaint else None,
            "strength": strength if blends else None,
            "image_guidance_scale": self.image_guidance_scale,
            "output_type": "pil",
        }
        accepted = inspect.signature(pipe.__call__).parameters
        return {key: value for key, value in arguments.items() if value is not None and key in accepted}

    def _finish(self, images: list, request: ImageRequest) -> list:
        size = (request.width, request.height)
        out = [_fit(image, size, "RGB") for image in images]
        if request.task is ImageTask.INPAINT:
            # The pipeline re-encodes the whole picture, so even unmasked pixels drift through the VAE; paste
            # the original back outside the mask, as users of inpainting expect.
            original, mask = _fit(request.image, size, "RGB"), _fit(request.mask, size, "L")
            out = [Image.composite(image, original, mask) for image in out]
        return out


def _task_pipelines(base: Any, family: Family) -> dict[ImageTask, Any]:
    pipelines: dict[ImageTask, Any] = {}
    if family.text_to_image:
        pipelines[ImageTask.GENERATE] = base
    if family.instruction_edit:
        pipelines[ImageTask.EDIT] = base
    if family.derive_variants:
        # from_pipe shares every weight with the base pipeline: the variants cost no memory.
        variants = {ImageTask.EDIT: AutoPipelineForImage2Image, ImageTask.INPAINT: AutoPipelineForInpainting}
        for task, auto in variants.items():
            try:
                pipelines[task] = auto.from_pipe(base)
            except ValueError:  # the family has no such variant
                pass
        if ImageTask.EDIT in pipelines and not family.instruction_edit:
            # Upscaling redraws an enlarged picture at low strength: the image-to-image variant's job.
            pipelines[ImageTask.UPSCALE] = pipelines[ImageTask.EDIT]
    return pipelines


def _copies(image: Any, size: tuple[int, int], mode: str, count: int) -> list[Image.Image] | None:
    return None if image is None else [_fit(image, size, mode)] * count


def _fit(image: Any, size: tuple[int, int], mode: str) -> Image.Image:
    image = image if image.mode == mode else image.convert(mode)
    return image if image.size == size else image.resize(size, Image.Resampling.LANCZOS)


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)
