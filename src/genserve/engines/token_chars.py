"""How many characters one token of a Hugging Face tokenizer can stand for (core/prompt_size.py uses it)."""

from __future__ import annotations

from typing import Any


def max_token_chars(tokenizer: Any) -> int:
    """The longest vocabulary entry, in characters of its stored form: a byte-level token is stored one character
    per byte and a SentencePiece byte token as `<0x41>`, so the stored form is never shorter than the text the
    token decodes to. WordPiece turns a whole word of up to `max_input_chars_per_word` characters into [UNK]."""
    longest = max((len(token) for token in tokenizer.get_vocab()), default=1)
    backend = getattr(tokenizer, "backend_tokenizer", None)
    unknown_word = getattr(getattr(backend, "model", None), "max_input_chars_per_word", 0) or 0
    return max(longest, unknown_word, 1)


def truncate_chars(text: str, max_tokens: int, per_token: int) -> str:
    """A prefix that still holds the first `max_tokens` tokens (with a margin for merges across the cut), so that
    truncating a huge text does not first tokenize all of it."""
    return text[: (max_tokens + 16) * per_token]
