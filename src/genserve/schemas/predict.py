"""Imagen's :predict request and response bodies (wire.md §5a), Developer API and Vertex AI forms."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from genserve.schemas.base import Base64Bytes, Float, Int32, ProtoModel


class ImageBytes(ProtoModel):
    bytes_base64_encoded: Base64Bytes | None = None
    mime_type: str | None = None
    gcs_uri: str | None = None


class MaskImageConfig(ProtoModel):
    mask_mode: str | None = None
    segmentation_classes: list[Int32] | None = None
    dilation: Float | None = None


class ReferenceImage(ProtoModel):
    """edit_image's inputs (Vertex): the picture (REFERENCE_TYPE_RAW) and its mask (REFERENCE_TYPE_MASK)."""

    reference_type: str | None = None
    reference_id: Int32 | None = None
    reference_image: ImageBytes | None = None
    mask_image_config: MaskImageConfig | None = None


class Instance(ProtoModel):
    prompt: str | None = None
    image: ImageBytes | None = None  # upscale_image
    reference_images: list[ReferenceImage] | None = None  # edit_image


class OutputOptions(ProtoModel):
    mime_type: str | None = None
    compression_quality: Int32 | None = None


class UpscaleConfig(ProtoModel):
    upscale_factor: str | None = None
    enhance_input_image: bool | None = None
    image_preservation_factor: Float | None = None


class Parameters(ProtoModel):
    sample_count: Int32 | None = None
    aspect_ratio: str | None = None
    guidance_scale: Float | None = None
    negative_prompt: str | None = None
    seed: Int32 | None = None
    safety_setting: str | None = None
    person_generation: str | None = None
    include_safety_attributes: bool | None = None
    include_rai_reason: bool | None = None
    language: str | None = None
    output_options: OutputOptions | None = None
    sample_image_size: str | None = None
    add_watermark: bool | None = None
    enhance_prompt: bool | None = None
    storage_uri: str | None = None
    edit_mode: str | None = None
    edit_config: dict[str, Any] | None = None
    mode: str | None = None
    upscale_config: UpscaleConfig | None = None


class PredictRequest(ProtoModel):
    instances: list[Instance] = Field(default_factory=list)
    parameters: Parameters | None = None
    labels: dict[str, str] | None = None


class SafetyAttributes(ProtoModel):
    categories: list[str] = Field(default_factory=list)
    scores: list[float] = Field(default_factory=list)


class Prediction(ProtoModel):
    mime_type: str | None = None
    bytes_base64_encoded: Base64Bytes | None = None
    rai_filtered_reason: str | None = None
    safety_attributes: SafetyAttributes | None = None
    content_type: str | None = None
    prompt: str | None = None


class PredictResponse(ProtoModel):
    predictions: list[Prediction] | None = None
