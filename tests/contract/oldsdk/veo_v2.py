"""Drive Veo generate_videos from a google-genai 2.x SDK (Developer-API mode, sends :predictLongRunning).

google-genai ≥3.0 refuses generate_videos in Developer-API mode before sending anything; 2.x still sends it
(wire.md §5b: 2.19.0 observed, ≤2.34.0 from the source). Run with one of the old environments:
    .venv-sdk219/bin/python tests/contract/oldsdk/veo_v2.py http://127.0.0.1:PORT OUT_DIR FRAME.png
    .venv-oldsdk/bin/python  tests/contract/oldsdk/veo_v2.py http://127.0.0.1:PORT OUT_DIR FRAME.png
Prints one JSON object: {"meta": {...}, "checks": {name: observed | {"error": ...}}}. Videos are written to
OUT_DIR (these environments have no Pillow or MP4 reader); the pytest side, tests/contract/test_video_sdks.py,
opens them and holds every assertion.
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings
from typing import Any

warnings.simplefilter("ignore")  # old SDKs warn about deprecations (prompt= instead of source=); stdout is JSON

import httpx  # noqa: E402
from _checks import BODIES, PATHS, check, report  # noqa: E402  (this directory is sys.path[0])
from google import genai  # noqa: E402
from google.genai import errors, types  # noqa: E402

BASE = sys.argv[1].rstrip("/")
OUT = sys.argv[2]
with open(sys.argv[3], "rb") as f:
    FRAME = f.read()


def _record(request: httpx.Request) -> None:
    query = f"?{request.url.query.decode()}" if request.url.query else ""
    PATHS.append(f"{request.method} {request.url.path}{query}")
    try:
        body = json.loads(request.content or b"null")
    except ValueError:
        body = None
    if isinstance(body, dict):  # image bytes would swamp the report: keep their length only
        for instance in body.get("instances", []):
            for key in ("image", "lastFrame"):
                if isinstance(instance.get(key), dict) and "bytesBase64Encoded" in instance[key]:
                    instance[key]["bytesBase64Encoded"] = f"<{len(instance[key]['bytesBase64Encoded'])} chars>"
    BODIES.append(body)


client = genai.Client(
    api_key="contract-test-key",
    http_options={"base_url": BASE, "client_args": {"event_hooks": {"request": [_record]}}},
)


def wait(op: types.GenerateVideosOperation) -> tuple[types.GenerateVideosOperation, list[Any]]:
    """The docs' loop (with a 0.5 s nap instead of 10 s); returns the final operation and each poll's metadata."""
    seen = []
    deadline = time.monotonic() + 90
    while not op.done:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{op.name} not done after 90 s")
        time.sleep(0.5)
        op = client.operations.get(op)
        seen.append(op.metadata)
    return op, seen


def generate_and_save(prefix: str, **kwargs: Any) -> dict[str, Any]:
    submitted = client.models.generate_videos(**kwargs)
    op, metadata = wait(submitted)
    result_is_response = op.result == op.response  # before the downloads fill video_bytes into op.response
    videos = []
    for i, generated in enumerate((op.response.generated_videos or []) if op.response else []):
        downloaded = client.files.download(file=generated.video)
        path = os.path.join(OUT, f"{prefix}-{i}.mp4")
        generated.video.save(path)
        videos.append(
            {
                "uri": generated.video.uri,
                "mime_type": generated.video.mime_type,
                "downloaded_bytes": len(downloaded),
                "video_bytes_set": generated.video.video_bytes == downloaded,
                "path": path,
            }
        )
    return {
        "submitted": {"name": submitted.name, "done": submitted.done},
        "metadata": metadata,
        "done": op.done,
        "operation_error": op.error,
        "result_is_response": result_is_response,
        "rai_media_filtered_count": op.response.rai_media_filtered_count if op.response else None,
        "videos": videos,
    }


def refusal(**kwargs: Any) -> dict[str, Any]:
    before = len(PATHS)
    try:
        op = client.models.generate_videos(**kwargs)
    except errors.APIError as exc:
        return {
            "raised": type(exc).__name__,
            "is_client_error": isinstance(exc, errors.ClientError),
            "code": exc.code,
            "status": exc.status,
            "message": exc.message,
        }
    except Exception as exc:  # refused on the client: nothing was sent
        return {"raised": type(exc).__name__, "message": str(exc), "sent": len(PATHS) > before}
    return {"raised": None, "operation": op.name}


def png(data: bytes = FRAME) -> types.Image:
    return types.Image(image_bytes=data, mime_type="image/png")


@check("two_portrait_videos")
def _two_portrait_videos() -> Any:
    return generate_and_save(
        "portrait",
        model="veo-2.0-generate-001",
        prompt="A paper lantern floating up into the night sky",
        config=types.GenerateVideosConfig(
            number_of_videos=2,
            duration_seconds=5,
            aspect_ratio="9:16",
            negative_prompt="blur",
            person_generation="allow_adult",
        ),
    )


@check("image_to_video")
def _image_to_video() -> Any:
    return generate_and_save(
        "i2v",
        model="veo-2.0-generate-001",
        prompt="The picture comes alive",
        image=png(),
        config=types.GenerateVideosConfig(duration_seconds=6),
    )


@check("first_and_last_frame")
def _first_and_last_frame() -> Any:
    return generate_and_save(
        "lastframe",
        model="veo-2.0-generate-001",
        prompt="From the first picture to the last",
        image=png(),
        config=types.GenerateVideosConfig(duration_seconds=5, last_frame=png()),
    )


@check("image_on_veo3")
def _image_on_veo3() -> Any:
    return refusal(model="veo-3.0-generate-preview", prompt="x", image=png())


@check("three_videos")
def _three_videos() -> Any:
    return refusal(model="veo-2.0-generate-001", prompt="x", config=types.GenerateVideosConfig(number_of_videos=3))


@check("four_seconds")
def _four_seconds() -> Any:
    return refusal(model="veo-2.0-generate-001", prompt="x", config=types.GenerateVideosConfig(duration_seconds=4))


@check("square")
def _square() -> Any:
    return refusal(model="veo-2.0-generate-001", prompt="x", config=types.GenerateVideosConfig(aspect_ratio="1:1"))


@check("undecodable_image")
def _undecodable_image() -> Any:
    return refusal(model="veo-2.0-generate-001", prompt="x", image=png(b"this is not a PNG at all" * 4))


print(report("google-genai", genai.__version__))
