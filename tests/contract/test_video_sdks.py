"""Veo generate_videos through the official Python SDKs against a live genserve.

- google-genai 2.x still sends :predictLongRunning in Developer-API mode (wire.md §5b). tests/contract/oldsdk/
  veo_v2.py runs in each old environment: 2.19.0 (.venv-sdk219, observed in wire.md) and 2.34.0 (.venv-oldsdk,
  the newest 2.x; wire.md had it from the source only, and it does send it). It does what the docs do:
  generate_videos, `while not op.done: op = client.operations.get(op)`, then `client.files.download(file=video)`
  and `video.save(path)`, and prints what it saw; the assertions and the MP4 checks live here.
- The newest SDK (google-genai 3.4.0 in .venv) refuses generate_videos in Developer-API mode before sending
  anything (asserted), so it is driven in Vertex express mode (vertexai=True, an API key, base_url):
  /v1beta1/publishers/google/models/{m}:predictLongRunning, polled by :fetchPredictOperation, the bytes inline.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from google import genai
from google.genai import errors, types
from PIL import Image

pytestmark = [pytest.mark.contract, pytest.mark.live]

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).resolve().parent / "oldsdk" / "veo_v2.py"
BIN = "Scripts/python.exe" if sys.platform == "win32" else "bin/python"
OLD_SDKS = {"2.19.0": ROOT / ".venv-sdk219" / BIN, "2.34.0": ROOT / ".venv-oldsdk" / BIN}
PORTRAIT, WIDE = (90, 160), (160, 90)  # Veo's 720p sizes on the demo models (1/8)
FULL_HD = (240, 136)  # 1080p 16:9 is 1920x1080; / 8 is 240x135, rounded to even numbers (H.264 4:2:0) 240x136


def mp4_info(data: bytes) -> dict[str, Any]:
    from genserve.media.mp4 import read_mp4_info

    return read_mp4_info(data)


def assert_video(data: bytes, size: tuple[int, int], seconds: int, *, audio: bool, what: str) -> dict[str, Any]:
    info = mp4_info(data)
    got = (info["codec"], info["profile"], info["pix_fmt"], info["fps"], info["width"], info["height"])
    assert got == ("h264", "High", "yuv420p", 24.0, *size), f"{what}: {info}"
    assert info["frames"] == seconds * 24, f"{what}: {info['frames']} frames for {seconds} s at 24 fps"
    assert info["faststart"], f"{what}: moov is not before mdat"
    if audio:
        track = info["audio"]
        assert track and track["codec"] == "aac", f"{what}: no AAC soundtrack: {info}"
        assert (track["sample_rate"], track["channels"]) == (44100, 2), f"{what}: {track}"
        assert abs(track["duration_s"] - seconds) < 0.1, f"{what}: the soundtrack lasts {track['duration_s']} s"
    else:
        assert info["audio"] is None, f"{what}: a silent model's video has a soundtrack: {info['audio']}"
    from genserve.provenance import verify_bytes

    report = verify_bytes(data, "video/mp4")
    assert report.c2pa_valid and report.ai_generated and report.watermark, f"{what}: provenance: {report.problems}"
    return info


def write_frame(path: Path, size: tuple[int, int] = (64, 36)) -> Path:
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    image.paste((220, 90, 30), (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2))
    image.save(path, "PNG")
    return path


def png_bytes(path: Path) -> bytes:
    return path.read_bytes()


# ---------------------------------------------------------------------------------------------
# google-genai 2.19.0 and 2.34.0, Developer-API mode


def run_old_sdk(python: Path, base_url: str, out: Path, frame: Path) -> dict[str, Any]:
    if not python.exists():
        pytest.fail(f"{python} is missing: the old google-genai environment is not installed; run ./scripts/test")
    drop = {"GOOGLE_GEMINI_BASE_URL", "GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_CLOUD_PROJECT", "GOOGLE_API_KEY"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update({"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost", "PYTHONWARNINGS": "ignore"})
    cmd = [str(python), str(SCRIPT), base_url, str(out), str(frame)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env, cwd=ROOT)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"veo_v2.py did not finish in 180 s; stderr:\n{exc.stderr}")
    if proc.returncode != 0:
        pytest.fail(f"veo_v2.py exited {proc.returncode}; stderr:\n{proc.stderr[-4000:]}")
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        pytest.fail(f"veo_v2.py printed no JSON; stdout:\n{proc.stdout[-2000:]}\nstderr:\n{proc.stderr[-2000:]}")


@pytest.fixture(scope="module", params=list(OLD_SDKS))
def old(request: pytest.FixtureRequest, live: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp(f"veo-{request.param}")
    report = run_old_sdk(OLD_SDKS[request.param], live.url, out, write_frame(out / "frame.png"))
    assert report["meta"]["version"] == request.param, f"environment: expected {request.param}, got {report['meta']}"
    return report


def observed(report: dict[str, Any], name: str) -> dict[str, Any]:
    result = report["checks"][name]
    if "error" in result:
        pytest.fail(
            f"{name}: google-genai {report['meta']['version']} raised {result['error']}\n"
            f"requests: {result['paths']}\nbodies: {json.dumps(result.get('bodies'))[:2000]}\n"
            f"{result.get('traceback', '')}"
        )
    return result


def assert_polled_and_downloaded(result: dict[str, Any], model: str, count: int) -> None:
    name = result["submitted"]["name"]
    assert name.startswith(f"models/{model}/operations/"), name
    assert result["submitted"]["done"] is None, "the POST must answer at once with a not-done operation"
    paths = result["paths"]
    assert paths[0] == f"POST /v1beta/models/{model}:predictLongRunning", paths
    polls = [p for p in paths if "/operations/" in p]
    assert polls and set(polls) == {f"GET /v1beta/{name}"}, paths
    downloads = [p for p in paths if ":download" in p]
    assert len(downloads) == count and all(p.endswith(":download?alt=media") for p in downloads), paths
    assert result["done"] is True and result["operation_error"] is None, result
    assert result["rai_media_filtered_count"] == 0, result
    assert result["result_is_response"], "op.result and op.response differ"
    assert len(result["videos"]) == count, result["videos"]
    for video in result["videos"]:
        assert video["uri"].startswith("https://"), video  # an http:// URI would break the SDK's id parsing
        assert video["video_bytes_set"], f"files.download did not fill video.video_bytes: {video}"
    for metadata in (m for m in result["metadata"] if m):  # polls that found it still running
        assert metadata["state"] in ("QUEUED", "RUNNING"), metadata
        assert 0 <= metadata["progressPercent"] <= 100, metadata


def test_old_sdk_two_portrait_videos_downloaded_and_saved(old: dict[str, Any]) -> None:
    result = observed(old, "two_portrait_videos")
    assert result["bodies"][0] == {
        "instances": [{"prompt": "A paper lantern floating up into the night sky"}],
        "parameters": {
            "sampleCount": 2,
            "durationSeconds": 5,
            "aspectRatio": "9:16",
            "personGeneration": "allow_adult",
            "negativePrompt": "blur",
        },
    }, result["bodies"][0]
    assert_polled_and_downloaded(result, "veo-2.0-generate-001", 2)
    clips = []
    for i, video in enumerate(result["videos"]):
        data = Path(video["path"]).read_bytes()  # what video.save(path) wrote
        assert len(data) == video["downloaded_bytes"], "video.save wrote other bytes than files.download returned"
        assert_video(data, PORTRAIT, 5, audio=False, what=f"video {i}")
        clips.append(data)
    assert clips[0] != clips[1], "the two videos of one request are identical"


def test_old_sdk_image_to_video(old: dict[str, Any]) -> None:
    result = observed(old, "image_to_video")
    instance = result["bodies"][0]["instances"][0]
    assert instance["image"]["mimeType"] == "image/png", instance
    assert_polled_and_downloaded(result, "veo-2.0-generate-001", 1)
    assert_video(Path(result["videos"][0]["path"]).read_bytes(), WIDE, 6, audio=False, what="image-to-video")


def test_old_sdk_first_and_last_frame(old: dict[str, Any]) -> None:
    result = observed(old, "first_and_last_frame")
    assert set(result["bodies"][0]["instances"][0]) == {"prompt", "image", "lastFrame"}, result["bodies"][0]
    assert_polled_and_downloaded(result, "veo-2.0-generate-001", 1)
    assert_video(Path(result["videos"][0]["path"]).read_bytes(), WIDE, 5, audio=False, what="first+last frame")


@pytest.mark.parametrize(
    ("check", "needle"),
    [
        ("image_on_veo3", "image-to-video"),
        ("three_videos", "sampleCount"),
        ("four_seconds", "durationSeconds"),
        ("square", "aspectRatio"),
        ("undecodable_image", "instances[0].image"),
    ],
)
def test_old_sdk_what_the_model_cannot_do_is_a_400(old: dict[str, Any], check: str, needle: str) -> None:
    result = observed(old, check)
    assert result["raised"] == "ClientError" and result["code"] == 400, result
    assert result["status"] == "INVALID_ARGUMENT" and needle in result["message"], result["message"]
    assert len(result["paths"]) == 1 and result["paths"][0].endswith(":predictLongRunning"), result["paths"]


# ---------------------------------------------------------------------------------------------
# google-genai 3.4.0


class Recorder:
    def __init__(self) -> None:
        self.paths: list[str] = []

    def __call__(self, request: httpx.Request) -> None:
        self.paths.append(f"{request.method} {request.url.path}")


@pytest.fixture
def vertex(live: Any) -> tuple[genai.Client, Recorder]:
    recorder = Recorder()
    options = types.HttpOptions(base_url=live.url, client_args={"event_hooks": {"request": [recorder]}})
    return genai.Client(vertexai=True, api_key="k", http_options=options), recorder


def wait(client: genai.Client, op: types.GenerateVideosOperation) -> types.GenerateVideosOperation:
    deadline = time.monotonic() + 90
    while not op.done:
        assert time.monotonic() < deadline, f"{op.name} not done after 90 s"
        time.sleep(0.5)
        op = client.operations.get(op)
    return op


def test_newest_sdk_refuses_veo_in_developer_api_mode(live: Any) -> None:
    # Why the rest of this section uses Vertex express mode: 3.x refuses on the client, nothing is sent.
    recorder = Recorder()
    options = types.HttpOptions(base_url=live.url, client_args={"event_hooks": {"request": [recorder]}})
    developer = genai.Client(api_key="k", http_options=options)
    with pytest.raises(ValueError, match="only supported in Gemini Enterprise Agent Platform mode"):
        developer.models.generate_videos(model="veo-2.0-generate-001", source=types.GenerateVideosSource(prompt="x"))
    assert recorder.paths == [], recorder.paths


def test_vertex_veo3_1080p_with_audio_comes_back_inline(vertex: Any, tmp_path: Path) -> None:
    client, recorder = vertex
    op = client.models.generate_videos(
        model="veo-3.0-generate-001",
        source=types.GenerateVideosSource(prompt="Rain on a tin roof, a dog barks twice"),
        config=types.GenerateVideosConfig(generate_audio=True, resolution="1080p"),
    )
    assert op.name.startswith("publishers/google/models/veo-3.0-generate-001/operations/"), op.name
    assert not op.done, "the POST must answer at once with a not-done operation"
    op = wait(client, op)
    assert op.error is None, op.error
    base = "/v1beta1/publishers/google/models/veo-3.0-generate-001"
    assert recorder.paths[0] == f"POST {base}:predictLongRunning", recorder.paths
    assert set(recorder.paths[1:]) == {f"POST {base}:fetchPredictOperation"}, recorder.paths
    [generated] = op.response.generated_videos
    video = generated.video
    assert video.mime_type == "video/mp4" and video.video_bytes, video
    assert_video(video.video_bytes, FULL_HD, 8, audio=True, what="Vertex Veo 3 1080p")
    path = tmp_path / "storm.mp4"
    video.save(str(path))
    assert path.read_bytes() == video.video_bytes, "video.save wrote other bytes"


def test_vertex_veo31_portrait_from_a_first_and_last_frame(vertex: Any, tmp_path: Path) -> None:
    client, _ = vertex
    frame = png_bytes(write_frame(tmp_path / "frame.png"))
    op = client.models.generate_videos(
        model="veo-3.1-generate-preview",
        source=types.GenerateVideosSource(
            prompt="The lantern drifts upward", image=types.Image(image_bytes=frame, mime_type="image/png")
        ),
        config=types.GenerateVideosConfig(
            aspect_ratio="9:16", last_frame=types.Image(image_bytes=frame, mime_type="image/png")
        ),
    )
    op = wait(client, op)
    assert op.error is None, op.error
    [generated] = op.response.generated_videos
    assert_video(generated.video.video_bytes, PORTRAIT, 8, audio=True, what="Vertex Veo 3.1 9:16")


def test_vertex_generate_audio_false_on_veo3_is_a_400(vertex: Any) -> None:
    client, _ = vertex
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_videos(
            model="veo-3.0-generate-001",
            source=types.GenerateVideosSource(prompt="silence"),
            config=types.GenerateVideosConfig(generate_audio=False),
        )
    assert caught.value.code == 400 and "generateAudio" in caught.value.message, caught.value
