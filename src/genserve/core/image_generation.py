"""generate_images and image rendering: runs image requests on their engine and stamps every image."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Protocol

from genserve.core.catalog import ModelEntry
from genserve.core.image_types import GeneratedImage, GenerateImagesRequest, ImageOutput, ImageRequest, ImageTask
from genserve.core.leases import EngineProvider
from genserve.core.safety import PersonGeneration, SafetyPolicy, Verdict
from genserve.core.types import ImageReply, Media
from genserve.errors import ApiError, InvalidArgument, ResourceExhausted
from genserve.media.aspect import IMAGEN_SIZES, output_size, size_like, snap
from genserve.media.images import decode_image

log = logging.getLogger(__name__)


class Stamper(Protocol):
    """Provenance: watermark, encode and sign one picture (genserve.provenance.Provenance)."""

    def stamp_image(self, image: Any, *, mime: str = ..., quality: int | None = ..., model: str = ...) -> bytes: ...


class ImageService:
    def __init__(self, engines: EngineProvider, stamper: Callable[[], Stamper], safety: SafetyPolicy) -> None:
        self._engines = engines
        self._stamper = stamper  # built on first use: its libraries load only when images are made
        self.safety = safety

    def screen(self, prompt: str, person_generation: PersonGeneration | None) -> Verdict | None:
        return self.safety.check(prompt, person_generation)

    async def generate_images(self, entry: ModelEntry, request: GenerateImagesRequest) -> list[GeneratedImage]:
        async with self._engines.lease(entry) as engine:
            await self.check_prompt(engine, entry, request.prompt, "instances[0].prompt")
            verdict = self.screen(request.prompt, request.person_generation)
            if verdict is not None:
                log.info("image prompt for %s blocked: %s", entry.name, verdict.message)
                # Imagen answers a blocked prompt with filtered predictions, reported only when asked for.
                return [GeneratedImage(rai_filtered_reason=verdict.message)] if request.include_rai_reason else []
            encoded = await self.render(engine, entry, self._job(engine, entry, request), request.output)
        return [GeneratedImage(request.output.mime_type, data) for data in encoded]

    def _job(self, engine: Any, entry: ModelEntry, request: GenerateImagesRequest) -> ImageRequest:
        if request.task is ImageTask.GENERATE:
            width, height = self.size_for(entry, engine, request.aspect_ratio, request.image_size)
            image, mask = None, None
        else:
            width, height, image, mask = self._edit_inputs(entry, engine, request)
        return ImageRequest(
            prompt=request.prompt,
            width=width,
            height=height,
            count=request.count,
            task=request.task,
            negative_prompt=request.negative_prompt,
            guidance_scale=request.guidance_scale,
            seed=request.seed,
            image=image,
            mask=mask,
            strength=request.strength,
        )

    async def check_prompt(self, engine: Any, entry: ModelEntry, prompt: str, where: str) -> None:
        tokens = await engine.count_tokens(prompt)
        if tokens > entry.input_token_limit:
            raise InvalidArgument(
                f"{where}: the prompt is {tokens} tokens long; model '{entry.name}' accepts at most "
                f"{entry.input_token_limit}. Shorten the prompt."
            )

    def size_for(self, entry: ModelEntry, engine: Any, aspect_ratio: str, image_size: str = "1K") -> tuple[int, int]:
        return output_size(aspect_ratio, image_size, entry.image_scale, engine.size_multiple, "parameters")

    def edit_size(self, entry: ModelEntry, engine: Any, image: Any, aspect_ratio: str | None) -> tuple[int, int]:
        """An edit keeps the source's aspect ratio unless one is asked for, at the model's 1K scale."""
        if aspect_ratio:
            return self.size_for(entry, engine, aspect_ratio)
        longest = max(IMAGEN_SIZES["1:1"]) * entry.image_scale
        return size_like(image.width, image.height, int(longest), engine.size_multiple)

    def _edit_inputs(self, entry: ModelEntry, engine: Any, request: GenerateImagesRequest) -> tuple:
        if request.task is ImageTask.UPSCALE:
            factor, multiple = request.upscale_factor, engine.size_multiple
            width, height = snap(request.image.width * factor, multiple), snap(request.image.height * factor, multiple)
        else:
            width, height = self.edit_size(entry, engine, request.image, None)
        return width, height, request.image, request.mask  # the engine fits them to the output size

    async def draw(
        self, entry: ModelEntry, prompt: str, reply: ImageReply, source: Media | None, seed: int | None
    ) -> bytes:
        """One image for a Gemini-native reply: drawn from `prompt`, or `source` edited by it."""
        async with self._engines.lease(entry) as engine:
            image, task = None, ImageTask.GENERATE
            if source is not None:
                picture = await asyncio.to_thread(decode_image, source.data, source.mime_type, "the image to edit")
                width, height = self.edit_size(entry, engine, picture, reply.aspect_ratio)
                image, task = picture, ImageTask.EDIT
            else:
                width, height = self.size_for(entry, engine, reply.aspect_ratio or "1:1", reply.image_size)
            job = ImageRequest(prompt=prompt, width=width, height=height, task=task, seed=seed, image=image)
            [data] = await self.render(engine, entry, job, ImageOutput())
        return data

    async def render(self, engine: Any, entry: ModelEntry, job: ImageRequest, output: ImageOutput) -> list[bytes]:
        """Run one pipeline call on a leased engine and return its images encoded, watermarked and signed."""
        if job.task not in engine.tasks:
            can = ", ".join(sorted(t.value for t in engine.tasks))
            raise InvalidArgument(f"model '{entry.name}' cannot {job.task.value} images; it can: {can}")
        try:
            pictures = await engine.generate(job)
        except ApiError:
            raise
        except MemoryError as exc:
            raise ResourceExhausted(f"Not enough memory to generate these images on '{entry.name}': {exc}") from exc
        except RuntimeError as exc:
            if "out of memory" in str(exc).lower():
                raise ResourceExhausted(f"Not enough memory to generate these images on '{entry.name}'.") from exc
            raise
        stamper = self._stamper()

        def stamp() -> list[bytes]:
            return [
                stamper.stamp_image(p, mime=output.mime_type, quality=output.quality, model=entry.name)
                for p in pictures
            ]

        return await asyncio.to_thread(stamp)
