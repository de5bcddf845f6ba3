"""The Gemini documentation's own Veo samples (JavaScript), run unchanged against a live genserve.

Each sample in tests/contract/samples/js_veo*.mjs is the documentation's code copied verbatim. It runs as a
subprocess whose environment holds only GOOGLE_GEMINI_BASE_URL and GEMINI_API_KEY (plus PATH and HOME), in a
fresh working directory inside tests/contract/js, so that `import ... from "@google/genai"` resolves to 1.30.0
(tests/contract/js/package.json), as it would in a user's project; the test then opens the MP4 the sample wrote.
How both variables reach the SDK: see tests/contract/test_image_samples.py.

Two things about the samples themselves:
- They poll every 10 s (`setTimeout(resolve, 10000)`), so the first poll comes 10 s after the submit. The demo
  models finish an 8 s clip in 1-3 s, so each sample takes a little over 10 s: within budget, run unchanged.
- They call `ai.files.download({...})` WITHOUT awaiting it, then print "Generated video saved to ...". The
  message comes before the bytes are written; what makes the sample work anyway is that Node does not exit while
  the download's fetch and file stream are pending, and an unhandled rejection (a failed download) exits with
  code 1. So the test requires exit 0 and then a complete file: read_mp4_info counts every frame, and the C2PA
  manifest's hash covers the whole file, so a truncated write fails both.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

# js_work (tests/contract/conftest.py): a fresh working directory where "@google/genai" resolves to 1.30.0.
from tests.contract.test_image_samples import run_js_sample as run_doc_sample

pytestmark = [pytest.mark.contract, pytest.mark.live]

SAMPLES = Path(__file__).parent / "samples"
WIDE_720P = (160, 90)  # Veo's 720p 16:9 (1280x720) on the demo models, which render at 1/8
FRAMES_8S = 8 * 24  # 24 fps; the default (and for Veo 3 the only) duration is 8 s
BUDGET_S = 40


def run_js_sample(name: str, live: Any, tmp_path: Path, js_work: Any) -> tuple[Path, str, float]:
    source = (SAMPLES / name).read_text()
    assert source.count('from "@google/genai"') == 1, f"{name}: the sample's import changed"
    started = time.monotonic()
    work, stdout = run_doc_sample(name, live, tmp_path, js_work)
    elapsed = time.monotonic() - started
    assert elapsed < BUDGET_S, f"{name} took {elapsed:.1f} s (budget {BUDGET_S} s)\nstdout:\n{stdout}"
    return work, stdout, elapsed


def assert_mp4(path: Path, *, audio: bool) -> None:
    from genserve.media.mp4 import read_mp4_info
    from genserve.provenance import verify_bytes

    assert path.is_file(), (
        f"the sample did not write {path.name}; the folder holds {sorted(p.name for p in path.parent.iterdir())}"
    )
    data = path.read_bytes()
    info = read_mp4_info(data)
    got = (info["codec"], info["pix_fmt"], info["fps"], info["width"], info["height"], info["frames"])
    assert got == ("h264", "yuv420p", 24.0, *WIDE_720P, FRAMES_8S), f"{path.name}: {info}"
    assert info["faststart"], f"{path.name}: moov is not before mdat: {info}"
    if audio:
        assert info["audio"] and info["audio"]["codec"] == "aac", f"{path.name}: Veo 3 without an AAC track: {info}"
        assert abs(info["audio"]["duration_s"] - 8.0) < 0.1, f"{path.name}: soundtrack length {info['audio']}"
    else:
        assert info["audio"] is None, f"{path.name}: Veo 2 is silent, yet the video has a soundtrack: {info['audio']}"
    report = verify_bytes(data, "video/mp4")
    assert report.c2pa_valid and report.ai_generated and report.watermark, f"{path.name}: provenance: {report.problems}"


def test_veo3_text_to_video_sample_saves_an_mp4_with_sound(live: Any, tmp_path: Path, js_work: Any) -> None:
    work, stdout, _ = run_js_sample("js_veo3_text_to_video.mjs", live, tmp_path, js_work)
    assert "Waiting for video generation to complete..." in stdout, "the sample never polled"
    assert "Generated video saved to dialogue_example.mp4" in stdout, stdout
    assert_mp4(work / "dialogue_example.mp4", audio=True)


def test_imagen_then_veo2_image_to_video_sample_saves_a_silent_mp4(live: Any, tmp_path: Path, js_work: Any) -> None:
    # Imagen (imagen-3.0-generate-002, :predict, which 1.30 still sends) draws the first frame; Veo 2 animates it.
    work, stdout, _ = run_js_sample("js_veo2_image_to_video.mjs", live, tmp_path, js_work)
    assert "Generated video saved to veo2_with_image_input.mp4" in stdout, stdout
    assert_mp4(work / "veo2_with_image_input.mp4", audio=False)


def test_veo3_parameters_sample_saves_an_mp4(live: Any, tmp_path: Path, js_work: Any) -> None:
    work, stdout, _ = run_js_sample("js_veo3_parameters.mjs", live, tmp_path, js_work)
    assert "Generated video saved to parameters_example.mp4" in stdout, stdout
    assert_mp4(work / "parameters_example.mp4", audio=True)


def test_polling_sample_loop_ends(live: Any, tmp_path: Path, js_work: Any) -> None:
    # The docs' polling fragment (1 s interval) downloads nothing: it must simply see `done` and exit cleanly.
    work, stdout, elapsed = run_js_sample("js_veo3_polling.mjs", live, tmp_path, js_work)
    assert sorted(p.name for p in work.iterdir()) == ["js_veo3_polling.mjs"], "the fragment wrote files"
    assert elapsed < 20, f"the 1 s polling loop took {elapsed:.1f} s to see done"
