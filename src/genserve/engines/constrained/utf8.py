"""Keeps constrained output valid UTF-8.

A decoder reads back no encoded surrogate (ED A0..BF ..) and no overlong form: a model that writes them gets a
string of U+FFFD characters longer than its schema's maxLength. xgrammar's JSON string rule let them through, which
is why this guard exists. llguidance's lexer only admits valid UTF-8 (measured with 1.9.1: after ED only 80..9F may
follow, after E0 only A0..BF), so under it the guard refuses nothing the grammar would allow; it stays as a cheap
second line (two index writes per step) in case a grammar ever admits them. Only the second byte of a multi-byte
character decides this, so a token is refused when it would put an invalid second byte after a lead byte (inside
itself, or right after the previous token)."""

from __future__ import annotations

import torch
from transformers import LogitsProcessor

# Lead bytes whose next byte is narrower than 80..BF (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
_SECOND = {0xE0: (0xA0, 0xBF), 0xED: (0x80, 0x9F), 0xF0: (0x90, 0xBF), 0xF4: (0x80, 0x8F)}


def _bad_pair(lead: int, second: int) -> bool:
    low, high = _SECOND.get(lead, (0x80, 0xBF))
    return 0x80 <= second <= 0xBF and not low <= second <= high


class Utf8Guard(LogitsProcessor):
    """Runs before the grammar mask; `vocab` is each token's bytes (GrammarCompiler.token_bytes)."""

    def __init__(self, vocab: list[bytes], vocab_size: int) -> None:
        self._vocab = vocab
        inside = [i for i, b in enumerate(vocab) if any(_bad_pair(x, y) for x, y in zip(b, b[1:], strict=False))]
        self._always = torch.tensor(inside, dtype=torch.long)
        first = torch.zeros(vocab_size, dtype=torch.long)
        first[: len(vocab)] = torch.tensor([b[0] if b else 0 for b in vocab], dtype=torch.long)
        # Per narrow lead byte: the tokens whose first byte may not follow it.
        self._after = {
            lead: torch.nonzero((first >= 0x80) & (first <= 0xBF) & ((first < low) | (first > high))).flatten()
            for lead, (low, high) in _SECOND.items()
        }

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        scores[:, self._always.to(scores.device)] = float("-inf")
        for row, last in enumerate(input_ids[:, -1].tolist()):
            tail = self._vocab[last] if last < len(self._vocab) else b""
            refused = self._after.get(tail[-1]) if tail else None
            if refused is not None:
                scores[row, refused.to(scores.device)] = float("-inf")
        return scores
