"""Makes constrained output finish inside maxOutputTokens.

A grammar says what may come next, not when to stop: a model that never closes a string (a random
model almost never does) runs into MAX_TOKENS with invalid JSON. Near the end of the budget, tokens
that only close things (`"`, `}`, `]`, and end of sequence) get a large bonus. The grammar has already
masked everything it forbids, so the bonus can only pick among allowed tokens: required properties and
minimum lengths are still forced, and the shortest way out is taken."""

from __future__ import annotations

from typing import Any

import torch
from transformers import LogitsProcessor

_CLOSERS = set('"]}')
# Tokens left when the pressure starts: enough to close any realistic nesting and required fields.
RESERVE = 128
BONUS = 1000.0


def closing_token_ids(tokenizer: Any, eos_ids: list[int]) -> list[int]:
    """Ids whose text is nothing but closing quotes and brackets, plus end of sequence."""
    ids = []
    for token_id in range(len(tokenizer)):
        text = tokenizer.decode([token_id]).strip()
        if text and set(text) <= _CLOSERS:
            ids.append(token_id)
    return sorted(set(ids) | set(eos_ids))


class ClosingPressure(LogitsProcessor):
    """Runs after the grammar mask; from `start` generated tokens on, closing tokens win."""

    def __init__(self, closer_ids: list[int], prompt_len: int, max_new_tokens: int) -> None:
        self.closer_ids = torch.tensor(closer_ids, dtype=torch.long)
        self.start = prompt_len + max(0, max_new_tokens - min(RESERVE, max_new_tokens // 2))

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if input_ids.shape[1] >= self.start:
            ids = self.closer_ids.to(scores.device)
            scores[:, ids] = scores[:, ids] + BONUS  # forbidden tokens stay -inf
        return scores
