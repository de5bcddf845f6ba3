"""Veo :predictLongRunning wire request -> domain GenerateVideosRequest; operations -> Operation resources."""

from __future__ import annotations

import base64

from genserve.convert.files import rfc3339
from genserve.convert.predict import decode_input_image, sample_count, sniff_image_mime, to_person_generation
from genserve.core.catalog import ModelEntry
from genserve.core.operation_types import OperationRecord, OperationState
from genserve.core.video_types import GenerateVideosRequest, InputImage
from genserve.errors import InvalidArgument
from genserve.schemas.operations import Operation, PredictLongRunningRequest, Status, VideoParameters
from genserve.schemas.predict import ImageBytes

FPS = 24  # every Veo model renders 24 frames a second
MAX_REFERENCE_IMAGES = 3
_P = "parameters"


def to_generate_videos_request(
    body: PredictLongRunningRequest, entry: ModelEntry, model: str, *, vertex: bool, api_version: str
) -> GenerateVideosRequest:
    if len(body.instances) != 1:
        raise InvalidArgument(f"instances: send exactly one instance (a prompt); got {len(body.instances)}")
    instance = body.instances[0]
    p = body.parameters or VideoParameters()
    _refuse_unsupported(instance, p, model)
    image = _input_image(instance.image, entry, model, "image", "instances[0].image")
    last = _input_image(instance.last_frame, entry, model, "lastFrame", "instances[0].lastFrame")
    if last is not None and image is None:
        raise InvalidArgument("instances[0].lastFrame: a last frame needs a first frame (instances[0].image) too")
    references = tuple(
        _input_image(r.image, entry, model, "referenceImages", f"instances[0].referenceImages[{i}].image")
        for i, r in enumerate(instance.reference_images or ())
    )
    if len(references) > MAX_REFERENCE_IMAGES:
        raise InvalidArgument(
            f"instances[0].referenceImages: at most {MAX_REFERENCE_IMAGES} images, got {len(references)}"
        )
    prompt = (instance.prompt or "").strip()
    if not prompt and image is None:
        raise InvalidArgument("instances[0].prompt: a prompt is required (or an image to animate)")
    person = to_person_generation(p.person_generation, f"{_P}.personGeneration")
    return GenerateVideosRequest(
        prompt=prompt,
        count=sample_count(p.sample_count, entry, model, "video"),
        aspect_ratio=_choice(p.aspect_ratio, entry.video_aspect_ratios, "16:9", "aspectRatio", model),
        resolution=_choice((p.resolution or "").lower() or None, entry.video_resolutions, "720p", "resolution", model),
        duration_s=_duration(p.duration_seconds, entry, model),
        generate_audio=_audio(p.generate_audio, entry, model),
        negative_prompt=p.negative_prompt or None,
        seed=_seed(p.seed),
        person_generation=person.value if person else None,
        image=image,
        last_frame=last,
        reference_images=references,  # type: ignore[arg-type]
        vertex=vertex,
        api_version=api_version,
    )


def _refuse_unsupported(instance, p: VideoParameters, model: str) -> None:
    if instance.video is not None:
        raise InvalidArgument(f"instances[0].video: extending a video is not supported by model '{model}'")
    if instance.mask is not None:
        raise InvalidArgument(f"instances[0].mask: video inpainting is not supported by model '{model}'")
    if p.storage_uri:
        raise InvalidArgument(f"{_P}.storageUri: writing to Cloud Storage is not supported; leave it out")
    if p.pubsub_topic:
        raise InvalidArgument(f"{_P}.pubsubTopic: Pub/Sub notifications are not supported; poll the operation")
    if p.fps is not None and p.fps != FPS:
        raise InvalidArgument(f"{_P}.fps: model '{model}' renders {FPS} frames per second, got {p.fps}")
    if p.compression_quality and p.compression_quality.lower() not in ("optimized", "lossless"):
        raise InvalidArgument(f"{_P}.compressionQuality: '{p.compression_quality}' is not optimized or lossless")
    if p.resize_mode and p.resize_mode.lower() not in ("pad", "crop"):
        raise InvalidArgument(f"{_P}.resizeMode: '{p.resize_mode}' is not pad or crop")


def _choice(value: str | None, allowed: list[str], default: str, field: str, model: str) -> str:
    chosen = value or (default if default in allowed else allowed[0])
    if chosen not in allowed:
        choices = " or ".join(allowed)
        raise InvalidArgument(f"{_P}.{field}: '{value}' is not supported by model '{model}'; use {choices}")
    return chosen


def _duration(value: int | None, entry: ModelEntry, model: str) -> int:
    seconds = entry.default_video_duration if value is None else value
    if seconds not in entry.video_durations:
        choices = ", ".join(str(d) for d in entry.video_durations)
        raise InvalidArgument(f"{_P}.durationSeconds: model '{model}' makes videos of {choices} seconds, got {seconds}")
    return seconds


def _audio(value: bool | None, entry: ModelEntry, model: str) -> bool:
    if entry.audio == "always":
        if value is False:
            raise InvalidArgument(f"{_P}.generateAudio: model '{model}' always generates audio; leave it out or true")
        return True
    if entry.audio == "none":
        if value:
            raise InvalidArgument(f"{_P}.generateAudio: model '{model}' makes silent videos")
        return False
    return bool(value)


def _seed(value: int | None) -> int | None:
    if value is not None and not 0 <= value < 2**32:
        raise InvalidArgument(f"{_P}.seed must be between 0 and 4294967295, got {value}")
    return value


def _input_image(image: ImageBytes | None, entry: ModelEntry, model: str, kind: str, where: str) -> InputImage | None:
    if image is None:
        return None
    if kind not in entry.video_inputs:
        what = {"image": "image-to-video", "lastFrame": "a last frame", "referenceImages": "reference images"}[kind]
        raise InvalidArgument(f"{where}: model '{model}' does not support {what}")
    decode_input_image(image, where)  # refuse what cannot be decoded now, not minutes later
    data = image.bytes_base64_encoded or b""
    return InputImage(image.mime_type or sniff_image_mime(data), base64.b64encode(data).decode("ascii"))


_METADATA_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningMetadata"
_DEV_RESPONSE_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse"
_VERTEX_RESPONSE_TYPE = "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse"


def to_operation(record: OperationRecord, videos: list[tuple[str, bytes | None]]) -> Operation:
    """`videos`: (download URI, bytes for Vertex's inline answer or None) per generated video still stored."""
    if not record.done:
        percent = round(100 * record.progress_done / record.progress_total) if record.progress_total else 0
        metadata = {
            "@type": _METADATA_TYPE,
            "state": record.state.value,
            "progressPercent": percent,
            "stepsDone": record.progress_done,
            "stepsTotal": record.progress_total,
            "createTime": rfc3339(record.create_time),
            "updateTime": rfc3339(record.update_time),
        }
        return Operation(name=record.name, metadata=metadata)
    if record.state is not OperationState.SUCCEEDED:
        return Operation(name=record.name, done=True, error=Status(code=record.error_code or 2, message=_msg(record)))
    filtered = (record.result or {}).get("filtered", [])
    if record.request.get("vertex"):
        response = {
            "@type": _VERTEX_RESPONSE_TYPE,
            "videos": [
                {"bytesBase64Encoded": base64.b64encode(data or b"").decode(), "mimeType": "video/mp4"}
                for _, data in videos
            ],
            "raiMediaFilteredCount": len(filtered),
            "raiMediaFilteredReasons": filtered,
        }
    else:
        samples = [{"video": {"uri": uri, "mimeType": "video/mp4"}} for uri, _ in videos]
        response = {
            "@type": _DEV_RESPONSE_TYPE,
            "generateVideoResponse": {
                "generatedSamples": samples,
                "raiMediaFilteredCount": len(filtered),
                "raiMediaFilteredReasons": filtered,
            },
        }
    return Operation(name=record.name, done=True, response=response)


def _msg(record: OperationRecord) -> str:
    return record.error_message or f"The operation ended {record.state.value.lower()}."
