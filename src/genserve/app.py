"""create_app: the services (composition.py) behind the routes, middleware and lifespan of one ASGI app."""

from __future__ import annotations

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
from genserve.core.catalog import Catalog
from genserve.core.files import utcnow
from genserve.operation_worker import WorkerProcess
from genserve.settings import Settings


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
        yield
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
