"""The services one app instance composes; routes reach them through the app state."""

from __future__ import annotations

from dataclasses import dataclass

from genserve.core.catalog import Catalog
from genserve.core.embedding import EmbeddingService
from genserve.core.file_lifecycle import FileLifecycle
from genserve.core.files import FilesService
from genserve.core.generation import GenerationService
from genserve.core.image_generation import ImageService
from genserve.core.operations import OperationsService


@dataclass
class Services:
    catalog: Catalog
    generation: GenerationService
    embedding: EmbeddingService
    images: ImageService
    operations: OperationsService
    files: FilesService
    file_lifecycle: FileLifecycle
