"""The Gemini documentation's own image-generation samples, run unchanged against a live genserve.

Each sample in tests/contract/samples/ is the documentation's code copied verbatim. It runs as a subprocess whose
environment holds only what a user following the docs would set to reach this server (GOOGLE_GEMINI_BASE_URL and
GEMINI_API_KEY) plus PATH and HOME, in a fresh working directory; the test then opens the files the sample wrote.

Both SDKs read GOOGLE_GEMINI_BASE_URL when no base URL is given in code (read in their source):
- google-genai 3.4.0: `google/genai/_base_url.py::get_base_url` returns `os.getenv('GOOGLE_GEMINI_BASE_URL')` in
  Developer-API mode; GEMINI_API_KEY is read by `_api_client.get_env_api_key` (GOOGLE_API_KEY would win).
- @google/genai 1.30.0: the GoogleGenAI constructor (dist/node/index.mjs) calls `getBaseUrl(options.httpOptions,
  options.vertexai, getEnv('GOOGLE_VERTEX_BASE_URL'), getEnv('GOOGLE_GEMINI_BASE_URL'))`
  and `getApiKeyFromEnv()` (GOOGLE_API_KEY, then GEMINI_API_KEY); `new GoogleGenAI({})` uses both.
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

pytestmark = [pytest.mark.contract, pytest.mark.live]

SAMPLES = Path(__file__).parent / "samples"
PYTHON = sys.executable  # the main environment: google-genai 3.4.0 and Pillow, as the docs' `pip install` gives
PIG = "gemini-native-image.png"
SQUARE = (128, 128)  # the demo Imagen model's 1:1 size (Imagen's 1024 / 8)
WIDE_INPUT = (200, 100)  # the picture handed to the editing samples: their output keeps its 2:1 shape


def write_png(path: Path, size: tuple[int, int]) -> None:
    """A picture with some structure (a gradient and a block), as a photo of the user would have."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    image.paste((200, 40, 40), (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2))
    image.save(path)


def fake_viewer(bin_dir: Path, shown_dir: Path) -> None:
    """An `xdg-open` that keeps what it is asked to show.

    The Python samples end in PIL's `image.show()`, which on Linux saves the picture to a temporary PNG and hands it
    to the first viewer found on PATH (`xdg-open` first). This stand-in copies the file into `shown_dir`: that is
    how the test sees the picture the editing sample shows its user, which it writes nowhere else."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    shown_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / "xdg-open"
    script.write_text(f'#!/bin/sh\ncp "$1" "{shown_dir}/shown-$(date +%s%N)-$$.png"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def sample_env(live: Any, home: Path, bin_dir: Path | None = None) -> dict[str, str]:
    path = os.environ.get("PATH", "/usr/bin:/bin")
    return {
        "PATH": f"{bin_dir}{os.pathsep}{path}" if bin_dir else path,
        "HOME": str(home),
        "GOOGLE_GEMINI_BASE_URL": live.url,
        "GEMINI_API_KEY": "anything",
    }


def run_sample(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{' '.join(cmd)} did not finish in 120 s\nstdout: {exc.stdout!r}\nstderr: {exc.stderr!r}")
    assert proc.returncode == 0, (
        f"the documentation sample {cmd[-1]} failed (exit {proc.returncode})\n"
        f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}"
    )
    return proc


def wait_for_files(folder: Path, pattern: str, timeout_s: float = 10) -> list[Path]:
    """The viewer runs detached (PIL does not wait for it): give its copy a moment to land."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = sorted(folder.glob(pattern))
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def provenance(data: bytes, mime: str = "image/png") -> Any:
    from genserve.provenance import verify_bytes

    return verify_bytes(data, mime)


def assert_png(path: Path, size: tuple[int, int]) -> bytes:
    assert path.is_file(), f"the sample did not write {path.name}; the folder holds {sorted(os.listdir(path.parent))}"
    data = path.read_bytes()
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert (image.format, image.size) == ("PNG", size), f"{path.name}: {image.format} {image.size}"
    return data


def assert_server_provenance(data: bytes, what: str) -> None:
    """Bytes exactly as the server sent them: signed content credentials and the invisible watermark."""
    report = provenance(data)
    assert report.c2pa_valid and report.ai_generated and report.genserve_signed, f"{what}: C2PA: {report.problems}"
    assert report.watermark, f"{what}: no invisible watermark"


def assert_watermark_survived(data: bytes, what: str) -> None:
    """The Python samples decode the server's PNG with PIL and save or show a re-encoded copy. PIL writes only the
    chunks it knows, so the C2PA manifest (a PNG `caBX` chunk, bound to the original bytes) cannot survive that;
    the watermark lives in the pixels, which a lossless re-save keeps, so it must still be there."""
    assert provenance(data).watermark, f"{what}: the invisible watermark did not survive a lossless PNG re-save"


# ---------------------------------------------------------------------------------------------
# Python (google-genai 3.4.0, the main environment)


def test_python_text_to_image_sample_saves_a_marked_png(live: Any, tmp_path: Path) -> None:
    fake_viewer(tmp_path / "bin", tmp_path / "shown")
    work = tmp_path / "work"
    work.mkdir()
    proc = run_sample(
        [PYTHON, str(SAMPLES / "python_text_to_image.py")], work, sample_env(live, tmp_path, tmp_path / "bin")
    )
    saved = assert_png(work / PIG, SQUARE)
    assert_watermark_survived(saved, PIG)
    shown = wait_for_files(tmp_path / "shown", "*.png")
    assert shown, f"image.show() was never reached (no image part?); stdout:\n{proc.stdout}"
    with Image.open(shown[-1]) as image:
        assert image.size == SQUARE


def test_python_image_editing_sample_shows_an_edit_shaped_like_the_input(live: Any, tmp_path: Path) -> None:
    fake_viewer(tmp_path / "bin", tmp_path / "shown")
    work = tmp_path / "work"
    picture = work / "me.png"
    write_png(picture, WIDE_INPUT)
    # The only change to the sample: its absolute placeholder '/path/to/image.png' cannot be created without root,
    # so that one literal is replaced by a real PNG's path in the copy that runs. Everything else is verbatim.
    source = (SAMPLES / "python_image_editing.py").read_text()
    assert source.count("'/path/to/image.png'") == 1, "the sample's placeholder path changed"
    runnable = work / "python_image_editing.py"
    runnable.write_text(source.replace("'/path/to/image.png'", repr(str(picture))))
    proc = run_sample([PYTHON, str(runnable)], work, sample_env(live, tmp_path, tmp_path / "bin"))
    shown = wait_for_files(tmp_path / "shown", "*.png")
    assert shown, f"image.show() was never reached: the reply had no image part; stdout:\n{proc.stdout}"
    for path in shown:
        data = path.read_bytes()
        width, height = Image.open(io.BytesIO(data)).size
        assert (width, height) == (128, 64), f"the edit of a 200x100 picture came back {width}x{height}, not 2:1"
        assert_watermark_survived(data, "the edited picture")


# ---------------------------------------------------------------------------------------------
# JavaScript (`import ... from "@google/genai"`, which tests/contract/js/package.json pins to 1.30.0)


def run_js_sample(name: str, live: Any, tmp_path: Path, js_work: Any) -> tuple[Path, str]:
    node, work = js_work
    shutil.copy(SAMPLES / name, work / name)
    proc = run_sample([node, name], work, sample_env(live, tmp_path))
    return work, proc.stdout


def test_the_js_samples_import_sdk_1_30_0(js_work: Any) -> None:
    node, work = js_work
    probe = "import { createRequire } from 'node:module';\n"
    probe += "console.log(createRequire(import.meta.url).resolve('@google/genai'));\n"
    (work / "probe.mjs").write_text(probe)
    resolved = subprocess.run([node, "probe.mjs"], cwd=work, capture_output=True, text=True, timeout=60)
    assert resolved.returncode == 0, resolved.stderr
    package = Path(resolved.stdout.strip()).parents[2] / "package.json"
    assert '"version": "1.30.0"' in package.read_text(), f"@google/genai resolved to {package}"


def test_js_text_to_image_sample_saves_a_signed_png(live: Any, tmp_path: Path, js_work: Any) -> None:
    work, stdout = run_js_sample("js_text_to_image.mjs", live, tmp_path, js_work)
    assert "Image saved as gemini-native-image.png" in stdout, stdout
    assert_server_provenance(assert_png(work / PIG, SQUARE), PIG)


def test_js_image_editing_sample_saves_an_edit_shaped_like_the_input(live: Any, tmp_path: Path, js_work: Any) -> None:
    # The sample reads the relative "path/to/image.png": it is written there, in the sample's working directory.
    write_png(js_work[1] / "path" / "to" / "image.png", WIDE_INPUT)
    work, stdout = run_js_sample("js_image_editing.mjs", live, tmp_path, js_work)
    assert "Image saved as gemini-native-image.png" in stdout, stdout
    assert_server_provenance(assert_png(work / PIG, (128, 64)), "the edited picture")


def test_js_imagen_sample_saves_four_distinct_signed_pngs(live: Any, tmp_path: Path, js_work: Any) -> None:
    work, _ = run_js_sample("js_imagen.mjs", live, tmp_path, js_work)
    pictures = [assert_png(work / f"imagen-{i}.png", SQUARE) for i in range(1, 5)]
    assert not (work / "imagen-5.png").exists(), "numberOfImages: 4 gave more than four images"
    pixels = {Image.open(io.BytesIO(p)).tobytes() for p in pictures}
    assert len(pixels) == 4, "the four images of one request are not all different"
    for i, data in enumerate(pictures, 1):
        assert_server_provenance(data, f"imagen-{i}.png")
