"""Fixtures the contract tests share."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.contract.js_runner import JS_DIR


@pytest.fixture
def js_work(tmp_path: Path) -> Any:
    """A fresh working directory inside tests/contract/js, so that Node resolves "@google/genai" from its
    node_modules exactly as it would in a user's project; removed afterwards."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: install Node.js 20+, then run ./scripts/test (npm install)")
    manifest = JS_DIR / "node_modules" / "@google" / "genai" / "package.json"
    if not manifest.is_file():
        pytest.fail(f"{manifest} is missing: run ./scripts/test, or (cd tests/contract/js && npm install)")
    if '"version": "1.30.0"' not in manifest.read_text():
        pytest.fail(f"{manifest} is not @google/genai 1.30.0, the version the samples are checked against")
    work = Path(tempfile.mkdtemp(prefix=".sample-", dir=JS_DIR))
    try:
        yield node, work
    finally:
        shutil.rmtree(work, ignore_errors=True)
