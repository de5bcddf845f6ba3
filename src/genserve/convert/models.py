"""Catalog entries -> the Model resource that models.get / models.list return."""

from __future__ import annotations

from genserve.core.catalog import GENERATION_METHODS, ModelEntry
from genserve.schemas.models import Model


def to_model(entry: ModelEntry, name: str) -> Model:
    alias_note = "" if name == entry.name else f" (an alias of {entry.name})"
    return Model(
        name=f"models/{name}",
        base_model_id=name,
        version=entry.version,
        display_name=entry.display_name or name,
        # Never the path: clients do not learn where the server keeps its files.
        description=entry.description or f"A model served by genserve's {entry.engine} engine{alias_note}.",
        input_token_limit=entry.input_token_limit,
        output_token_limit=entry.output_token_limit,
        supported_generation_methods=GENERATION_METHODS[entry.task],
        temperature=entry.temperature if entry.task == "text" else None,
        max_temperature=entry.max_temperature if entry.task == "text" else None,
        top_p=entry.top_p if entry.task == "text" else None,
        top_k=entry.top_k if entry.task == "text" else None,
        thinking=entry.thinking if entry.task == "text" else None,
    )
