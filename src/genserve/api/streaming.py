"""The only place that turns streamed responses into bytes: SSE for `alt=sse`, otherwise one JSON array.

An error before the first chunk is an ordinary HTTP error. An error after it is written as the bare
`{"error": ...}` line in its own write, after a short pause so no client reads it glued to the previous
event, and the stream then closes: the one form every SDK raises on (wire.md §3)."""

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


async def stream_response(chunks: AsyncGenerator[dict[str, Any], None], *, sse: bool) -> StreamingResponse:
    try:
        first = await anext(chunks)
    except StopAsyncIteration:
        first = None
    except BaseException:
        await chunks.aclose()
        raise
    body = _sse(first, chunks) if sse else _json_array(first, chunks)
    media_type = "text/event-stream" if sse else "application/json"
    return StreamingResponse(body, media_type=media_type, headers={"Cache-Control": "no-cache"})


async def _sse(first: dict[str, Any] | None, rest: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    if first is None:
        return
    yield b"data: " + _dumps(first) + b"\r\n\r\n"
    try:
        async for chunk in rest:
            yield b"data: " + _dumps(chunk) + b"\r\n\r\n"
    except Exception as exc:
        await asyncio.sleep(_ERROR_PAUSE_S)
        yield error_bytes(as_api_error(exc)) + b"\n"


async def _json_array(first: dict[str, Any] | None, rest: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    # The legacy SDK reads `[{chunk},\r\n{chunk}\r\n]` (wire.md §8).
    if first is None:
        yield b"[]"
        return
    yield b"[" + _dumps(first)
    try:
        async for chunk in rest:
            yield b",\r\n" + _dumps(chunk)
    except Exception as exc:
        await asyncio.sleep(_ERROR_PAUSE_S)
        yield b",\r\n" + error_bytes(as_api_error(exc))
    yield b"\r\n]"
