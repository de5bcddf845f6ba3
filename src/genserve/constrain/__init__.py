"""Constrained decoding: structured output (responseSchema / responseJsonSchema / text/x.enum) and forced
function calls (ANY / VALIDATED), enforced token by token with xgrammar.

`schema` converts and checks schemas while a request is converted (no xgrammar needed); `grammar` compiles them
for a model and masks its logits. xgrammar is imported only when a grammar is first needed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from genserve.constrain.schema import check_json_schema, enum_values, openapi_to_json_schema

if TYPE_CHECKING:
    from genserve.constrain.grammar import GrammarCompiler, GrammarLogitsProcessor

__all__ = [
    "GrammarCompiler",
    "GrammarLogitsProcessor",
    "check_json_schema",
    "enum_values",
    "openapi_to_json_schema",
]


def __getattr__(name: str) -> Any:
    if name in ("GrammarCompiler", "GrammarLogitsProcessor"):
        from genserve.constrain import grammar

        return getattr(grammar, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
