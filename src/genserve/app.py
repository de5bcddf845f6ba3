"""create_app: composes settings, catalog, engines and routes into one ASGI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI

from genserve import __version__
from genserve.api import errors, routes_embed, routes_generate, routes_models
from genserve.api.auth import require_api_key
from genserve.api.body_limit import BodyLimit
from genserve.core.catalog import Catalog
from genserve.core.embedding import EmbeddingService
from genserve.core.generation import GenerationService
from genserve.core.services import Services
from genserve.engines.manager import EngineManager
from genserve.settings import Settings

# The SDKs pick the version: v1 (google-genai >= 3, @google/genai 3), v1beta (older SDKs, gemini-cli),
# v1alpha (opt-in). All three are served identically (wire.md §0.1).
API_VERSIONS = ("v1beta", "v1", "v1alpha")


def create_app(settings: Settings, catalog: Catalog) -> FastAPI:
    engines = EngineManager()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        engines.close()

    app = FastAPI(title="genserve", version=__version__, lifespan=lifespan, docs_url="/docs", redoc_url=None)
    app.state.settings = settings
    app.state.services = Services(
        catalog=catalog,
        generation=GenerationService(engines),
        embedding=EmbeddingService(engines),
    )
    errors.install(app)

    api = APIRouter(dependencies=[Depends(require_api_key)])
    for module in (routes_models, routes_generate, routes_embed):
        api.include_router(module.router)
    for version in API_VERSIONS:
        app.include_router(api, prefix=f"/{version}")

    @app.get("/health", include_in_schema=False)
    async def health() -> dict:
        return {"status": "ok"}

    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    return app
