"""Veo's :predictLongRunning and operations, in-process on the demo models: parameters, outputs, bad input."""

from __future__ import annotations

import asyncio
import base64

import pytest

from genserve.media.mp4 import read_mp4_info
from tests.media import tiny_png

VEO2 = "/v1beta/models/veo-2.0-generate-001"
VEO3 = "/v1beta/models/veo-3.0-generate-preview"
VERTEX_VEO3 = "/v1beta1/publishers/google/models/veo-3.0-generate-001"


def png(size=(64, 36)) -> dict:
    return {"bytesBase64Encoded": base64.b64encode(tiny_png(size)).decode(), "mimeType": "image/png"}


async def submit(client, base: str, instance: dict, **parameters) -> str:
    r = await client.post(f"{base}:predictLongRunning", json={"instances": [instance], "parameters": parameters})
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"name"}
    return r.json()["name"]


async def wait(client, name: str, version: str = "v1beta") -> dict:
    for _ in range(600):
        r = await client.get(f"/{version}/{name}")
        assert r.status_code == 200, r.text
        if r.json().get("done"):
            return r.json()
        await asyncio.sleep(0.05)
    raise AssertionError(f"{name} did not finish")


async def videos_of(client, operation: dict) -> list[bytes]:
    samples = operation["response"]["generateVideoResponse"]["generatedSamples"]
    out = []
    for sample in samples:
        file_id = sample["video"]["uri"].split("/files/")[1].split(":")[0]
        r = await client.get(f"/v1beta/files/{file_id}:download?alt=media")
        assert r.status_code == 200 and r.headers["content-type"] == "video/mp4"
        out.append(r.content)
    return out


async def test_veo2_returns_an_operation_then_silent_videos_of_the_asked_shape(client):
    name = await submit(client, VEO2, {"prompt": "a wave"}, sampleCount=2, durationSeconds=5, aspectRatio="9:16")
    assert name.startswith("models/veo-2.0-generate-001/operations/")
    assert name.rpartition("/")[2].isalnum() and name.rpartition("/")[2].islower()
    operation = await wait(client, name)
    assert operation["response"]["generateVideoResponse"]["raiMediaFilteredCount"] == 0
    clips = await videos_of(client, operation)
    assert len(clips) == 2 and clips[0] != clips[1]
    for clip in clips:
        info = read_mp4_info(clip)
        assert (info["codec"], info["pix_fmt"], info["fps"]) == ("h264", "yuv420p", 24.0)
        assert (info["width"], info["height"], info["frames"]) == (90, 160, 120)
        assert info["audio"] is None and info["faststart"]


async def test_the_generated_file_is_a_generated_file_with_a_download_uri(client):
    operation = await wait(client, await submit(client, VEO2, {"prompt": "a wave"}, durationSeconds=5))
    uri = operation["response"]["generateVideoResponse"]["generatedSamples"][0]["video"]["uri"]
    assert uri.startswith("https://")
    file = (await client.get(f"/v1beta/files/{uri.split('/files/')[1].split(':')[0]}")).json()
    assert file["source"] == "GENERATED" and file["state"] == "ACTIVE" and file["mimeType"] == "video/mp4"
    assert file["downloadUri"].endswith(":download?alt=media") and file["videoMetadata"]["videoDuration"] == "5s"


async def test_veo3_always_has_a_soundtrack_as_long_as_the_video(client):
    operation = await wait(client, await submit(client, VEO3, {"prompt": "rain on a tin roof"}))
    [clip] = await videos_of(client, operation)
    info = read_mp4_info(clip)
    assert (info["width"], info["height"], info["frames"]) == (160, 90, 192)
    assert info["audio"]["codec"] == "aac" and abs(info["audio"]["duration_s"] - 8.0) < 0.05


async def test_every_video_carries_content_credentials_and_the_watermark(client):
    from genserve.provenance import verify_bytes

    [clip] = await videos_of(client, await wait(client, await submit(client, VEO2, {"prompt": "x"}, durationSeconds=5)))
    report = verify_bytes(clip, "video/mp4")
    assert report.c2pa_valid and report.ai_generated and report.genserve_signed, report.problems
    assert report.watermark, "the frames carry the genserve watermark"


async def test_image_to_video_and_a_last_frame(client):
    name = await submit(
        client, VEO2, {"prompt": "the scene moves", "image": png(), "lastFrame": png()}, durationSeconds=5
    )
    [clip] = await videos_of(client, await wait(client, name))
    assert read_mp4_info(clip)["frames"] == 120


async def test_vertex_express_answers_with_the_bytes_inline(client):
    name = await submit(client, VERTEX_VEO3, {"prompt": "a storm"}, generateAudio=True, resolution="1080p")
    assert name.startswith("publishers/google/models/veo-3.0-generate-001/operations/")
    for _ in range(600):
        r = await client.post(f"{VERTEX_VEO3}:fetchPredictOperation", json={"operationName": name})
        assert r.status_code == 200, r.text
        if r.json().get("done"):
            break
        await asyncio.sleep(0.05)
    [video] = r.json()["response"]["videos"]
    info = read_mp4_info(base64.b64decode(video["bytesBase64Encoded"]))
    assert video["mimeType"] == "video/mp4" and (info["width"], info["height"]) == (240, 136) and info["audio"]


async def test_a_blocked_prompt_ends_with_filtered_media_not_an_error(client):
    name = await submit(client, VEO2, {"prompt": "a man walking"}, personGeneration="dont_allow", durationSeconds=5)
    response = (await wait(client, name))["response"]["generateVideoResponse"]
    assert response["raiMediaFilteredCount"] == 1 and response["generatedSamples"] == []
    assert "dont_allow" in response["raiMediaFilteredReasons"][0]


@pytest.mark.parametrize(
    ("base", "instance", "parameters", "needle"),
    [
        (VEO2, {"prompt": "x"}, {"aspectRatio": "1:1"}, "aspectRatio"),
        (VEO2, {"prompt": "x"}, {"durationSeconds": 4}, "durationSeconds"),
        (VEO2, {"prompt": "x"}, {"resolution": "1080p"}, "resolution"),
        (VEO2, {"prompt": "x"}, {"sampleCount": 3}, "sampleCount"),
        (VEO2, {"prompt": "x"}, {"sampleCount": 0}, "sampleCount"),
        (VEO2, {"prompt": "x"}, {"generateAudio": True}, "silent"),
        (VEO3, {"prompt": "x"}, {"generateAudio": False}, "always generates audio"),
        (VEO3, {"prompt": "x"}, {"aspectRatio": "9:16"}, "aspectRatio"),
        (VEO3, {"prompt": "x", "image": png()}, {}, "image-to-video"),
        (VEO2, {"prompt": "x", "image": {"bytesBase64Encoded": "bm90IGFuIGltYWdl"}}, {}, "instances[0].image"),
        (VEO2, {"prompt": "x", "lastFrame": png()}, {}, "first frame"),
        (VEO2, {"prompt": "x"}, {"personGeneration": "maybe"}, "personGeneration"),
        (VEO2, {"prompt": "x"}, {"storageUri": "gs://b/"}, "storageUri"),
        (VEO2, {"prompt": " "}, {}, "prompt is required"),
        (VEO2, {"prompt": "x", "referenceImages": [{"image": png(), "referenceType": "ASSET"}]}, {}, "reference"),
    ],
)
async def test_what_a_model_cannot_do_is_a_400(client, base, instance, parameters, needle):
    r = await client.post(f"{base}:predictLongRunning", json={"instances": [instance], "parameters": parameters})
    assert r.status_code == 400, r.text
    assert needle in r.json()["error"]["message"]


async def test_operations_unknown_cancel_delete_and_list(client):
    r = await client.get("/v1beta/models/veo-2.0-generate-001/operations/abc123")
    assert r.status_code == 404
    name = await submit(client, VEO2, {"prompt": "x"}, durationSeconds=5)
    await wait(client, name)
    r = await client.post(f"/v1beta/{name}:cancel")
    assert r.status_code == 400 and r.json()["error"]["status"] == "FAILED_PRECONDITION"
    listed = (await client.get("/v1beta/operations")).json()["operations"]
    assert name in [o["name"] for o in listed]
    assert (await client.delete(f"/v1beta/{name}")).json() == {}
    assert (await client.get(f"/v1beta/{name}")).status_code == 404


async def test_predict_long_running_on_an_image_model_is_not_found(client):
    r = await client.post("/v1beta/models/imagen-3.0-generate-002:predictLongRunning", json={"instances": [{}]})
    assert r.status_code == 404
