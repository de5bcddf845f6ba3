"""Temperature, top-k and top-p sampling for many rows at once, each row with its own settings.

Both text paths use it: generate() (one request's candidates) and the continuous batcher (every request in
the step). Top-k comes first, so the top-p cut sorts k values instead of the vocabulary: on Qwen2.5's 151,936
ids a full sort costs 11 ms per row on one CPU core, `topk(64)` 0.3 ms (transformers' own per-request
warpers sort twice per row and then draw from the whole vocabulary).

A row with nothing to choose from (every score -inf: a constraint that allows no token; or NaN: a model whose
numbers broke) must not take its batch down: torch.multinomial would raise "probability tensor contains inf/nan"
for every row of the step. `sample` never raises for such a row; callers that can end one request alone ask
`dead_rows` first."""

from __future__ import annotations

import torch

_NEG_INF = float("-inf")
_CERTAIN = 1e4


def dead_rows(logits: torch.Tensor) -> torch.Tensor:
    """Per row of `logits` [rows, vocab]: whether no token can be chosen (every score -inf or NaN)."""
    return ~(logits > _NEG_INF).any(-1)  # NaN compares false, so a NaN row is dead too


def sample(
    logits: torch.Tensor,
    temperature: torch.Tensor,
    top_k: torch.Tensor,
    top_p: torch.Tensor,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """One token id per row of `logits` [rows, vocab].

    Per row: `temperature` (0 = greedy), `top_k` (0 = no limit), `top_p` (≥ 1 = no limit). NaN scores count as
    -inf; a dead row (see `dead_rows`) gets an arbitrary token instead of failing the whole call."""
    tokens = _draw(logits, temperature, top_k, top_p, generator)
    if tokens is None:  # rare: redo it on scores made safe (a full pass over the vocabulary costs ms per row)
        tokens = _draw(_sanitized(logits), temperature, top_k, top_p, generator)
    assert tokens is not None
    return tokens


def _draw(
    logits: torch.Tensor,
    temperature: torch.Tensor,
    top_k: torch.Tensor,
    top_p: torch.Tensor,
    generator: torch.Generator | None,
) -> torch.Tensor | None:
    """The draw, or None when a row's best score is not finite (NaN sorts first, a dead row's best is -inf):
    found on the values the draw computes anyway, before anything could raise."""
    vocab = logits.shape[-1]
    greedy = temperature <= 0
    k = torch.where(greedy | (top_k == 1), 1, torch.where(top_k <= 0, vocab, top_k.clamp(max=vocab)))
    widest = int(k.max())
    if widest == 1:
        ids = logits.argmax(-1)
        return ids if torch.isfinite(logits.gather(1, ids[:, None])).all() else None
    if widest < vocab:
        values, ids = torch.topk(logits.float(), widest)  # sorted, most likely first
    else:
        values, ids = torch.sort(logits.float(), descending=True)
    if not torch.isfinite(values[:, 0]).all():
        return None
    values = values.masked_fill(torch.arange(widest, device=logits.device) >= k[:, None], _NEG_INF)
    values = values / torch.where(greedy, 1.0, temperature)[:, None]
    probs = values.softmax(-1)
    # Keep the most likely tokens until their mass reaches top_p (the first one always stays).
    values = values.masked_fill(probs.cumsum(-1) - probs > top_p[:, None], _NEG_INF)
    choice = torch.multinomial(values.softmax(-1), 1, generator=generator)
    return ids.gather(1, choice).squeeze(1)


def _sanitized(logits: torch.Tensor) -> torch.Tensor:
    """NaN as -inf, +inf as a score no real logit reaches (still finite after division by a small temperature),
    and a dead row as all zeros."""
    logits = torch.nan_to_num(logits.float(), nan=_NEG_INF, posinf=_CERTAIN, neginf=_NEG_INF)
    return logits.masked_fill(dead_rows(logits)[:, None], 0.0)
