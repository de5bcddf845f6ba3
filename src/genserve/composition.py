"""The composition root: builds the services from settings and the catalog, for the HTTP app (app.py) and for the
operation worker process (operation_worker.py) alike. No web framework here, so the worker never loads one."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from genserve.core.catalog import Catalog
from genserve.core.embedding import EmbeddingService
from genserve.core.file_lifecycle import FileLifecycle
from genserve.core.file_types import FileLimits
from genserve.core.files import FilesService, utcnow
from genserve.core.generation import GenerationService
from genserve.core.image_generation import ImageService, Stamper
from genserve.core.operations import OperationsService
from genserve.core.safety import SafetyPolicy
from genserve.core.services import Services
from genserve.core.video_generation import KIND as VIDEO_JOB
from genserve.core.video_generation import VideoService
from genserve.engines.manager import EngineManager
from genserve.errors import Unavailable
from genserve.media.probe import probe_media
from genserve.settings import Settings
from genserve.storage.blobs import LocalBlobStore
from genserve.storage.database import open_database
from genserve.storage.file_repository import FileRepository
from genserve.storage.operation_repository import OperationRepository

Clock = Callable[[], datetime]


def open_engines(settings: Settings) -> EngineManager:
    return EngineManager(int(settings.model_memory_gib * 1024**3))


def open_storage(settings: Settings) -> Engine:
    """The metadata database under data_dir; the server and the worker share it (it is their only link)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return open_database(f"sqlite:///{settings.data_dir / 'genserve.db'}")


def build_files(settings: Settings, database: Engine, clock: Clock = utcnow) -> FilesService:
    limits = FileLimits(
        ttl_hours=settings.files_ttl_hours,
        max_bytes=settings.files_max_bytes,
        quota_bytes=settings.files_quota_bytes,
        max_count=settings.files_max_count,
    )
    return FilesService(FileRepository(database), LocalBlobStore(settings.data_dir / "files"), limits, clock=clock)


def build_provenance(settings: Settings) -> Callable[[], Stamper]:
    """The stamper of generated media, made on first use: its libraries (the [image] extra) load only when media is
    made, and a missing extra is a clear 503 then, not a failed start."""
    made: list[Stamper] = []

    def get() -> Stamper:
        if not made:
            missing = [name for name in ("c2pa", "pywt") if importlib.util.find_spec(name) is None]
            if missing:
                raise Unavailable(
                    f"Generated media carry provenance, which needs packages that are not installed "
                    f"({', '.join(missing)}): pip install 'genserve[image]'"
                )
            from genserve.provenance import Provenance

            made.append(Provenance(settings.data_dir / "provenance", settings.provenance_cert, settings.provenance_key))
        return made[0]

    return get


def build_operations(
    settings: Settings,
    catalog: Catalog,
    database: Engine,
    files: FilesService,
    engines: EngineManager,
    clock: Clock,
    provenance: Callable[[], Stamper] | None = None,
) -> OperationsService:
    """The long-running operations and the video jobs they run: in the server, or alone in the worker process."""
    videos = VideoService(
        engines,
        files,
        catalog,
        provenance or build_provenance(settings),
        SafetyPolicy(settings.image_blocklist),
        settings.generated_files_ttl_hours,
    )
    return OperationsService(
        OperationRepository(database),
        {VIDEO_JOB: videos.run},
        concurrency=lambda model: catalog.get(model).max_concurrent_jobs,
        workers=settings.operation_workers,
        retention_hours=settings.generated_files_ttl_hours,
        clock=clock,
    )


def build_services(
    settings: Settings, catalog: Catalog, engines: EngineManager, database: Engine, clock: Clock = utcnow
) -> Services:
    """Everything the HTTP routes call."""
    files = build_files(settings, database, clock)
    provenance = build_provenance(settings)  # one signer per process, for images and videos alike
    images = ImageService(engines, provenance, SafetyPolicy(settings.image_blocklist))
    return Services(
        catalog=catalog,
        generation=GenerationService(engines, files, images, catalog),
        embedding=EmbeddingService(engines),
        images=images,
        operations=build_operations(settings, catalog, database, files, engines, clock, provenance),
        files=files,
        file_lifecycle=FileLifecycle(files, probe_media, settings.files_sweep_interval_s),
    )
