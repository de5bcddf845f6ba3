"""Constrained decoding for the transformers engines: grammars compiled by llguidance from the schemas that
genserve.constrain has checked, and the logits processors that enforce them (grammar mask, UTF-8 guard, closing
pressure near the end of the token budget).

`closing` and `utf8` need torch only; `grammar` needs llguidance, and is imported when a request first asks for
constrained output, so that a missing llguidance is that request's error and not the engine's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from genserve.engines.constrained.grammar import CompiledGrammar, GrammarCompiler, GrammarLogitsProcessor

__all__ = ["CompiledGrammar", "GrammarCompiler", "GrammarLogitsProcessor"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from genserve.engines.constrained import grammar

        return getattr(grammar, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
