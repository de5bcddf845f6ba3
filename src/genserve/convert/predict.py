"""Imagen :predict wire request <-> domain GenerateImagesRequest and predictions (wire.md §5a)."""

from __future__ import annotations

from genserve.core.catalog import ModelEntry
from genserve.core.image_types import GeneratedImage, GenerateImagesRequest, ImageOutput, ImageTask
from genserve.core.safety import PersonGeneration
from genserve.errors import InvalidArgument, Unimplemented
from genserve.media.aspect import IMAGEN_SIZES
from genserve.media.images import decode_image
from genserve.schemas.predict import ImageBytes, Parameters, Prediction, PredictRequest, PredictResponse

OUTPUT_TYPES = ("image/png", "image/jpeg")
DEFAULT_JPEG_QUALITY = 75  # Imagen's default compressionQuality
SAFETY_SETTINGS = ("BLOCK_LOW_AND_ABOVE", "BLOCK_MEDIUM_AND_ABOVE", "BLOCK_ONLY_HIGH", "BLOCK_NONE")
# Largest picture an edit takes (4096 x 4096): it is resized to the model's size anyway.
MAX_EDIT_PIXELS = 16 * 1024 * 1024
_P = "parameters"


def to_generate_images_request(body: PredictRequest, entry: ModelEntry, model: str) -> GenerateImagesRequest:
    if len(body.instances) != 1:
        raise InvalidArgument(f"instances: send exactly one instance (a prompt); got {len(body.instances)}")
    instance = body.instances[0]
    p = body.parameters or Parameters()
    if p.storage_uri:
        raise InvalidArgument(f"{_P}.storageUri: writing to Cloud Storage is not supported; leave it out")
    if p.safety_setting and p.safety_setting.upper() not in SAFETY_SETTINGS:
        raise InvalidArgument(f"{_P}.safetySetting: '{p.safety_setting}' is not one of {', '.join(SAFETY_SETTINGS)}")
    task, image, mask, factor, strength = ImageTask.GENERATE, None, None, 1, None
    if p.mode or instance.image is not None:
        image, factor, strength = _upscale_inputs(instance.image, p)
        task = ImageTask.UPSCALE
    elif instance.reference_images:
        task, image, mask = _edit_inputs(instance.reference_images, p.edit_mode)
    prompt = (instance.prompt or "").strip()
    if not prompt and task not in (ImageTask.INPAINT, ImageTask.UPSCALE):  # removal and upscaling need none
        raise InvalidArgument("instances[0].prompt: a prompt is required")
    return GenerateImagesRequest(
        model=model,
        prompt=prompt,
        count=sample_count(p.sample_count, entry, model),
        aspect_ratio=_aspect_ratio(p.aspect_ratio),
        image_size=_image_size(p.sample_image_size, entry, model),
        person_generation=_person_generation(p.person_generation),
        output=_output(p),
        negative_prompt=p.negative_prompt or None,
        guidance_scale=_guidance(p.guidance_scale),
        seed=_seed(p.seed),
        include_rai_reason=bool(p.include_rai_reason),
        task=task,
        image=image,
        mask=mask,
        upscale_factor=factor,
        strength=strength,
    )


UPSCALE_FACTORS = {"X2": 2, "X4": 4}
MAX_UPSCALED_PIXELS = 17_000_000  # Imagen's upscaling limit: 17 megapixels out


def _upscale_inputs(image_bytes: ImageBytes | None, p: Parameters):
    if (p.mode or "upscale").lower() != "upscale":
        raise InvalidArgument(f"{_P}.mode: '{p.mode}' is not a mode; the only mode is 'upscale'")
    if image_bytes is None:
        raise InvalidArgument("instances[0].image: upscaling needs the image to upscale")
    config = p.upscale_config
    name = (config.upscale_factor if config and config.upscale_factor else "x2").upper()
    if name not in UPSCALE_FACTORS:
        raise InvalidArgument(f"{_P}.upscaleConfig.upscaleFactor: '{name.lower()}' is not supported; use x2 or x4")
    image = decode_input_image(image_bytes, "instances[0].image")
    factor = UPSCALE_FACTORS[name]
    if image.width * image.height * factor * factor > MAX_UPSCALED_PIXELS:
        raise InvalidArgument(
            f"instances[0].image: {image.width}x{image.height} upscaled {name.lower()} would exceed "
            f"{MAX_UPSCALED_PIXELS // 1_000_000} megapixels, the most an upscale may produce"
        )
    keep = config.image_preservation_factor if config else None
    if keep is not None and not 0 <= keep <= 1:
        raise InvalidArgument(f"{_P}.upscaleConfig.imagePreservationFactor must be between 0 and 1, got {keep}")
    # How much the redraw may change: a little by default, so the picture stays the one sent.
    return image, factor, 0.3 if keep is None else max(0.05, 1 - keep)


def sample_count(value: int | None, entry: ModelEntry, model: str, what: str = "image") -> int:
    """parameters.sampleCount within the model's range (Imagen and Veo share the rule)."""
    count = entry.default_sample_count if value is None else value
    if not 1 <= count <= entry.max_sample_count:
        if entry.max_sample_count == 1:
            raise InvalidArgument(f"{_P}.sampleCount: model '{model}' generates one {what} per request; got {count}")
        raise InvalidArgument(f"{_P}.sampleCount must be between 1 and {entry.max_sample_count}, got {count}")
    return count


def _aspect_ratio(value: str | None) -> str:
    ratio = (value or "1:1").strip()
    if ratio not in IMAGEN_SIZES:
        raise InvalidArgument(f"{_P}.aspectRatio: '{value}' is not supported; use one of {', '.join(IMAGEN_SIZES)}")
    return ratio


def _image_size(value: str | None, entry: ModelEntry, model: str) -> str:
    size = (value or "1K").strip().upper()
    if size not in entry.image_sizes:
        raise InvalidArgument(
            f"{_P}.sampleImageSize: '{value}' is not offered by model '{model}'; use {' or '.join(entry.image_sizes)}"
        )
    return size


def to_person_generation(value: str | None, where: str) -> PersonGeneration | None:
    if value is None:
        return None
    key = value.strip().upper()
    try:
        return PersonGeneration[key]
    except KeyError:
        names = ", ".join(m.value.lower() for m in PersonGeneration)
        raise InvalidArgument(f"{where}: '{value}' is not a personGeneration value; use {names}") from None


def _person_generation(value: str | None) -> PersonGeneration:
    return to_person_generation(value, f"{_P}.personGeneration") or PersonGeneration.ALLOW_ADULT


def _output(p: Parameters) -> ImageOutput:
    options = p.output_options
    mime = (options.mime_type if options and options.mime_type else "image/png").lower()
    if mime not in OUTPUT_TYPES:
        raise InvalidArgument(f"{_P}.outputOptions.mimeType: '{mime}' is not supported; use image/png or image/jpeg")
    quality = options.compression_quality if options else None
    if quality is not None and not 0 <= quality <= 100:
        raise InvalidArgument(f"{_P}.outputOptions.compressionQuality must be between 0 and 100, got {quality}")
    if mime == "image/jpeg":
        return ImageOutput(mime, DEFAULT_JPEG_QUALITY if quality is None else quality)
    return ImageOutput(mime)


def _guidance(value: float | None) -> float | None:
    if value is not None and not 0 <= value <= 100:
        raise InvalidArgument(f"{_P}.guidanceScale must be between 0 and 100, got {value}")
    return value


def _seed(value: int | None) -> int | None:
    if value is not None and not 0 <= value < 2**32:
        raise InvalidArgument(f"{_P}.seed must be between 0 and 4294967295, got {value}")
    return value


def decode_input_image(image: ImageBytes | None, where: str):
    if image is None or not image.bytes_base64_encoded:
        if image is not None and image.gcs_uri:
            raise InvalidArgument(f"{where}.gcsUri: Cloud Storage images are not supported; send bytesBase64Encoded")
        raise InvalidArgument(f"{where}.bytesBase64Encoded: the image bytes are missing")
    data = image.bytes_base64_encoded
    mime = image.mime_type or sniff_image_mime(data)
    return decode_image(data, mime, where, max_pixels=MAX_EDIT_PIXELS)


def sniff_image_mime(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


_INPAINT_MODES = ("EDIT_MODE_INPAINT_INSERTION", "EDIT_MODE_INPAINT_REMOVAL", "EDIT_MODE_OUTPAINT", "EDIT_MODE_BGSWAP")
_INSTRUCTION_MODES = ("", "EDIT_MODE_DEFAULT")


def _edit_inputs(references: list, edit_mode: str | None) -> tuple[ImageTask, object, object]:
    """edit_image: one RAW picture, plus a user-provided MASK for inpainting, outpainting and background swaps."""
    mode = (edit_mode or "").upper()
    raw = [(i, r) for i, r in enumerate(references) if (r.reference_type or "").upper() == "REFERENCE_TYPE_RAW"]
    masks = [(i, r) for i, r in enumerate(references) if (r.reference_type or "").upper() == "REFERENCE_TYPE_MASK"]
    other = len(references) - len(raw) - len(masks)
    if other or mode not in _INPAINT_MODES + _INSTRUCTION_MODES:
        raise Unimplemented(
            "edit_image supports a raw reference image with an instruction (EDIT_MODE_DEFAULT), or with a "
            "user-provided mask (EDIT_MODE_INPAINT_INSERTION, EDIT_MODE_INPAINT_REMOVAL, EDIT_MODE_OUTPAINT, "
            "EDIT_MODE_BGSWAP); control, style and subject references need models this server does not have"
        )
    if len(raw) != 1:
        raise InvalidArgument(f"instances[0].referenceImages: send one REFERENCE_TYPE_RAW image, got {len(raw)}")
    index, reference = raw[0]
    image = decode_input_image(reference.reference_image, f"instances[0].referenceImages[{index}].referenceImage")
    if mode in _INSTRUCTION_MODES and not masks:
        return ImageTask.EDIT, image, None
    if len(masks) != 1:
        raise InvalidArgument(f"instances[0].referenceImages: {mode or 'this edit'} needs exactly one mask image")
    index, reference = masks[0]
    where = f"instances[0].referenceImages[{index}]"
    config = reference.mask_image_config
    mask_mode = (config.mask_mode if config and config.mask_mode else "MASK_MODE_USER_PROVIDED").upper()
    if mask_mode != "MASK_MODE_USER_PROVIDED":
        raise Unimplemented(
            f"{where}.maskImageConfig.maskMode: {mask_mode} needs a segmentation model this server does not have; "
            "draw the mask yourself and send MASK_MODE_USER_PROVIDED"
        )
    mask = decode_input_image(reference.reference_image, f"{where}.referenceImage")
    if mask.size != image.size:
        raise InvalidArgument(
            f"{where}.referenceImage: the mask is {mask.width}x{mask.height} but the image is "
            f"{image.width}x{image.height}; they must be the same size"
        )
    return ImageTask.INPAINT, image, mask.convert("L")


def to_predict_response(images: list[GeneratedImage]) -> PredictResponse:
    if not images:
        return PredictResponse()  # a blocked prompt without includeRaiReason: no predictions at all
    return PredictResponse(
        predictions=[
            Prediction(mime_type=i.mime_type, bytes_base64_encoded=i.data, rai_filtered_reason=i.rai_filtered_reason)
            for i in images
        ]
    )
