"""Imagen :predict, Vertex express paths, edits and Gemini-native image output, in-process on the demo models."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from tests.conftest import app_client, make_settings
from tests.media import tiny_png

IMAGEN = "/v1beta/models/imagen-3.0-generate-002:predict"
VERTEX = "/v1beta1/publishers/google/models/imagen-3.0-generate-002:predict"
PROJECT = "/v1/projects/demo/locations/us-central1/publishers/google/models/imagen-3.0-generate-002:predict"
ULTRA = "/v1beta/models/imagen-4.0-ultra-generate-preview-06-06:predict"
GEMINI_IMAGE = "/v1beta/models/gemini-2.0-flash-preview-image-generation:generateContent"
GEMINI_IMAGE_ONLY = "/v1beta/models/gemini-2.5-flash-image:generateContent"
SIZES = {"1:1": (128, 128), "3:4": (112, 160), "4:3": (160, 112), "9:16": (96, 176), "16:9": (176, 96)}


def decode(b64: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(b64)))


def b64png(size: tuple[int, int], colour=(20, 120, 220)) -> str:
    return base64.b64encode(tiny_png(size, colour)).decode()


async def predict(client, body: dict, path: str = IMAGEN) -> dict:
    r = await client.post(path, json=body)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("ratio", list(SIZES))
async def test_each_aspect_ratio_gives_its_exact_size(client, ratio):
    body = {"instances": [{"prompt": "a lighthouse"}], "parameters": {"aspectRatio": ratio, "sampleCount": 1}}
    [prediction] = (await predict(client, body))["predictions"]
    assert prediction["mimeType"] == "image/png"
    assert decode(prediction["bytesBase64Encoded"]).size == SIZES[ratio]


async def test_default_sample_count_is_four_distinct_images(client):
    predictions = (await predict(client, {"instances": [{"prompt": "robot holding a red skateboard"}]}))["predictions"]
    assert len(predictions) == 4
    pixels = {decode(p["bytesBase64Encoded"]).tobytes() for p in predictions}
    assert len(pixels) == 4


async def test_2k_doubles_the_size_and_the_seed_reproduces_pixels(client):
    body = {"instances": [{"prompt": "a fox"}], "parameters": {"sampleCount": 1, "sampleImageSize": "2k", "seed": 7}}
    first = decode((await predict(client, body))["predictions"][0]["bytesBase64Encoded"])
    again = decode((await predict(client, body))["predictions"][0]["bytesBase64Encoded"])
    other = {**body, "parameters": {**body["parameters"], "seed": 8}}
    third = decode((await predict(client, other))["predictions"][0]["bytesBase64Encoded"])
    assert first.size == (256, 256)
    assert first.tobytes() == again.tobytes() != third.tobytes()


async def test_jpeg_output_honours_the_quality(client):
    def body(quality: int) -> dict:
        options = {"mimeType": "image/jpeg", "compressionQuality": quality}
        return {
            "instances": [{"prompt": "a forest"}],
            "parameters": {"sampleCount": 1, "seed": 1, "outputOptions": options},
        }

    low = (await predict(client, body(5)))["predictions"][0]
    high = (await predict(client, body(100)))["predictions"][0]
    assert low["mimeType"] == high["mimeType"] == "image/jpeg"
    assert decode(low["bytesBase64Encoded"]).format == "JPEG"
    assert len(base64.b64decode(low["bytesBase64Encoded"])) < len(base64.b64decode(high["bytesBase64Encoded"]))


async def test_every_image_carries_content_credentials_and_a_watermark(client):
    from genserve.provenance import verify_bytes

    [prediction] = (await predict(client, {"instances": [{"prompt": "a bridge"}], "parameters": {"sampleCount": 1}}))[
        "predictions"
    ]
    report = verify_bytes(base64.b64decode(prediction["bytesBase64Encoded"]), "image/png")
    assert report.c2pa_valid and report.ai_generated and report.genserve_signed, report.problems
    assert report.watermark


@pytest.mark.parametrize("path", [VERTEX, PROJECT])
async def test_vertex_express_paths_serve_the_same_call(client, path):
    body = {"instances": [{"prompt": "a cat"}], "parameters": {"sampleCount": 2, "aspectRatio": "16:9"}}
    predictions = (await predict(client, body, path))["predictions"]
    assert [decode(p["bytesBase64Encoded"]).size for p in predictions] == [(176, 96)] * 2


async def test_ultra_defaults_to_and_allows_only_one_image(client):
    assert len((await predict(client, {"instances": [{"prompt": "a cat"}]}, ULTRA))["predictions"]) == 1
    r = await client.post(ULTRA, json={"instances": [{"prompt": "a cat"}], "parameters": {"sampleCount": 2}})
    assert r.status_code == 400 and "one image per request" in r.json()["error"]["message"]


@pytest.mark.parametrize(
    ("parameters", "instances", "needle"),
    [
        ({"aspectRatio": "2:1"}, None, "aspectRatio"),
        ({"sampleCount": 0}, None, "sampleCount must be between 1 and 4"),
        ({"sampleCount": 5}, None, "sampleCount must be between 1 and 4"),
        ({"personGeneration": "sometimes"}, None, "personGeneration"),
        ({"outputOptions": {"mimeType": "image/jpeg", "compressionQuality": 101}}, None, "compressionQuality"),
        ({"outputOptions": {"mimeType": "image/gif"}}, None, "image/gif"),
        ({"sampleImageSize": "4K"}, None, "sampleImageSize"),
        ({"seed": -1}, None, "seed"),
        ({}, [], "exactly one instance"),
        ({}, [{"prompt": "  "}], "prompt is required"),
        ({}, [{"prompt": "castle " * 600}], "480"),
        ({"storageUri": "gs://bucket/x"}, None, "storageUri"),
    ],
)
async def test_bad_parameters_are_a_400_naming_the_problem(client, parameters, instances, needle):
    body = {"instances": [{"prompt": "a cat"}] if instances is None else instances, "parameters": parameters}
    r = await client.post(IMAGEN, json=body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["status"] == "INVALID_ARGUMENT" and needle in r.json()["error"]["message"]


async def test_predict_on_a_text_model_is_not_found(client):
    r = await client.post("/v1beta/models/gemini-2.0-flash:predict", json={"instances": [{"prompt": "x"}]})
    assert r.status_code == 404


async def test_person_generation_dont_allow_filters_people(client):
    body = {
        "instances": [{"prompt": "a portrait of a woman reading"}],
        "parameters": {"personGeneration": "dont_allow", "includeRaiReason": True},
    }
    [prediction] = (await predict(client, body))["predictions"]
    assert "bytesBase64Encoded" not in prediction and "dont_allow" in prediction["raiFilteredReason"]
    body["parameters"]["includeRaiReason"] = False
    assert "predictions" not in await predict(client, body)
    # The default (allow_adult) draws adults but not children; allow_all draws both.
    body = {"instances": [{"prompt": "a child flying a kite"}], "parameters": {"includeRaiReason": True}}
    assert "raiFilteredReason" in (await predict(client, body))["predictions"][0]
    body["parameters"].update(personGeneration="ALLOW_ALL", sampleCount=1)
    assert "bytesBase64Encoded" in (await predict(client, body))["predictions"][0]


async def test_the_blocklist_is_configurable(catalog, tmp_path):
    settings = make_settings(tmp_path, image_blocklist=["zeppelin"])
    async with app_client(catalog, settings) as client:
        body = {"instances": [{"prompt": "A Zeppelin over the city"}], "parameters": {"includeRaiReason": True}}
        [prediction] = (await predict(client, body))["predictions"]
        assert "blocked term" in prediction["raiFilteredReason"]
        r = await client.post(GEMINI_IMAGE, json=_native("draw a zeppelin"))
        assert r.status_code == 200 and r.json()["promptFeedback"]["blockReason"] == "BLOCKLIST"
        assert "candidates" not in r.json()


def _edit_body(image_size, mask_size, mode="EDIT_MODE_INPAINT_INSERTION", mask_mode="MASK_MODE_USER_PROVIDED"):
    raw = {"referenceType": "REFERENCE_TYPE_RAW", "referenceId": 1,
           "referenceImage": {"bytesBase64Encoded": b64png(image_size)}}  # fmt: skip
    mask = {"referenceType": "REFERENCE_TYPE_MASK", "referenceId": 2,
            "referenceImage": {"bytesBase64Encoded": b64png(mask_size, (255, 255, 255))},
            "maskImageConfig": {"maskMode": mask_mode}}  # fmt: skip
    return {
        "instances": [{"prompt": "a red boat", "referenceImages": [raw, mask]}],
        "parameters": {"editMode": mode, "sampleCount": 1},
    }


async def test_edit_image_inpaints_under_a_user_mask_keeping_the_aspect_ratio(client):
    path = "/v1beta1/publishers/google/models/imagen-3.0-capability-001:predict"
    [prediction] = (await predict(client, _edit_body((200, 100), (200, 100)), path))["predictions"]
    assert decode(prediction["bytesBase64Encoded"]).size == (128, 64)


async def test_edit_image_errors(client):
    path = "/v1beta1/publishers/google/models/imagen-3.0-capability-001:predict"
    r = await client.post(path, json=_edit_body((200, 100), (100, 100)))
    assert r.status_code == 400 and "mask is 100x100 but the image is 200x100" in r.json()["error"]["message"]
    r = await client.post(path, json=_edit_body((64, 64), (64, 64), mask_mode="MASK_MODE_BACKGROUND"))
    assert r.status_code == 501 and "MASK_MODE_USER_PROVIDED" in r.json()["error"]["message"]
    body = _edit_body((64, 64), (64, 64))
    body["instances"][0]["referenceImages"][0]["referenceImage"]["bytesBase64Encoded"] = "bm90IGFuIGltYWdl"
    r = await client.post(path, json=body)
    assert r.status_code == 400 and "referenceImages[0]" in r.json()["error"]["message"]
    upscale = {"instances": [{"image": {"bytesBase64Encoded": b64png((32, 32))}}], "parameters": {"mode": "upscale"}}
    upscale["parameters"]["upscaleConfig"] = {"upscaleFactor": "x3"}
    r = await client.post(path, json=upscale)
    assert r.status_code == 400 and "x2 or x4" in r.json()["error"]["message"]
    upscale["parameters"]["upscaleConfig"] = {"upscaleFactor": "x4"}
    upscale["instances"][0]["image"]["bytesBase64Encoded"] = b64png((2100, 2100))
    r = await client.post(path, json=upscale)
    assert r.status_code == 400 and "17 megapixels" in r.json()["error"]["message"]


async def test_upscale_image_enlarges_by_the_factor(client):
    path = "/v1beta1/publishers/google/models/imagen-4.0-upscale-preview:predict"
    for factor, size in (("x2", (80, 48)), ("x4", (160, 96))):
        params = {"mode": "upscale", "sampleCount": 1, "upscaleConfig": {"upscaleFactor": factor}}
        body = {"instances": [{"prompt": "", "image": {"bytesBase64Encoded": b64png((40, 24))}}], "parameters": params}
        [prediction] = (await predict(client, body, path))["predictions"]
        assert decode(prediction["bytesBase64Encoded"]).size == size


def _native(*turns, modalities=("TEXT", "IMAGE"), **config) -> dict:
    contents = []
    for i, turn in enumerate(turns):
        parts = turn if isinstance(turn, list) else [{"text": turn}]
        contents.append({"role": "user" if i % 2 == 0 else "model", "parts": parts})
    generation = {"responseModalities": list(modalities), "temperature": 0, **config}
    return {"contents": contents, "generationConfig": generation}


def _images(response: dict) -> list[Image.Image]:
    parts = response["candidates"][0]["content"]["parts"]
    return [decode(p["inlineData"]["data"]) for p in parts if "inlineData" in p]


async def test_text_and_image_reply(client):
    # Sampled, not greedy: the random demo model's greedy passages are blank.
    body = _native("Generate an illustrated recipe for a paella.", temperature=1, seed=3)
    r = await client.post(GEMINI_IMAGE, json=body)
    assert r.status_code == 200, r.text
    body = r.json()
    parts = body["candidates"][0]["content"]["parts"]
    images = _images(body)
    assert images and all(i.size == (128, 128) for i in images)
    assert parts[0].get("text") and "inlineData" in parts[-1]  # a passage, then its picture
    assert body["candidates"][0]["finishReason"] == "STOP"
    assert body["usageMetadata"]["candidatesTokenCount"] >= 1290 * len(images)


async def test_image_config_aspect_ratio_sets_the_size(client):
    r = await client.post(GEMINI_IMAGE, json=_native("a tall tower", imageConfig={"aspectRatio": "9:16"}))
    assert r.status_code == 200, r.text
    assert {i.size for i in _images(r.json())} == {(96, 176)}


async def test_image_only_output_depends_on_the_model(client):
    r = await client.post(GEMINI_IMAGE, json=_native("a cat", modalities=("IMAGE",)))
    assert r.status_code == 400 and "does not support image-only output" in r.json()["error"]["message"]
    r = await client.post(GEMINI_IMAGE_ONLY, json=_native("a cat", modalities=("IMAGE",)))
    assert r.status_code == 200, r.text
    parts = r.json()["candidates"][0]["content"]["parts"]
    assert parts and all("inlineData" in p for p in parts)


async def test_an_input_image_is_edited_at_its_own_aspect_ratio(client):
    image = {"inlineData": {"mimeType": "image/png", "data": b64png((200, 100))}}
    r = await client.post(GEMINI_IMAGE, json=_native([{"text": "Can you add a llama next to me?"}, image]))
    assert r.status_code == 200, r.text
    assert [i.size for i in _images(r.json())] == [(128, 64)]


async def test_multi_turn_edits_the_latest_image_in_the_conversation(client):
    car = {"inlineData": {"mimeType": "image/png", "data": b64png((200, 100))}}
    drawn = {"inlineData": {"mimeType": "image/png", "data": b64png((100, 200))}}  # the model's last picture
    turns = ([{"text": "Turn this car into a convertible."}, car], [{"text": "Here it is."}, drawn], "Now yellow.")
    r = await client.post(GEMINI_IMAGE, json=_native(*turns))
    assert r.status_code == 200, r.text
    assert [i.size for i in _images(r.json())] == [(64, 128)]


async def test_the_stream_interleaves_text_and_image_chunks(client):
    url = GEMINI_IMAGE.replace(":generateContent", ":streamGenerateContent") + "?alt=sse"
    r = await client.post(url, json=_native("an illustrated story"))
    assert r.status_code == 200
    events = [line[6:] for line in r.text.split("\r\n\r\n") if line.startswith("data: ")]
    import json

    kinds = [k for e in events for p in json.loads(e)["candidates"][0]["content"]["parts"] for k in p if k != "thought"]
    assert "inlineData" in kinds and kinds[-1] == "inlineData"


async def test_native_image_request_errors(client):
    r = await client.post(GEMINI_IMAGE, json=_native("x", imageConfig={"aspectRatio": "5:4"}))
    assert r.status_code == 400 and "aspectRatio" in r.json()["error"]["message"]
    r = await client.post(GEMINI_IMAGE, json=_native("x", candidateCount=2))
    assert r.status_code == 400 and "candidateCount" in r.json()["error"]["message"]
    r = await client.post("/v1beta/models/gemini-2.0-flash:generateContent", json=_native("x"))
    assert r.status_code == 400 and "IMAGE output" in r.json()["error"]["message"]
    body = _native([{"text": "edit"}, {"inlineData": {"mimeType": "image/png", "data": "bm90IGFuIGltYWdl"}}])
    r = await client.post(GEMINI_IMAGE, json=body)
    assert r.status_code == 400, r.text
    r = await client.post(GEMINI_IMAGE, json=_native("a man", imageConfig={"personGeneration": "DONT_ALLOW"}))
    assert r.status_code == 200 and r.json()["promptFeedback"]["blockReason"] == "PROHIBITED_CONTENT"


async def test_image_models_describe_themselves_and_refuse_text_calls(client):
    model = (await client.get("/v1beta/models/imagen-4.0-generate-preview-06-06")).json()
    assert model["supportedGenerationMethods"] == ["predict"] and model["inputTokenLimit"] == 480
    for method in ("generateContent", "countTokens"):
        r = await client.post(f"/v1beta/models/imagen-3.0-generate-002:{method}", json={"contents": "hi"})
        assert r.status_code == 404 and method in r.json()["error"]["message"]
