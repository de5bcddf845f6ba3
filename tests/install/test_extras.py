"""`pip install genserve[extra]` as a user does it: the wheel, built once, goes into a fresh virtual environment per
extra with nothing else installed by hand, and `genserve serve` there answers one request per feature of that extra.

The only steps before pip install are the ones the README documents: the CPU build of torch for the extras that use
torch, and llama-cpp-python built for this CPU (scripts/install-llamacpp leaves that wheel in .venv/wheels).
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.media import tiny_mp4, tiny_png

pytestmark = pytest.mark.install

ROOT = Path(__file__).resolve().parents[2]
LLAMA_WHEELS = ROOT / ".venv" / "wheels"  # written by scripts/install-llamacpp
TORCH = "torch==2.13.0"
LLAMA_CPP = "llama-cpp-python==0.3.36"
START_S = 240  # the demo checkpoints are written on the first start
KEY = {"x-goog-api-key": "k"}


def run(*args: str | Path, timeout: float = 900) -> None:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, args))} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", out, ROOT)
    (built,) = out.glob("genserve-*.whl")
    return built


def install(wheel: Path, extra: str, venv: Path) -> Path:
    """A fresh venv with genserve[extra]; returns its bin directory."""
    run(sys.executable, "-m", "venv", venv)
    pip = [venv / "bin" / "python", "-m", "pip", "install", "-q"]
    if extra in ("text", "image", "video", "all"):
        run(*pip, TORCH)  # the README's first step: otherwise pip resolves torch to a CUDA build
    if extra in ("llamacpp", "all"):
        run(*pip, "--find-links", LLAMA_WHEELS, LLAMA_CPP)  # built for this CPU, as docs/llamacpp.md says
    run(*pip, f"{wheel}[{extra}]" if extra else str(wheel))
    return venv / "bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(bin_dir: Path, data_dir: Path, *args: str) -> Iterator[str]:
    port = free_port()
    log_path = data_dir / "server.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GENSERVE_API_KEYS": "k"}
    with open(log_path, "w") as log:
        command = [bin_dir / "genserve", "serve", "--port", str(port), "--data-dir", str(data_dir), *args]
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_S
        while True:
            try:
                httpx.get(f"{url}/health", timeout=1)
                break
            except httpx.HTTPError:
                assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()[-5000:]
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert "Traceback" not in log_path.read_text(), log_path.read_text()[-5000:]


def post(url: str, path: str, body: dict, timeout: float = 120) -> dict:
    r = httpx.post(f"{url}{path}", json=body, headers=KEY, timeout=timeout)
    assert r.status_code == 200, r.text
    return r.json()


def generate(url: str, model: str, contents: object, config: dict) -> dict:
    return post(url, f"/v1beta/models/{model}:generateContent", {"contents": contents, "generationConfig": config})


def model_names(url: str) -> set[str]:
    r = httpx.get(f"{url}/v1beta/models?pageSize=1000", headers=KEY, timeout=30)
    assert r.status_code == 200, r.text
    return {m["name"].removeprefix("models/") for m in r.json().get("models", [])}


# -- one smoke check per feature ------------------------------------------------------------------------------


def check_files_and_errors(url: str, bin_dir: Path, tmp: Path) -> None:
    """What every install answers: the model list, the Files API, Google-style errors."""
    model_names(url)
    data = b"genserve install check\n"
    start = httpx.post(
        f"{url}/upload/v1beta/files",
        headers={
            **KEY,
            "X-Goog-Upload-Protocol": "resumable",
            "X-Goog-Upload-Command": "start",
            "X-Goog-Upload-Header-Content-Length": str(len(data)),
            "X-Goog-Upload-Header-Content-Type": "text/plain",
        },
        json={"file": {"displayName": "notes"}},
    )
    assert start.status_code == 200, start.text
    done = httpx.post(
        start.headers["x-goog-upload-url"],
        headers={"X-Goog-Upload-Command": "upload, finalize", "X-Goog-Upload-Offset": "0"},
        content=data,
    )
    assert done.status_code == 200, done.text
    name = done.json()["file"]["name"]
    got = httpx.get(f"{url}/v1beta/{name}", headers=KEY).json()
    assert got["sizeBytes"] == str(len(data)) and got["state"] == "ACTIVE"
    assert httpx.delete(f"{url}/v1beta/{name}", headers=KEY).status_code == 200
    missing = httpx.post(f"{url}/v1beta/models/no-such-model:generateContent", headers=KEY, json={"contents": "hi"})
    assert missing.status_code == 404 and missing.json()["error"]["status"] == "NOT_FOUND"
    start_headers = {**KEY, "X-Goog-Upload-Protocol": "resumable", "X-Goog-Upload-Command": "start"}
    bad = httpx.post(f"{url}/upload/v1beta/files", headers=start_headers, content=b'{"file": ')
    assert bad.status_code == 400 and bad.json()["error"]["status"] == "INVALID_ARGUMENT"


def check_text(url: str, bin_dir: Path, tmp: Path) -> None:
    """Text, structured output, embeddings, image input."""
    config = {"maxOutputTokens": 4, "temperature": 0}
    reply = post(
        url, "/v1beta/models/genserve-demo-chat:generateContent", {"contents": "hi", "generationConfig": config}
    )
    assert reply["usageMetadata"]["candidatesTokenCount"] >= 1
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    structured = {"maxOutputTokens": 24, "responseMimeType": "application/json", "responseJsonSchema": schema}
    reply = post(
        url, "/v1beta/models/genserve-demo-chat:generateContent", {"contents": "n?", "generationConfig": structured}
    )
    text = "".join(p.get("text", "") for p in reply["candidates"][0]["content"]["parts"])
    if reply["candidates"][0]["finishReason"] == "STOP":
        assert isinstance(json.loads(text)["n"], int)
    else:  # cut short by maxOutputTokens: still a prefix of JSON for the schema
        assert text.startswith('{"n":'), text
    embedded = post(url, "/v1beta/models/gemini-embedding-001:embedContent", {"content": {"parts": [{"text": "x"}]}})
    assert len(embedded["embedding"]["values"]) > 0
    picture = {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(tiny_png((64, 64))).decode()}}
    reply = generate(url, "genserve-demo-vision", [{"parts": [picture, {"text": "what is this?"}]}], config)
    assert reply["usageMetadata"]["promptTokenCount"] > 10  # the image's tokens are in the prompt


def check_images(url: str, bin_dir: Path, tmp: Path) -> None:
    """Imagen and Gemini-native images, each stamped with provenance that `genserve verify` reads back."""
    body = {"instances": [{"prompt": "a red square"}], "parameters": {"sampleCount": 1}}
    prediction = post(url, "/v1beta/models/imagen-4.0-generate-001:predict", body)["predictions"][0]
    image = tmp / "imagen.png"
    image.write_bytes(base64.b64decode(prediction["bytesBase64Encoded"]))
    run(bin_dir / "genserve", "verify", image, "--data-dir", tmp / "data")
    config = {"responseModalities": ["TEXT", "IMAGE"], "maxOutputTokens": 64}
    reply = post(
        url, "/v1beta/models/gemini-2.5-flash-image:generateContent", {"contents": "draw", "generationConfig": config}
    )
    parts = reply["candidates"][0]["content"]["parts"]
    assert any(p.get("inlineData", {}).get("mimeType") == "image/png" for p in parts), parts


def check_video(url: str, bin_dir: Path, tmp: Path) -> None:
    """A Veo operation runs to the end and its MP4 downloads."""
    body = {"instances": [{"prompt": "waves"}], "parameters": {"durationSeconds": 5}}
    operation = post(url, "/v1beta/models/veo-2.0-generate-001:predictLongRunning", body)
    deadline = time.monotonic() + 300
    while not operation.get("done"):
        assert time.monotonic() < deadline, operation
        time.sleep(1)
        operation = httpx.get(f"{url}/v1beta/{operation['name']}", headers=KEY, timeout=30).json()
    assert "error" not in operation, operation
    sample = operation["response"]["generateVideoResponse"]["generatedSamples"][0]
    # The URI says https:// whatever the server speaks (the SDKs require it, wire.md): fetch it as they do, by its
    # file id on the server's own base URL.
    file_id = sample["video"]["uri"].split("/files/")[1].split(":")[0]
    video = httpx.get(f"{url}/v1beta/files/{file_id}:download?alt=media", headers=KEY, timeout=60)
    assert video.status_code == 200 and video.content[4:8] == b"ftyp"


def check_media(url: str, bin_dir: Path, tmp: Path) -> None:
    """An uploaded video is probed: the file reports its duration."""
    data = tiny_mp4(tmp / "clip.mp4").read_bytes()
    done = httpx.post(
        f"{url}/upload/v1beta/files?uploadType=media",
        headers={**KEY, "content-type": "video/mp4"},
        content=data,
        timeout=60,
    )
    assert done.status_code == 200, done.text
    name = done.json()["file"]["name"]
    deadline = time.monotonic() + 60
    while (record := httpx.get(f"{url}/v1beta/{name}", headers=KEY).json())["state"] == "PROCESSING":
        assert time.monotonic() < deadline, record
        time.sleep(0.5)
    assert record["state"] == "ACTIVE" and float(record["videoMetadata"]["videoDuration"].rstrip("s")) > 0, record


def check_gguf(url: str, bin_dir: Path, tmp: Path) -> None:
    config = {"maxOutputTokens": 4, "temperature": 0}
    reply = generate(url, "gguf", "hi", config)
    assert reply["usageMetadata"]["candidatesTokenCount"] >= 1


def check_engines_name_their_extra(url: str, bin_dir: Path, tmp: Path) -> None:
    """Without extras the demo is empty, and a configured model whose engine is missing says what to install."""
    assert model_names(url) == {"chat"}
    r = httpx.post(f"{url}/v1beta/models/chat:generateContent", headers=KEY, json={"contents": "hi"})
    assert r.status_code == 503 and "pip install 'genserve[text]'" in r.json()["error"]["message"], r.text


Check = Callable[[str, Path, Path], None]
FEATURES: dict[str, list[Check]] = {
    "": [check_files_and_errors, check_engines_name_their_extra],
    "text": [check_files_and_errors, check_text],
    "media": [check_files_and_errors, check_media],
    "image": [check_files_and_errors, check_text, check_images],
    "video": [check_files_and_errors, check_text, check_images, check_video],
    "llamacpp": [check_files_and_errors, check_gguf],
    "all": [check_files_and_errors, check_text, check_images, check_video, check_media, check_gguf],
}


def catalog_file(extra: str, gguf: Path, tmp: Path) -> Path:
    """The models besides the demo: a GGUF for llama.cpp, or (no extras) a model no installed engine can run."""
    if extra in ("llamacpp", "all"):
        # One thread: a model this small gains nothing from more, and llama.cpp's spinning barriers on a busy
        # 2-core machine can slow it down a hundredfold.
        entry = f'name = "gguf"\nengine = "llamacpp"\npath = "{gguf}"\noptions = {{n_ctx = 2048, n_threads = 1}}\n'
    elif not extra:
        entry = 'name = "chat"\nengine = "transformers"\npath = "/nonexistent"\n'
    else:
        entry = ""
    path = tmp / "genserve.toml"
    path.write_text(f"[[models]]\n{entry}" if entry else "")
    return path


@pytest.fixture(scope="module")
def gguf(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from genserve.demo.gguf import write_gguf

    return write_gguf(demo_dir / "chat", tmp_path_factory.mktemp("gguf") / "chat.gguf")


@pytest.mark.parametrize("extra", list(FEATURES), ids=lambda e: e or "no-extra")
def test_each_extra_installs_alone_and_serves_its_features(extra: str, wheel: Path, gguf: Path, tmp_path: Path):
    bin_dir = install(wheel, extra, tmp_path / "venv")
    with serving(bin_dir, tmp_path / "data", "--config", str(catalog_file(extra, gguf, tmp_path)), "--demo") as url:
        for check in FEATURES[extra]:
            check(url, bin_dir, tmp_path)
