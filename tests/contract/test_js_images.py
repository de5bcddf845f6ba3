"""Image generation through the official JavaScript SDK: Imagen generateImages and Gemini-native image output.

Runs tests/contract/js/images.mjs once per SDK version. @google/genai 1.30.0 (gemini-cli's pin) still sends Imagen
:predict in Developer-API mode; 2.32.0 and 3.1.0 refuse generateImages there before sending anything, so for them
that refusal is asserted, and generateImages is exercised in Vertex express mode (vertexai + apiKey + baseUrl),
which every version sends to /v1beta1/publishers/google/models/{m}:predict.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from PIL import Image

from tests.contract.js_runner import SDKS, run_node
from tests.contract.test_js_sdk import check

pytestmark = [pytest.mark.contract, pytest.mark.live]

TALL = [96, 176]  # 9:16 on the demo Imagen model (Imagen's 768x1408 / 8)
SENDS_PREDICT_IN_DEVELOPER_API = {"genai130"}


@pytest.fixture(scope="module", params=list(SDKS))
def js(request: pytest.FixtureRequest, live: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    picture = tmp_path_factory.mktemp("js-images") / "wide.png"
    image = Image.linear_gradient("L").resize((200, 100)).convert("RGB")
    image.paste((30, 120, 30), (40, 20, 90, 80))
    image.save(picture)
    return run_node("images.mjs", live.url, request.param, str(picture))


def provenance(data_b64: str) -> Any:
    from genserve.provenance import verify_bytes

    return verify_bytes(base64.b64decode(data_b64), "image/png")


def images(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p for p in parts if p["kind"] == "image"]


def assert_signed(data_b64: str, what: str) -> None:
    report = provenance(data_b64)
    assert report.c2pa_valid and report.ai_generated and report.genserve_signed, f"{what}: C2PA: {report.problems}"
    assert report.watermark, f"{what}: no invisible watermark"


def assert_three_tall_images(result: dict[str, Any], where: str) -> None:
    got = result["images"]
    assert [(g["mimeType"], g["size"]) for g in got] == [("image/png", TALL)] * 3, f"{where}: {got}"
    assert len({g["data"] for g in got}) == 3, f"{where}: the three images are not all different"
    assert_signed(got[0]["data"], where)


def test_imagen_in_developer_api_mode(js):
    result = check(js, "imagen_developer_api")
    if js["alias"] in SENDS_PREDICT_IN_DEVELOPER_API:
        assert [r["path"] for r in result["requests"]] == ["/v1beta/models/imagen-3.0-generate-002:predict"]
        assert_three_tall_images(result, "generateImages (Developer API)")
    else:
        # Refused on the client: nothing reaches the server, so nothing a server can do changes it (wire.md §5a).
        assert result.get("refused", {}).get("threw"), f"{js['sdkVersion']} unexpectedly sent :predict: {result}"
        assert "only supported by the Gemini Enterprise Agent Platform" in result["refused"]["message"]
        assert result["requests"] == []


def test_imagen_in_vertex_express_mode(js):
    result = check(js, "imagen_vertex_express")
    paths = [r["path"] for r in result["requests"]]
    assert paths == ["/v1beta1/publishers/google/models/imagen-3.0-generate-002:predict"], paths
    assert_three_tall_images(result, "generateImages (Vertex express)")


def test_text_and_image_modalities_give_both_kinds_of_part(js):
    parts = check(js, "text_and_image")["parts"]
    assert any(p["kind"] == "text" and p["text"] for p in parts), parts
    pictures = images(parts)
    assert pictures and all(p["mimeType"] == "image/png" and p["size"] == [128, 128] for p in pictures), parts
    assert_signed(pictures[0]["data"], "generateContent image part")


def test_an_edit_keeps_the_input_aspect_ratio(js):
    result = check(js, "edit_input_image")
    assert result["inputSize"] == [200, 100]
    pictures = images(result["parts"])
    assert pictures, f"no image part in the reply to an edit request: {result['parts']}"
    assert all(p["size"] == [128, 64] for p in pictures), [p["size"] for p in pictures]
    assert_signed(pictures[0]["data"], "edited image")


def test_a_chat_edits_the_picture_it_drew(js):
    result = check(js, "chat_edits_its_picture")
    assert images(result["first"]), f"the first reply ('draw a blue car') has no image: {result['first']}"
    # The SDK's chat history carries the picture back to the server, which edits the latest one.
    assert result["secondTurnRoles"] == ["user", "model", "user"], result["secondTurnRoles"]
    assert result["secondTurnModelImages"] >= 1
    second = images(result["second"])
    assert second, f"the second reply ('make it yellow') has no image: {result['second']}"
    first_pixels = Image.open(io.BytesIO(base64.b64decode(images(result["first"])[-1]["data"]))).tobytes()
    assert Image.open(io.BytesIO(base64.b64decode(second[0]["data"]))).tobytes() != first_pixels


def test_image_only_output_where_the_model_allows_it(js):
    parts = check(js, "image_only_output")["parts"]
    assert parts and all(p["kind"] == "image" for p in parts), parts
    refused = check(js, "image_only_refused_by_2_0")
    assert refused.get("threw") and refused["status"] == 400, refused
    assert "IMAGE" in refused["message"].upper()
