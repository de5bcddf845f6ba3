"""Splits a candidate's streamed raw text into thought text, answer text and function calls.

Text that may still turn into a tag is held back until it cannot, so a streamed reply never shows half
a `<tool_call>`. A call is emitted whole once its close tag arrives (Gemini streams calls as whole parts)."""

from __future__ import annotations

from genserve.core.reply_format import MalformedCall, ReplyFormat
from genserve.core.types import ReplyPart, ReplyText


class ReplyParser:
    def __init__(self, fmt: ReplyFormat, *, tools: bool, thinking: bool, in_thought: bool = False) -> None:
        self._fmt = fmt
        # Tags are only read where the request asked for them: without tools a literal "<tool_call>" is text.
        self._tags = [t for t, on in ((fmt.think_open, thinking), (fmt.tool_open, tools)) if on]
        self._mode = "thought" if in_thought else "text"
        self._pending = ""
        self._strip_leading = in_thought
        self.malformed: str | None = None  # why the reply ended with MALFORMED_FUNCTION_CALL

    def feed(self, delta: str) -> list[ReplyPart]:
        self._pending += delta
        parts: list[ReplyPart] = []
        while self._step(parts):
            pass
        return merge_parts(parts)

    def finish(self) -> list[ReplyPart]:
        """End of generation: flush held text; an unfinished call is parsed if it can be, else malformed."""
        parts: list[ReplyPart] = []
        if self._mode == "call":
            self._call(self._pending, parts)
        elif self._pending:
            self._emit(self._pending, parts)
        self._pending = ""
        return merge_parts(parts)

    def _step(self, parts: list[ReplyPart]) -> bool:
        """Consume what can be decided now; True when a tag switched the mode (more may follow)."""
        if self._strip_leading:
            self._pending = self._pending.lstrip()
            if not self._pending:
                return False
            self._strip_leading = False
        if self.malformed is not None:
            self._pending = ""  # nothing after a malformed call is delivered
            return False
        if self._mode == "call":
            end = self._pending.find(self._fmt.tool_close)
            if end < 0:
                return False
            self._call(self._pending[:end], parts)
            self._switch("text", end + len(self._fmt.tool_close))
            return True
        closers = [self._fmt.think_close] if self._mode == "thought" else self._tags
        hits = [(i, tag) for tag in closers if (i := self._pending.find(tag)) >= 0]
        if hits:
            at, tag = min(hits)
            before = self._pending[:at]
            self._emit(before.rstrip(), parts)
            mode = "text" if tag == self._fmt.think_close else "thought" if tag == self._fmt.think_open else "call"
            self._switch(mode, at + len(tag))
            return True
        if not closers:  # plain text: nothing to hold back
            self._emit(self._pending, parts)
            self._pending = ""
            return False
        keep = max(_prefix_overlap(self._pending, tag) for tag in closers)
        # Whitespace right before a tag belongs to neither side; hold it until the next text shows which.
        safe = len(self._pending[: len(self._pending) - keep].rstrip())
        self._emit(self._pending[:safe], parts)
        self._pending = self._pending[safe:]
        return False

    def _switch(self, mode: str, consumed: int) -> None:
        self._mode = mode
        self._pending = self._pending[consumed:]
        self._strip_leading = True

    def _emit(self, text: str, parts: list[ReplyPart]) -> None:
        if text:
            parts.append(ReplyText(text, thought=self._mode == "thought"))

    def _call(self, body: str, parts: list[ReplyPart]) -> None:
        try:
            parts.append(self._fmt.parse_call(body.strip()))
        except MalformedCall as exc:
            self.malformed = str(exc)


def _prefix_overlap(text: str, tag: str) -> int:
    """Length of the longest end of `text` that is a proper start of `tag`."""
    for n in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:n]):
            return n
    return 0


def merge_parts(parts: list[ReplyPart]) -> list[ReplyPart]:
    """Adjacent text parts of the same kind (thought or answer) joined into one."""
    out: list[ReplyPart] = []
    for part in parts:
        last = out[-1] if out else None
        if isinstance(part, ReplyText) and isinstance(last, ReplyText) and last.thought == part.thought:
            out[-1] = ReplyText(last.text + part.text, part.thought)
        else:
            out.append(part)
    return out
