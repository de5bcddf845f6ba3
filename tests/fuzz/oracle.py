"""What every fuzzed response must be, and a watch on the server's log for failures a status code does not show."""

from __future__ import annotations

import json
import logging
from typing import Any


def problems_with(status: int, content_type: str, body: bytes) -> list[str]:
    """Why this response is a server failure: a 5xx, an error that is not Google's envelope or whose message is
    not valid UTF-8, or a stream that broke off with a server error after its 200. Empty when it is fine."""
    if status >= 500:
        return [f"status {status}: {body[:300]!r}"]
    if status >= 400:
        return _envelope_problems(status, body)
    if status == 200 and "event-stream" in content_type:
        # Each event is `data: {chunk}`; an error after the first chunk is a bare `{"error": ...}` line.
        lines = [line.removeprefix(b"data: ") for line in body.splitlines() if line.strip()]
        return [p for line in lines if line.startswith(b'{"error"') for p in _envelope_problems(None, line, 499)]
    if status == 200 and body.startswith(b"["):
        return _array_problems(body)
    return []


def _array_problems(body: bytes) -> list[str]:
    # streamGenerateContent without alt=sse: one JSON array, an error after the first chunk as its last item.
    try:
        items = json.loads(body)
    except ValueError as exc:
        return [f"the stream is not a JSON array ({exc}): {body[:300]!r}"]
    errors = [json.dumps(i).encode() for i in items if isinstance(i, dict) and "error" in i]
    return [p for error in errors for p in _envelope_problems(None, error, 499)]


def _envelope_problems(status: int | None, body: bytes, max_code: int = 599) -> list[str]:
    where = f"status {status}" if status is not None else "in a 200 stream"
    try:
        error: Any = json.loads(body.decode("utf-8"))["error"]  # strict UTF-8: the raw bytes must be valid
        code, message, name = error["code"], error["message"], error["status"]
        message.encode("utf-8")  # a `\ud800` escape in the JSON decodes to a lone surrogate, which fails here
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return [f"{where}: not a Google error envelope ({type(exc).__name__}: {exc}): {body[:300]!r}"]
    if status is not None and code != status:
        return [f"{where}: the envelope says {code}: {body[:300]!r}"]
    if not isinstance(code, int) or code > max_code or not name or not message:
        return [f"{where}: a server error or an empty envelope: {body[:300]!r}"]
    return []


class ErrorLog(logging.Handler):
    """Collects every record at ERROR or above while in use: an engine thread that died, an internal error inside a
    stream or a background job, even when the client saw a 200."""

    # uvicorn's loggers do not propagate to the root logger once uvicorn has configured them.
    WATCHED = ("", "uvicorn")

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: dict[int, logging.LogRecord] = {}  # by id: a record may reach two watched loggers

    def emit(self, record: logging.LogRecord) -> None:
        self.records[id(record)] = record

    def lines(self) -> list[str]:
        out = []
        for record in self.records.values():
            last = ""
            if record.exc_info and record.exc_info[1] is not None:
                last = f" <- {type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
            out.append(f"{record.name}: {record.getMessage()}{last}")
        return out

    def __enter__(self) -> ErrorLog:
        for name in self.WATCHED:
            logging.getLogger(name).addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        for name in self.WATCHED:
            logging.getLogger(name).removeHandler(self)
