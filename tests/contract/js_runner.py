"""Runs one of the Node scripts in js/ against a live server and returns the JSON it printed last."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

JS_DIR = Path(__file__).parent / "js"

# alias -> (exact SDK version, the API version it puts in the URL by default)
SDKS: dict[str, tuple[str, str]] = {
    "genai3": ("3.1.0", "v1"),
    "genai2": ("2.32.0", "v1beta"),
    "genai130": ("1.30.0", "v1beta"),
}


def run_node(script: str, base_url: str, alias: str, *extra: str, timeout_s: float = 120) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: install Node.js 20+, then run ./scripts/test (npm install)")
    if not (JS_DIR / "node_modules" / alias / "package.json").is_file():
        pytest.fail(
            f"{JS_DIR / 'node_modules' / alias} is missing: run ./scripts/test (npm install), "
            "or: (cd tests/contract/js && npm install --no-audit --no-fund)"
        )
    cmd = [node, str(JS_DIR / script), base_url, alias, *extra]
    try:
        proc = subprocess.run(cmd, cwd=JS_DIR, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{' '.join(cmd)} did not finish in {timeout_s} s\nstdout: {exc.stdout!r}\nstderr: {exc.stderr!r}")
    if proc.returncode != 0:
        pytest.fail(
            f"{' '.join(cmd)} exited {proc.returncode}\nstdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}"
        )
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    try:
        return json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        pytest.fail(
            f"{' '.join(cmd)} printed no JSON result\nstdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}"
        )
