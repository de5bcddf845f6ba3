"""A prompt too long for its model is refused from its length in characters, before any engine tokenizes it.

Tokenizing a 19 MB prompt only to refuse it took 24 s and left the server 2 GB larger. An engine reports the most
characters one token of its tokenizer can stand for; a text of n characters then takes at least n / that many
tokens, so a prompt over `input_token_limit` times that is over the limit whatever its exact count."""

from __future__ import annotations

import json
import math

from genserve.core.types import FunctionCall, FunctionResult, Prompt
from genserve.errors import InvalidArgument


def prompt_chars(prompt: Prompt) -> int:
    """Characters the prompt's text and function calls will at least take once rendered for the model."""
    total = len(prompt.system or "")
    for turn in prompt.turns:
        for part in turn.parts:
            if isinstance(part, str):
                total += len(part)
            elif isinstance(part, (FunctionCall, FunctionResult)):
                data = part.args if isinstance(part, FunctionCall) else part.response
                total += len(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    return total


def refuse_oversized(chars: int, token_limit: int, max_token_chars: int | None, model: str) -> None:
    if max_token_chars and chars > token_limit * max_token_chars:
        raise InvalidArgument(
            f"The input token count exceeds the maximum number of tokens allowed ({token_limit}): its {chars} "
            f"characters take at least {math.ceil(chars / max_token_chars)} tokens of model '{model}'."
        )
