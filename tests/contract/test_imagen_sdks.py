"""Imagen through the official Python SDKs against a live genserve.

- google-genai 2.19.0, the last Python SDK that still sends :predict in Developer-API mode (wire.md §5a), runs in
  its own environment (.venv-sdk219, made by ./scripts/test); tests/contract/oldsdk/imagen_v219.py prints what it
  observed and the assertions live here.
- The newest SDK (google-genai 3.4.0 in .venv) refuses Imagen in Developer-API mode before sending anything, so it
  is driven in Vertex express mode (vertexai=True, an API key, base_url): generate_images, edit_image,
  upscale_image and generate_content go to /v1beta1/publishers/google/models/{m}:{method}.
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from google import genai
from google.genai import errors, types
from PIL import Image

pytestmark = [pytest.mark.contract, pytest.mark.live]

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).resolve().parent / "oldsdk"
SDK219_PYTHON = ROOT / ".venv-sdk219" / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
SIZES = {"1:1": (128, 128), "3:4": (112, 160), "4:3": (160, 112), "9:16": (96, 176), "16:9": (176, 96)}


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def assert_signed(data: bytes, mime: str = "image/png", *, watermark: bool = True) -> None:
    """Content credentials (signed by genserve, declaring AI origin) and, unless lossy, the invisible watermark."""
    from genserve.provenance import verify_bytes

    report = verify_bytes(data, mime)
    assert report.c2pa_valid and report.ai_generated and report.genserve_signed, f"C2PA: {report.problems}"
    assert report.watermark or not watermark, "no invisible watermark"


# ---------------------------------------------------------------------------------------------
# google-genai 2.19.0, Developer-API mode


def run_sdk219(base_url: str) -> dict[str, Any]:
    if not SDK219_PYTHON.exists():
        pytest.fail(
            f"{SDK219_PYTHON} is missing: the google-genai 2.19.0 environment is not installed; run ./scripts/test"
        )
    drop = {"GOOGLE_GEMINI_BASE_URL", "GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_CLOUD_PROJECT", "GOOGLE_API_KEY"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update({"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost", "PYTHONWARNINGS": "ignore"})
    cmd = [str(SDK219_PYTHON), str(SCRIPTS / "imagen_v219.py"), base_url]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"imagen_v219.py did not finish in 120 s; stderr:\n{exc.stderr}")
    if proc.returncode != 0:
        pytest.fail(f"imagen_v219.py exited {proc.returncode}; stderr:\n{proc.stderr[-4000:]}")
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        pytest.fail(f"imagen_v219.py printed no JSON; stdout:\n{proc.stdout[-2000:]}\nstderr:\n{proc.stderr[-2000:]}")


@pytest.fixture(scope="module")
def sdk219(live: Any) -> dict[str, Any]:
    report = run_sdk219(live.url)
    assert report["meta"]["version"] == "2.19.0", f"environment: expected google-genai 2.19.0, got {report['meta']}"
    return report


def observed(report: dict[str, Any], name: str) -> dict[str, Any]:
    result = report["checks"][name]
    if "error" in result:
        pytest.fail(
            f"{name}: google-genai 2.19.0 raised {result['error']}\nrequests: {result['paths']}\n"
            f"bodies: {json.dumps(result.get('bodies'))[:2000]}\n{result.get('traceback', '')}"
        )
    return result


def test_sdk219_jpeg_images_in_16_9(sdk219: dict[str, Any]) -> None:
    result = observed(sdk219, "jpeg_16_9")
    assert result["paths"] == ["POST /v1beta/models/imagen-3.0-generate-002:predict"]
    parameters = result["bodies"][0]["parameters"]
    assert parameters["outputOptions"] == {"mimeType": "image/jpeg", "compressionQuality": 80}
    assert len(result["images"]) == 2, result["images"]
    pictures = []
    for image in result["images"]:
        assert image["mime_type"] == "image/jpeg" and image["rai_filtered_reason"] is None, image
        data = base64.b64decode(image["data"])
        picture = decode(data)
        assert (picture.format, picture.size) == ("JPEG", (176, 96))
        pictures.append(picture.tobytes())
        # JPEG output: the content credentials are embedded in the JPEG; the pixel watermark does not survive
        # lossy compression at q80 (genserve/provenance/watermark.py), so only the manifest is checked.
        assert_signed(data, "image/jpeg", watermark=False)
    assert pictures[0] != pictures[1], "the two images of one request are identical"


def test_sdk219_person_blocked_by_dont_allow_reports_the_reason(sdk219: dict[str, Any]) -> None:
    result = observed(sdk219, "dont_allow_person")
    assert result["bodies"][0]["parameters"]["personGeneration"] == "DONT_ALLOW"
    [image] = result["images"]
    assert image["data"] is None, "a prompt naming a person was drawn despite personGeneration DONT_ALLOW"
    assert image["rai_filtered_reason"], image


def test_sdk219_ultra_allows_one_image(sdk219: dict[str, Any]) -> None:
    result = observed(sdk219, "ultra_two_images")
    assert result["raised"] == "ClientError" and result["code"] == 400, result
    assert "sampleCount" in result["message"], result["message"]


# ---------------------------------------------------------------------------------------------
# google-genai 3.4.0 in Vertex express mode


@pytest.fixture(scope="module")
def vertex(live: Any) -> genai.Client:
    return genai.Client(vertexai=True, api_key="k", http_options=types.HttpOptions(base_url=live.url))


def png_bytes(size: tuple[int, int], *, mask: bool = False) -> bytes:
    if mask:  # white where the edit goes, black elsewhere
        image = Image.new("L", size, 0)
        image.paste(255, (size[0] // 4, size[1] // 4, size[0] * 3 // 4, size[1] * 3 // 4))
    else:
        image = Image.linear_gradient("L").resize(size).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_newest_sdk_refuses_imagen_in_developer_api_mode(live: Any) -> None:
    # Why the rest of this section uses Vertex express mode: 3.x refuses on the client, nothing is sent.
    developer = genai.Client(api_key="k", http_options=types.HttpOptions(base_url=live.url))
    with pytest.raises(ValueError, match="only supported in Gemini Enterprise Agent Platform mode"):
        developer.models.generate_images(model="imagen-3.0-generate-002", prompt="a cat")


@pytest.mark.parametrize("ratio", list(SIZES))
def test_vertex_generate_images_in_each_aspect_ratio(vertex: genai.Client, ratio: str) -> None:
    r = vertex.models.generate_images(
        model="imagen-4.0-generate-preview-06-06",
        prompt="A field of sunflowers",
        config=types.GenerateImagesConfig(number_of_images=1, aspect_ratio=ratio),
    )
    [generated] = r.generated_images
    picture = decode(generated.image.image_bytes)
    assert (generated.image.mime_type, picture.format, picture.size) == ("image/png", "PNG", SIZES[ratio])
    assert_signed(generated.image.image_bytes)


def test_vertex_seed_without_watermark_is_reproducible(vertex: genai.Client) -> None:
    def draw(seed: int) -> bytes:
        config = types.GenerateImagesConfig(number_of_images=1, seed=seed, add_watermark=False)
        r = vertex.models.generate_images(model="imagen-3.0-generate-002", prompt="A stone bridge", config=config)
        return decode(r.generated_images[0].image.image_bytes).tobytes()

    first, again, other = draw(1234), draw(1234), draw(99)
    assert first == again, "the same seed (addWatermark false) gave different pixels"
    assert first != other, "different seeds gave the same pixels"


def test_vertex_negative_prompt_is_accepted_and_changes_the_picture(vertex: genai.Client) -> None:
    def draw(negative: str | None) -> bytes:
        config = types.GenerateImagesConfig(number_of_images=1, seed=7, add_watermark=False, negative_prompt=negative)
        r = vertex.models.generate_images(model="imagen-3.0-generate-002", prompt="A harbour", config=config)
        return decode(r.generated_images[0].image.image_bytes).tobytes()

    assert draw("boats, people") != draw(None)


def test_vertex_2k_doubles_the_size(vertex: genai.Client) -> None:
    r = vertex.models.generate_images(
        model="imagen-4.0-generate-preview-06-06",
        prompt="A mountain lake",
        config=types.GenerateImagesConfig(number_of_images=1, image_size="2K"),
    )
    assert decode(r.generated_images[0].image.image_bytes).size == (256, 256)


def edit(vertex: genai.Client, mask_mode: str, source: bytes) -> types.EditImageResponse:
    raw = types.RawReferenceImage(
        reference_id=1, reference_image=types.Image(image_bytes=source, mime_type="image/png")
    )
    if mask_mode == "MASK_MODE_USER_PROVIDED":
        mask_image = types.Image(image_bytes=png_bytes(decode(source).size, mask=True), mime_type="image/png")
    else:  # the server segments these itself: no mask picture is sent
        mask_image = None
    mask = types.MaskReferenceImage(
        reference_id=2, reference_image=mask_image, config=types.MaskReferenceConfig(mask_mode=mask_mode)
    )
    return vertex.models.edit_image(
        model="imagen-3.0-capability-001",
        prompt="A sailing boat",
        reference_images=[raw, mask],
        config=types.EditImageConfig(edit_mode="EDIT_MODE_INPAINT_INSERTION", number_of_images=1),
    )


def test_vertex_inpainting_with_a_user_mask_keeps_the_source_aspect_ratio(vertex: genai.Client) -> None:
    r = edit(vertex, "MASK_MODE_USER_PROVIDED", png_bytes((200, 100)))
    [generated] = r.generated_images
    picture = decode(generated.image.image_bytes)
    assert picture.size == (128, 64), f"a 200x100 source came back {picture.size}, not 2:1"
    assert_signed(generated.image.image_bytes)


def test_vertex_background_mask_is_not_implemented(vertex: genai.Client) -> None:
    with pytest.raises(errors.APIError) as caught:
        edit(vertex, "MASK_MODE_BACKGROUND", png_bytes((128, 128)))
    assert caught.value.code == 501, caught.value
    assert "MASK_MODE_BACKGROUND" in caught.value.message and "MASK_MODE_USER_PROVIDED" in caught.value.message


def test_vertex_upscale_enlarges_by_the_factor(vertex: genai.Client) -> None:
    # upscale_image was first planned as a 501; the server now serves it (README: "upscale_image").
    r = vertex.models.upscale_image(
        model="imagen-3.0-generate-002",
        image=types.Image(image_bytes=png_bytes((128, 128)), mime_type="image/png"),
        upscale_factor="x2",
    )
    [generated] = r.generated_images
    assert decode(generated.image.image_bytes).size == (256, 256)
    assert_signed(generated.image.image_bytes)


def test_vertex_generate_content_returns_an_image_part(vertex: genai.Client) -> None:
    r = vertex.models.generate_content(
        model="gemini-2.0-flash-preview-image-generation",
        contents="Draw a lighthouse and say one thing about it.",
        config=types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"]),
    )
    pictures = [p.inline_data for p in r.candidates[0].content.parts if p.inline_data is not None]
    assert pictures, f"no image part: {r.candidates[0].content.parts}"
    assert pictures[0].mime_type == "image/png" and decode(pictures[0].data).size == (128, 128)
    assert_signed(pictures[0].data)
