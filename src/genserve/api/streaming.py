"""The only place that turns streamed responses into bytes: SSE for `alt=sse`, otherwise one JSON array.

A None among the chunks says the request was accepted and output will follow: the response starts there (status
and headers) and the None itself writes nothing; a long prompt's prefill can outlast a client's wait for headers
(Gemini CLI's is 60 s). An error before the first chunk (or None) is an ordinary HTTP error. An error after it is
written as the bare `{"error": ...}` line in its own write, after a short pause so no client reads it glued to the
previous event, and the stream then closes: the one form every SDK raises on (wire.md §3)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from fastapi.responses import StreamingResponse

from genserve.api.errors import as_api_error, error_bytes

_ERROR_PAUSE_S = 0.05


def _dumps(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


async def stream_response(chunks: AsyncGenerator[dict[str, Any] | None, None], *, sse: bool) -> StreamingResponse:
    """Waits for the first chunk (or the None that says the prompt was accepted), so that a request refused before
    any output gets its HTTP error; then starts the response."""
    try:
        first = [await anext(chunks)]
    except StopAsyncIteration:
        first = []
    except BaseException:
        await chunks.aclose()
        raise
    outputs = _outputs(first, chunks)
    body = _sse(outputs) if sse else _json_array(outputs)
    media_type = "text/event-stream" if sse else "application/json"
    return StreamingResponse(body, media_type=media_type, headers={"Cache-Control": "no-cache"})


async def _outputs(
    first: list[dict[str, Any] | None], rest: AsyncIterator[dict[str, Any] | None]
) -> AsyncIterator[dict[str, Any]]:
    for chunk in first:
        if chunk is not None:
            yield chunk
    async for chunk in rest:
        if chunk is not None:
            yield chunk


async def _sse(chunks: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    try:
        async for chunk in chunks:
            yield b"data: " + _dumps(chunk) + b"\r\n\r\n"
    except Exception as exc:
        await asyncio.sleep(_ERROR_PAUSE_S)
        yield error_bytes(as_api_error(exc)) + b"\n"


async def _json_array(chunks: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    # The legacy SDK reads `[{chunk},\r\n{chunk}\r\n]` (wire.md §8).
    separator = b"["
    try:
        async for chunk in chunks:
            yield separator + _dumps(chunk)
            separator = b",\r\n"
    except Exception as exc:
        await asyncio.sleep(_ERROR_PAUSE_S)
        yield separator + error_bytes(as_api_error(exc))
        separator = b",\r\n"
    yield b"[]" if separator == b"[" else b"\r\n]"
