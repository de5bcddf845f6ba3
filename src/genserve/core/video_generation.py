"""generate_videos as a long-running job: render frames, add a soundtrack, encode MP4, sign, store as a file."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Callable
from typing import Any

from genserve.core.catalog import Catalog, ModelEntry
from genserve.core.files import FilesService
from genserve.core.leases import EngineProvider
from genserve.core.operation_types import OperationRecord, Progress
from genserve.core.safety import PersonGeneration, SafetyPolicy
from genserve.core.video_types import AudioRequest, GenerateVideosRequest, InputImage, VideoRequest
from genserve.media.aspect import snap, video_size
from genserve.media.images import decode_image, fit

log = logging.getLogger(__name__)

KIND = "generateVideos"
FPS = 24


class VideoService:
    def __init__(
        self,
        engines: EngineProvider,
        files: FilesService,
        catalog: Catalog,
        stamper: Callable[[], Any],
        safety: SafetyPolicy,
        retention_hours: float,
    ) -> None:
        self._engines = engines
        self._files = files
        self._catalog = catalog
        self._stamper = stamper
        self._safety = safety
        self.retention_hours = retention_hours

    async def run(self, operation: OperationRecord, progress: Progress) -> dict[str, Any]:
        """The job handler: the result lists the generated files (or why the prompt was filtered)."""
        request = GenerateVideosRequest.from_json(operation.request)
        entry = self._catalog.get(operation.model)
        person = PersonGeneration(request.person_generation) if request.person_generation else None
        verdict = self._safety.check(request.prompt, person or PersonGeneration.ALLOW_ADULT)
        if verdict is not None:
            log.info("video prompt for %s blocked: %s", operation.model, verdict.message)
            return {"files": [], "filtered": [verdict.message]}
        width, height = video_size(request.resolution, request.aspect_ratio, entry.video_scale)
        frames = request.duration_s * FPS
        videos = await self._render(entry, request, width, height, frames, progress)
        track = await self._soundtrack(entry, request) if request.generate_audio else None
        stamper = self._stamper()
        ids = []
        for clip in videos:
            data = await asyncio.to_thread(_encode, clip, track, stamper, operation.model)
            record = await self._files.save_generated(
                operation.owner,
                data,
                mime_type="video/mp4",
                display_name=f"{operation.model} video",
                ttl_hours=self.retention_hours,
                video_duration_s=request.duration_s,
                version=request.api_version,
            )
            ids.append(record.id)
        return {"files": ids, "filtered": []}

    async def _render(
        self,
        entry: ModelEntry,
        request: GenerateVideosRequest,
        width: int,
        height: int,
        frames: int,
        progress: Progress,
    ) -> list[list[Any]]:
        async with self._engines.lease(entry) as engine:
            multiple = engine.size_multiple
            job = VideoRequest(
                prompt=request.prompt,
                width=snap(width, multiple),
                height=snap(height, multiple),
                num_frames=engine.frame_count(frames),
                fps=FPS,
                count=request.count,
                negative_prompt=request.negative_prompt,
                seed=request.seed,
                image=await _picture(request.image),
                last_frame=await _picture(request.last_frame),
            )
            videos = await engine.generate(job, on_step=progress)
        # The family's frame rule can ask for a few frames more, and its size rule for a few pixels more: the
        # clip is cut to the requested duration and resized to the requested size.
        return [[fit(frame, width, height) for frame in clip[:frames]] for clip in videos]

    async def _soundtrack(self, entry: ModelEntry, request: GenerateVideosRequest) -> tuple[Any, int]:
        audio_entry = self._catalog.get(entry.audio_model or "")
        async with self._engines.lease(audio_entry) as engine:
            samples = await engine.generate(
                AudioRequest(request.prompt, float(request.duration_s), request.negative_prompt, request.seed)
            )
            return samples, engine.sample_rate


async def _picture(image: InputImage | None) -> Any:
    if image is None:
        return None
    return await asyncio.to_thread(decode_image, base64.b64decode(image.data_b64), image.mime_type, "image")


def _encode(clip: list[Any], track: tuple[Any, int] | None, stamper: Any, model: str) -> bytes:
    samples, rate = track if track is not None else (None, None)
    return stamper.stamp_video(clip, FPS, samples, rate, model=model)


def result_files(files: FilesService, operation: OperationRecord) -> list[Any]:
    """The operation's videos that still exist (generated files expire after the retention period)."""
    records = []
    for file_id in (operation.result or {}).get("files", []):
        try:
            records.append(files.get(operation.owner, file_id))
        except Exception:  # expired or deleted: the operation still reports how many were made
            log.info("video file %s of %s is gone", file_id, operation.name)
    return records
