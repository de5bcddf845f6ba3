"""Incremental detokenisation of one candidate with stop sequences held back until they cannot match."""

from __future__ import annotations

from collections.abc import Callable, Sequence


class CandidateText:
    """Feeds token ids in, gets safe-to-send text deltas out.

    Text that could still turn into a stop sequence is held back, and a matched stop sequence is
    never sent (the Gemini API excludes it from the response)."""

    def __init__(self, decode: Callable[[list[int]], str], stop_sequences: Sequence[str]) -> None:
        self._decode = decode
        self._stops = [s for s in stop_sequences if s]
        self.tokens: list[int] = []
        self.text = ""  # the text of tokens[:_read], held-back text included
        # Each token decodes within a short window (tokens[_window:]) instead of the whole answer again, which
        # cost O(length) per token (14 % of the server's GIL time at 1,000 tokens). The window starts at the
        # previous token so that tokenizers which drop a word's leading space at the start of a decode still
        # see it in context.
        self._window = 0
        self._read = 0
        self._sent = 0
        self.stopped = False

    def push(self, token: int) -> str:
        """Add a token; returns the new text that may be sent now. Sets `stopped` on a stop sequence."""
        self.tokens.append(token)
        window = self._decode(self.tokens[self._window :])
        # An unfinished multi-byte character decodes to U+FFFD: wait for the tokens that finish it.
        if window.endswith("\ufffd"):
            return ""
        settled = self._decode(self.tokens[self._window : self._read])
        self.text += window[len(settled) :]
        self._window, self._read = self._read, len(self.tokens)
        return self._release()

    def _release(self) -> str:
        text = self.text
        cut = self._earliest_stop(text)
        if cut is not None:
            self.stopped = True
            return self._take(text, cut)
        return self._take(text, len(text) - self._holdback(text))

    def flush(self) -> str:
        """At the end of generation nothing is held back any more."""
        if self.stopped:
            return ""
        if self._read < len(self.tokens):
            settled = self._decode(self.tokens[self._window : self._read])
            self.text += self._decode(self.tokens[self._window :])[len(settled) :]
            self._window = self._read = len(self.tokens)
        delta = self._release()
        return delta if self.stopped else delta + self._take(self.text, len(self.text))

    def _take(self, text: str, end: int) -> str:
        if end <= self._sent:
            return ""
        delta = text[self._sent : end]
        self._sent = end
        return delta

    def _earliest_stop(self, text: str) -> int | None:
        # Only the unsent tail (plus room for a sequence that straddles it) can hold a new match.
        start = max(0, self._sent - max((len(s) for s in self._stops), default=0))
        hits = [i for s in self._stops if (i := text.find(s, start)) != -1]
        return min(hits) if hits else None

    def _holdback(self, text: str) -> int:
        longest = 0
        for stop in self._stops:
            for n in range(min(len(stop) - 1, len(text)), 0, -1):
                if text.endswith(stop[:n]):
                    longest = max(longest, n)
                    break
        return longest
