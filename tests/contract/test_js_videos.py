"""Veo video generation through the official JavaScript SDK (`@google/genai`), one node run per version.

tests/contract/js/videos.mjs does what the docs do: `generateVideos`, a `getVideosOperation` loop until `done`,
then `files.download({file, downloadPath})`; and the same generation in Vertex express mode, which polls with
:fetchPredictOperation and gets the bytes inline. The MP4s it wrote are opened here.

- 1.30.0 (gemini-cli's pin) and 2.32.0 send :predictLongRunning in Developer-API mode (wire.md §5b).
- 3.1.0 refuses generateVideos in Developer-API mode before sending anything: that refusal is asserted, and its
  Veo calls are exercised in Vertex express mode, which every version supports.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.contract.js_runner import SDKS, run_node
from tests.contract.test_js_sdk import check

pytestmark = [pytest.mark.contract, pytest.mark.live]

SENDS_VEO_IN_DEVELOPER_API = {"genai130", "genai2"}
REFUSAL = "only supported by the Gemini Enterprise Agent Platform"


@pytest.fixture(scope="module", params=list(SDKS))
def js(request: pytest.FixtureRequest, live: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp(f"js-videos-{request.param}")
    frame = out / "first-frame.png"
    image = Image.linear_gradient("L").resize((64, 36)).convert("RGB")
    image.paste((200, 60, 20), (10, 8, 30, 28))
    image.save(frame)
    return run_node("videos.mjs", live.url, request.param, str(out), str(frame), timeout_s=180)


def mp4(path: str, what: str) -> tuple[bytes, dict[str, Any]]:
    from genserve.media.mp4 import read_mp4_info

    file = Path(path)
    assert file.is_file() and file.stat().st_size > 0, f"{what}: the SDK wrote nothing to {path}"
    data = file.read_bytes()
    return data, read_mp4_info(data)


def assert_video(info: dict[str, Any], size: tuple[int, int], frames: int, *, audio: bool, what: str) -> None:
    got = (info["codec"], info["pix_fmt"], info["fps"], info["width"], info["height"], info["frames"])
    assert got == ("h264", "yuv420p", 24.0, *size, frames), f"{what}: {info}"
    assert info["faststart"], f"{what}: the moov box is not before the media data: {info}"
    if audio:
        assert info["audio"] and info["audio"]["codec"] == "aac", f"{what}: no AAC soundtrack: {info}"
        assert abs(info["audio"]["duration_s"] - frames / 24) < 0.1, f"{what}: soundtrack length: {info['audio']}"
    else:
        assert info["audio"] is None, f"{what}: a silent model's video has a soundtrack: {info['audio']}"


def assert_signed(data: bytes, what: str) -> None:
    from genserve.provenance import verify_bytes

    report = verify_bytes(data, "video/mp4")
    assert report.c2pa_valid and report.ai_generated, f"{what}: content credentials: {report.problems}"


def developer_result(js: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The check's result where the SDK sends Veo calls; for 3.1.0, asserts its refusal and returns None."""
    result = check(js, name)
    if js["alias"] in SENDS_VEO_IN_DEVELOPER_API:
        assert "refused" not in result, f"@google/genai {js['sdkVersion']} threw: {result.get('refused')}"
        return result
    assert result.get("refused", {}).get("threw"), f"{js['sdkVersion']} unexpectedly sent a Veo call: {result}"
    assert REFUSAL in result["refused"]["message"], result["refused"]
    assert result["requests"] == [], "refused on the client, yet a request reached the server"
    return None


def assert_polled_then_downloaded(result: dict[str, Any], model: str, count: int) -> None:
    paths = [f"{r['method']} {r['path']}{r['query']}" for r in result["requests"]]
    name = result["submittedName"]
    assert name.startswith(f"models/{model}/operations/"), name
    assert paths[0] == f"POST /v1beta/models/{model}:predictLongRunning", paths
    polls = [p for p in paths[1:] if p.startswith("GET") and "/operations/" in p]
    assert polls and set(polls) == {f"GET /v1beta/{name}"}, paths
    downloads = [p for p in paths if ":download" in p]
    assert len(downloads) == count and all(p.endswith(":download?alt=media") for p in downloads), paths
    assert result["submittedDone"] is None, "the POST must answer at once, before the job is done"
    assert result["error"] is None and result["raiMediaFilteredCount"] == 0, result


def test_veo2_two_portrait_videos_are_polled_and_downloaded(js: dict[str, Any]) -> None:
    result = developer_result(js, "veo2_two_portrait_videos")
    if result is None:
        return
    assert_polled_then_downloaded(result, "veo-2.0-generate-001", 2)
    assert len(result["files"]) == 2, result["files"]
    clips = []
    for i, file in enumerate(result["files"]):
        assert file["uri"].startswith("https://") and ":download?alt=media" in file["uri"], file
        data, info = mp4(file["path"], f"video {i}")
        assert_video(info, (90, 160), 5 * 24, audio=False, what=f"video {i}")
        assert_signed(data, f"video {i}")
        clips.append(data)
    assert clips[0] != clips[1], "the two videos of one request are identical"


def test_veo3_video_has_a_soundtrack(js: dict[str, Any]) -> None:
    result = developer_result(js, "veo3_with_soundtrack")
    if result is None:
        return
    assert_polled_then_downloaded(result, "veo-3.0-generate-preview", 1)
    [file] = result["files"]
    data, info = mp4(file["path"], "Veo 3 video")
    assert_video(info, (160, 90), 8 * 24, audio=True, what="Veo 3 video")
    assert_signed(data, "Veo 3 video")


def test_veo2_image_to_video(js: dict[str, Any]) -> None:
    result = developer_result(js, "veo2_image_to_video")
    if result is None:
        return
    assert_polled_then_downloaded(result, "veo-2.0-generate-001", 1)
    [file] = result["files"]
    _, info = mp4(file["path"], "image-to-video")
    assert_video(info, (160, 90), 6 * 24, audio=False, what="image-to-video")


def test_an_image_on_veo3_is_a_400(js: dict[str, Any]) -> None:
    result = check(js, "veo3_image_is_refused")
    assert result.get("threw"), f"an image on veo-3.0-generate-preview was accepted: {result}"
    if js["alias"] in SENDS_VEO_IN_DEVELOPER_API:
        assert result["isApiError"] and result["status"] == 400, result
        assert "image-to-video" in result["message"], result["message"]
    else:
        assert REFUSAL in result["message"] and result["requests"] == [], result


def test_vertex_express_veo3_1080p_inline_bytes(js: dict[str, Any]) -> None:
    result = check(js, "vertex_veo3_1080p")
    paths = [f"{r['method']} {r['path']}" for r in result["requests"]]
    base = "/v1beta1/publishers/google/models/veo-3.0-generate-001"
    assert paths[0] == f"POST {base}:predictLongRunning", paths
    assert len(paths) > 1 and set(paths[1:]) == {f"POST {base}:fetchPredictOperation"}, paths
    assert result["submittedName"].startswith("publishers/google/models/veo-3.0-generate-001/operations/")
    assert result["error"] is None, result["error"]
    [video] = result["videos"]
    assert video["hasBytes"] and video["mimeType"] == "video/mp4", video
    data, info = mp4(video["path"], "Vertex Veo 3 1080p")
    # 1080p 16:9 is 1920x1080; the demo model renders Veo's sizes / 8, rounded to even numbers: 240x136.
    assert_video(info, (240, 136), 8 * 24, audio=True, what="Vertex Veo 3 1080p")
    assert_signed(data, "Vertex Veo 3 1080p")


def test_sdk_versions_are_the_pinned_ones(js: dict[str, Any]) -> None:
    assert js["sdkVersion"] == SDKS[js["alias"]][0], js["sdkVersion"]
