"""The `genserve` command as a user runs it: a real process, a real port."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from genserve.cli.infer import infer_capabilities, infer_engine

pytestmark = pytest.mark.live
GENSERVE = [sys.executable, "-m", "genserve.cli.main"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args, tmp_path):
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    with open(tmp_path / "server.log", "w") as log:  # the server writes to its own copy of the descriptor
        proc = subprocess.Popen(
            [*GENSERVE, "serve", "--port", str(port), *args], stdout=log, stderr=subprocess.STDOUT, env=env
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return proc, f"http://127.0.0.1:{port}"
        except httpx.HTTPError:
            if proc.poll() is not None:
                break
            time.sleep(0.2)
    proc.kill()
    raise AssertionError((tmp_path / "server.log").read_text())


def test_serve_model_flags_and_api_keys(demo_dir, tmp_path):
    proc, url = start(
        [
            "--model",
            f"chat={demo_dir / 'chat'}",
            "--model",
            f"vec={demo_dir / 'embedding'}",
            "--api-key",
            "k1",
            "--data-dir",
            str(tmp_path),
        ],
        tmp_path,
    )
    try:
        # The demo chat template has a reasoning switch, so the flag made `chat` a thinking model: turn it off.
        config = {"maxOutputTokens": 4, "temperature": 0, "thinkingConfig": {"thinkingBudget": 0}}
        body = {"contents": "hi", "generationConfig": config}
        assert httpx.post(f"{url}/v1/models/chat:generateContent", json=body).status_code == 403
        r = httpx.post(f"{url}/v1/models/chat:generateContent", json=body, headers={"x-goog-api-key": "k1"}, timeout=60)
        assert r.status_code == 200 and r.json()["usageMetadata"]["candidatesTokenCount"] == 4
        r = httpx.post(
            f"{url}/v1/models/vec:embedContent?key=k1", json={"content": {"parts": [{"text": "x"}]}}, timeout=60
        )
        assert len(r.json()["embedding"]["values"]) == 64
        names = [m["name"] for m in httpx.get(f"{url}/v1/models?key=k1").json()["models"]]
        assert names == ["models/chat", "models/vec"]  # no demo catalog when models are given
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_serve_without_configuration_serves_the_default_catalog_with_a_banner(default_data_dir, tmp_path):
    # The session's demo checkpoints and converted SmolLM2, instead of building them again.
    (tmp_path / "demo-models").symlink_to(default_data_dir / "demo-models")
    (tmp_path / "models").symlink_to(default_data_dir / "models")
    proc, url = start(["--data-dir", str(tmp_path)], tmp_path)
    try:
        model = httpx.get(f"{url}/v1beta/models/gemini-2.0-flash").json()
        assert "SmolLM2-135M-Instruct" in model["displayName"]
        deadline = time.monotonic() + 60  # the real models load at start, after the server listens
        while "ready in" not in (tmp_path / "server.log").read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    log = (tmp_path / "server.log").read_text()
    assert "REAL    SmolLM2-135M-Instruct" in log and "RANDOM  weights" in log and "imagen-3.0-generate-002" in log
    assert "ready in" in log and "gemini-2.0-flash" in log.split("ready in", 1)[1]


def test_demo_models_command_writes_loadable_checkpoints(tmp_path):
    out = subprocess.run([*GENSERVE, "demo-models", str(tmp_path / "d")], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert infer_engine(str(tmp_path / "d" / "chat")) == "transformers"
    assert infer_engine(str(tmp_path / "d" / "embedding")) == "transformers-embedding"
    assert infer_engine(str(tmp_path / "d" / "vision")) == "transformers-vision"
    assert (tmp_path / "d" / "chat" / "chat_template.jinja").exists()
    caps = infer_capabilities(str(tmp_path / "d" / "vision"), "transformers-vision")
    assert caps == {
        "input_token_limit": 8192,  # the text model's max_position_embeddings
        "output_token_limit": 2048,
        "structured_output": True,
        "function_calling": True,
        "thinking": True,
        "input_modalities": ["text", "image"],
    }


def test_a_bad_catalog_is_reported_without_a_traceback(tmp_path):
    bad = Path(tmp_path / "c.toml")
    bad.write_text('[[models]]\nname = "a"\nengine = "nope"\npath = "x"\n')
    out = subprocess.run([*GENSERVE, "serve", "--config", str(bad)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "unknown engine 'nope'" in out.stderr and "Traceback" not in out.stderr
