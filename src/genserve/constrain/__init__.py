"""Schemas for constrained decoding: structured output (responseSchema / responseJsonSchema / text/x.enum) and
forced function calls (ANY / VALIDATED).

Pure Python, no torch and no grammar library: `schema` converts and checks schemas while a request is converted,
`limits` bounds their size first. Compiling them into grammars for a model and masking its logits is the engines'
part (genserve.engines.constrained, with llguidance)."""

from __future__ import annotations

from genserve.constrain.schema import check_json_schema, enum_values, grammar_schema, openapi_to_json_schema

__all__ = ["check_json_schema", "enum_values", "grammar_schema", "openapi_to_json_schema"]
