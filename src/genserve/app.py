"""create_app: the services (composition.py) behind the routes, middleware and lifespan of one ASGI app."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import APIRouter, Depends, FastAPI

from genserve import __version__
from genserve.api import (
    errors,
    openapi,
    routes_embed,
    routes_files,
    routes_generate,
    routes_models,
    routes_operations,
    routes_predict,
    routes_upload,
)
from genserve.api.auth import require_api_key
from genserve.api.body_limit import BodyLimit
from genserve.api.last_resort import LastResort
from genserve.api.operation_polls import OperationPolls
from genserve.api.versions import API_VERSIONS, VERTEX_MODEL_PREFIXES, VERTEX_VERSIONS
from genserve.composition import build_services, open_engines, open_storage
from genserve.core.catalog import Catalog, ModelEntry
from genserve.core.files import utcnow
from genserve.engines.manager import EngineManager, loaded_as
from genserve.errors import ApiError
from genserve.operation_worker import WorkerProcess
from genserve.settings import Settings

log = logging.getLogger("genserve")


def create_app(settings: Settings, catalog: Catalog, *, clock: Callable[[], datetime] = utcnow) -> FastAPI:
    engines = open_engines(settings)
    services = build_services(settings, catalog, engines, open_storage(settings), clock)
    lifecycle, operations = services.file_lifecycle, services.operations
    # Jobs run in a worker process of their own, or (tests, a fake clock) on this server's event loop.
    worker = WorkerProcess(settings, catalog) if settings.operation_process else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        lifecycle.start()
        if worker is not None:
            operations.recover()
            worker.start()
        else:
            operations.start()
        loading = asyncio.create_task(preload(engines, catalog))
        yield
        loading.cancel()
        await (worker.stop() if worker is not None else operations.stop())
        await lifecycle.stop()
        engines.close()

    app = FastAPI(title="genserve", version=__version__, lifespan=lifespan, docs_url="/docs", redoc_url=None)
    app.state.settings = settings
    app.state.engines = engines  # for health and test introspection; routes go through the services
    app.state.services = services
    errors.install(app)

    api = APIRouter(dependencies=[Depends(require_api_key)])
    modules = (routes_models, routes_generate, routes_predict, routes_operations, routes_embed, routes_files)
    for module in modules:
        api.include_router(module.router)
    for version in API_VERSIONS:
        app.include_router(api, prefix=f"/{version}")
    vertex = APIRouter(dependencies=[Depends(require_api_key)])
    for module in (routes_models, routes_generate, routes_predict, routes_operations, routes_embed):
        vertex.include_router(module.router)
    for version in VERTEX_VERSIONS:
        for prefix in VERTEX_MODEL_PREFIXES:
            app.include_router(vertex, prefix=f"/{version}{prefix}")
    app.include_router(routes_upload.router)  # authenticates itself: chunks carry the upload id instead
    openapi.install(app)

    @app.get("/health", include_in_schema=False)
    async def health() -> dict:
        return {"status": "ok"}

    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(OperationPolls, repository=operations.repo, api_keys=settings.api_keys)
    app.add_middleware(LastResort)  # outermost
    return app


async def preload(engines: EngineManager, catalog: Catalog) -> None:
    """Load the entries marked `preload`, one after another, while the server already answers: a request for one of
    them meanwhile waits for the same load instead of starting another. Video models load in the worker."""
    shared: dict[str, list[ModelEntry]] = {}  # entries served by one loaded engine
    for entry in catalog.entries:
        shared.setdefault(loaded_as(entry), []).append(entry)
    for entries in shared.values():
        entry = entries[0]
        if not any(e.preload for e in entries) or entry.task not in ("text", "embedding", "image"):
            continue
        started = time.monotonic()
        try:
            await engines.get(entry)
        except ApiError as exc:  # the model's requests get the same 503; the server goes on
            log.error("%s could not be preloaded: %s", entry.name, exc.message)
            continue
        names = ", ".join(name for e in entries for name in e.names)
        log.info("ready in %.1f s: %s", time.monotonic() - started, names)
