"""create_app: composes settings, catalog, engines and routes into one ASGI app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy import Engine

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
from genserve.core.catalog import Catalog
from genserve.core.embedding import EmbeddingService
from genserve.core.file_lifecycle import FileLifecycle
from genserve.core.file_types import FileLimits
from genserve.core.files import FilesService, utcnow
from genserve.core.generation import GenerationService
from genserve.core.illustrator import Illustrator
from genserve.core.image_generation import ImageService, provenance_factory
from genserve.core.operations import OperationsService
from genserve.core.safety import SafetyPolicy
from genserve.core.services import Services
from genserve.core.video_generation import KIND as VIDEO_JOB
from genserve.core.video_generation import VideoService
from genserve.engines.manager import EngineManager
from genserve.media.probe import probe_media
from genserve.operation_worker import WorkerProcess
from genserve.settings import Settings
from genserve.storage.blobs import LocalBlobStore
from genserve.storage.database import open_database
from genserve.storage.file_repository import FileRepository
from genserve.storage.operation_repository import OperationRepository


def create_files(settings: Settings, database: Engine, clock: Callable[[], datetime] = utcnow) -> FilesService:
    limits = FileLimits(
        ttl_hours=settings.files_ttl_hours,
        max_bytes=settings.files_max_bytes,
        quota_bytes=settings.files_quota_bytes,
        max_count=settings.files_max_count,
    )
    return FilesService(FileRepository(database), LocalBlobStore(settings.data_dir / "files"), limits, clock=clock)


def create_operations(
    settings: Settings, catalog: Catalog, database: Engine, files: FilesService, engines: EngineManager, clock=utcnow
) -> OperationsService:
    """The long-running operations and the video jobs they run: in the server, or alone in the operation worker
    process (operation_worker.py)."""
    provenance = provenance_factory(settings.data_dir / "provenance", settings.provenance_cert, settings.provenance_key)
    videos = VideoService(
        engines, files, catalog, provenance, SafetyPolicy(settings.image_blocklist), settings.generated_files_ttl_hours
    )
    return OperationsService(
        OperationRepository(database),
        {VIDEO_JOB: videos.run},
        concurrency=lambda model: catalog.get(model).max_concurrent_jobs,
        workers=settings.operation_workers,
        retention_hours=settings.generated_files_ttl_hours,
        clock=clock,
    )


def create_app(settings: Settings, catalog: Catalog, *, clock: Callable[[], datetime] = utcnow) -> FastAPI:
    engines = EngineManager(int(settings.model_memory_gib * 1024**3))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = open_database(f"sqlite:///{settings.data_dir / 'genserve.db'}")
    files = create_files(settings, database, clock)
    lifecycle = FileLifecycle(files, probe_media, settings.files_sweep_interval_s)
    operations = create_operations(settings, catalog, database, files, engines, clock)
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
    generation = GenerationService(engines, files)
    provenance = provenance_factory(settings.data_dir / "provenance", settings.provenance_cert, settings.provenance_key)
    safety = SafetyPolicy(settings.image_blocklist)
    images = ImageService(engines, provenance, safety)
    generation.illustrator = Illustrator(generation, images, catalog)
    app.state.services = Services(
        catalog=catalog,
        generation=generation,
        embedding=EmbeddingService(engines),
        images=images,
        operations=operations,
        files=files,
        file_lifecycle=lifecycle,
    )
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
