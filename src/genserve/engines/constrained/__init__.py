"""Constrained decoding for the transformers engines: grammars compiled by llguidance from the schemas that
genserve.constrain has checked, and the logits processors that enforce them (grammar mask, UTF-8 guard, closing
pressure near the end of the token budget).

`closing` and `utf8` need torch only; `grammar` needs llguidance, and is imported when a request first asks for
constrained output, so that a missing llguidance is that request's error and not the engine's."""
