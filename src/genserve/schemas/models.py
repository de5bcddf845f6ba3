"""The Model resource and models.list page (wire.md §5)."""

from __future__ import annotations

from genserve.schemas.base import ProtoModel


class Model(ProtoModel):
    name: str
    base_model_id: str | None = None
    version: str
    display_name: str
    description: str
    input_token_limit: int
    output_token_limit: int
    supported_generation_methods: list[str]
    temperature: float | None = None
    max_temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    thinking: bool | None = None


class ListModelsResponse(ProtoModel):
    models: list[Model] | None = None
    next_page_token: str | None = None
