"""Shared fixtures: the demo checkpoints (built once), a catalog, the default catalog (its real models from the
pinned packages ./scripts/test installs; without them those tests fail, never skip), an in-process client and a live
server."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn

from genserve.api.http_server import uvicorn_config
from genserve.app import create_app
from genserve.core.catalog import Catalog, ModelEntry
from genserve.demo import default_catalog, demo_catalog, write_demo_models
from genserve.demo.packaged import PACKAGED
from genserve.settings import Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never download anything

SCRIPTED = [
    # Deterministic engines for protocol tests: exact text, a slow stream, a failure after the first chunk.
    ModelEntry(name="scripted", engine="scripted", path="-", options={"chunks": ["Hello", " from", " genserve."]}),
    ModelEntry(name="scripted-slow", engine="scripted", path="-", options={"chunks": ["tick "] * 400, "delay": 0.02}),
    ModelEntry(
        name="scripted-fails", engine="scripted", path="-", options={"chunks": ["a", "b", "c"], "fail_after": 1}
    ),
    # A tool loop in the model's raw (Hermes) format: a call, then an answer once the result is in.
    ModelEntry(
        name="scripted-tools",
        engine="scripted",
        path="-",
        function_calling=True,
        options={
            "replies": [
                [
                    "Checking",
                    " the weather.",
                    '<tool_call>\n{"name": "get_weather", ',
                    '"arguments": {"city": "Paris"}}\n</tool_call>',
                ],
                ["It is", " sunny", " in Paris."],
            ]
        },
    ),
]


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cached = os.environ.get("GENSERVE_TEST_DEMO_DIR")  # lets a developer reuse checkpoints between runs
    return write_demo_models(Path(cached) if cached else tmp_path_factory.mktemp("demo-models"))


@pytest.fixture(scope="session")
def catalog(demo_dir: Path) -> Catalog:
    return Catalog(demo_catalog(demo_dir).entries + SCRIPTED)


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


def make_settings(tmp: Path, **overrides: object) -> Settings:
    # In-process tests run operations on the app's own loop (a fake clock, no process start-up per test);
    # tests/live/ covers the worker process through `genserve serve`.
    return Settings(data_dir=tmp, **{"operation_process": False, **overrides})


class FakeClock:
    """A clock tests move by hand (file expiry)."""

    def __init__(self) -> None:
        from datetime import datetime, timezone

        self.now = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def __call__(self):
        return self.now

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self.now += timedelta(**delta)


@asynccontextmanager
async def app_client(catalog: Catalog, settings: Settings, **kwargs: object) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client on an app of its own (custom settings, clock); its lifespan runs."""
    app = create_app(settings, catalog, **kwargs)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://genserve.test") as c:
            c.app = app  # type: ignore[attr-defined]
            yield c


@pytest.fixture
async def client(catalog: Catalog, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    # A real bug still reaches the client as a 500 envelope: the transport does not re-raise it.
    async with app_client(catalog, make_settings(tmp_path)) as c:
        yield c


class LiveServer:
    """A real uvicorn server on 127.0.0.1 in a background thread (streaming, disconnects, SDKs, JS)."""

    def __init__(self, settings: Settings, catalog: Catalog) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        settings = settings.model_copy(update={"host": "127.0.0.1", "port": self.port})
        self.server = uvicorn.Server(uvicorn_config(create_app(settings, catalog), settings, log_level="warning"))
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve()), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("live server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def live(catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(make_settings(tmp_path_factory.mktemp("live-data")), catalog) as server:
        yield server
