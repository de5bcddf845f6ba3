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
        self.text = ""  # everything decoded so far, held-back text included
        # Each token decodes within a short window (tokens[_window:]) instead of the whole answer again, which
        # cost O(length) per token (14 % of the server's GIL time at 1,000 tokens). The window starts at the token
        # before the unsettled ones, so tokenizers that drop a word's leading space at the start of a decode still
        # see it in context. Text is settled up to a token whose text does not end in an unfinished character.
        self._settled = ""  # the text of tokens[:_read]
        self._window = 0
        self._read = 0
        self._sent = 0
        self.stopped = False

    def push(self, token: int) -> str:
        """Add a token; returns the new text that may be sent now. Sets `stopped` on a stop sequence."""
        self.tokens.append(token)
        unsettled = self._unsettled()
        self.text = text = self._settled + unsettled
        cut = self._earliest_stop(text)
        if cut is not None:
            self.stopped = True
            return self._take(text, cut)
        safe = len(text) - self._holdback(text)
        # A trailing U+FFFD may be the start of a multi-byte character still being generated. An unfinished
        # character decodes to one U+FFFD, so only the last one waits (random models emit long runs of them).
        if safe > self._sent and text[safe - 1] == "\ufffd":
            safe -= 1
        return self._take(text, safe)

    def _unsettled(self) -> str:
        """The text of the tokens after `_read`; they settle once it ends in a whole character."""
        window = self._decode(self.tokens[self._window :])
        tail = window[len(self._decode(self.tokens[self._window : self._read])) :]
        if not tail.endswith("\ufffd"):
            self._settled += tail
            self._window, self._read = self._read, len(self.tokens)
            return ""
        return tail

    def flush(self) -> str:
        """At the end of generation nothing is held back any more."""
        if self.stopped:
            return ""
        return self._take(self.text, len(self.text))

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
