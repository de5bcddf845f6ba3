"""Drive Imagen generate_images from google-genai 2.19.0 (Developer-API mode, sends :predict) against genserve.

2.19.0 is the last Python SDK that still sends Imagen calls in Developer-API mode (wire.md §5a); newer ones
refuse before sending anything. Run with its own environment:
    .venv-sdk219/bin/python tests/contract/oldsdk/imagen_v219.py http://127.0.0.1:PORT
Prints one JSON object: {"meta": {...}, "checks": {name: observed | {"error": ...}}, "paths": [...]}.
Image bytes come back base64-encoded: this environment has no Pillow, the pytest side decodes them.
"""

from __future__ import annotations

import base64
import json
import sys
import warnings
from typing import Any

warnings.simplefilter("ignore")  # old SDKs warn about Python versions and deprecations; stdout must stay JSON

import httpx  # noqa: E402
from _checks import BODIES, PATHS, check, report  # noqa: E402  (this directory is sys.path[0])
from google import genai  # noqa: E402
from google.genai import errors, types  # noqa: E402

BASE = sys.argv[1].rstrip("/")


def _record(request: httpx.Request) -> None:
    PATHS.append(f"{request.method} {request.url.path}")
    try:
        BODIES.append(json.loads(request.content or b"null"))
    except ValueError:
        BODIES.append(None)


client = genai.Client(
    api_key="contract-test-key",
    http_options={"base_url": BASE, "client_args": {"event_hooks": {"request": [_record]}}},
)


def describe(image: types.GeneratedImage) -> dict[str, Any]:
    picture = image.image
    return {
        "mime_type": picture.mime_type if picture else None,
        "data": base64.b64encode(picture.image_bytes).decode() if picture and picture.image_bytes else None,
        "rai_filtered_reason": image.rai_filtered_reason,
    }


@check("jpeg_16_9")
def _jpeg_16_9() -> Any:
    r = client.models.generate_images(
        model="imagen-3.0-generate-002",
        prompt="A lighthouse on a cliff at dusk",
        config=types.GenerateImagesConfig(
            number_of_images=2,
            aspect_ratio="16:9",
            output_mime_type="image/jpeg",
            output_compression_quality=80,
            include_rai_reason=True,
            person_generation="ALLOW_ADULT",
        ),
    )
    return {"images": [describe(i) for i in r.generated_images or []]}


@check("dont_allow_person")
def _dont_allow_person() -> Any:
    r = client.models.generate_images(
        model="imagen-3.0-generate-002",
        prompt="A portrait of a woman reading in a cafe",
        config=types.GenerateImagesConfig(number_of_images=1, include_rai_reason=True, person_generation="DONT_ALLOW"),
    )
    return {"images": [describe(i) for i in r.generated_images or []]}


@check("ultra_two_images")
def _ultra_two_images() -> Any:
    try:
        client.models.generate_images(
            model="imagen-4.0-ultra-generate-preview-06-06",
            prompt="A red apple",
            config=types.GenerateImagesConfig(number_of_images=2),
        )
    except errors.APIError as exc:
        return {
            "raised": type(exc).__name__,
            "is_client_error": isinstance(exc, errors.ClientError),
            "code": exc.code,
            "status": exc.status,
            "message": exc.message,
        }
    return {"raised": None}


print(report("google-genai", genai.__version__))
