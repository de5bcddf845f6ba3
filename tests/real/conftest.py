"""A live server on the default catalog (fixtures `default_catalog_` in tests/conftest.py) and an SDK client for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google import genai
from google.genai import types

from genserve.core.catalog import Catalog
from tests.conftest import LiveServer, make_settings


@pytest.fixture(scope="session")
def default_live(default_catalog_: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(make_settings(tmp_path_factory.mktemp("default-live")), default_catalog_) as server:
        yield server


@pytest.fixture
def sdk(default_live: LiveServer) -> genai.Client:
    return genai.Client(api_key="test-key", http_options=types.HttpOptions(base_url=default_live.url))


# Greedy, and short: a 135M model may ramble to the 2,048-token default.
GREEDY = types.GenerateContentConfig(temperature=0, max_output_tokens=60)
