"""Veo's :predictLongRunning request and the Operation resource (wire.md §5b), Developer API and Vertex forms."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from genserve.schemas.base import Int32, ProtoModel
from genserve.schemas.predict import ImageBytes


class VideoReferenceImage(ProtoModel):
    image: ImageBytes | None = None
    reference_type: str | None = None


class VideoInstance(ProtoModel):
    prompt: str | None = None
    image: ImageBytes | None = None
    last_frame: ImageBytes | None = None
    reference_images: list[VideoReferenceImage] | None = None
    video: dict[str, Any] | None = None
    mask: dict[str, Any] | None = None


class VideoParameters(ProtoModel):
    sample_count: Int32 | None = None
    duration_seconds: Int32 | None = None
    aspect_ratio: str | None = None
    resolution: str | None = None
    person_generation: str | None = None
    negative_prompt: str | None = None
    enhance_prompt: bool | None = None
    generate_audio: bool | None = None
    seed: Int32 | None = None
    fps: Int32 | None = None
    storage_uri: str | None = None
    pubsub_topic: str | None = None
    compression_quality: str | None = None
    resize_mode: str | None = None


class PredictLongRunningRequest(ProtoModel):
    instances: list[VideoInstance] = Field(default_factory=list)
    parameters: VideoParameters | None = None


class FetchPredictOperationRequest(ProtoModel):
    operation_name: str = ""


class Status(ProtoModel):
    code: int
    message: str


class Operation(ProtoModel):
    name: str
    # Typed JSON objects ("@type" keys): plain dicts, so the key is sent as is.
    metadata: dict[str, Any] | None = None
    done: bool | None = None
    response: dict[str, Any] | None = None
    error: Status | None = None


class ListOperationsResponse(ProtoModel):
    operations: list[Operation] | None = None
    next_page_token: str | None = None
