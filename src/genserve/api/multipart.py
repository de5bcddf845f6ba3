"""Single-request uploads in `multipart/related` form (metadata JSON part, then the media part).

The body is spooled to a temporary file as it arrives (never held whole in memory); the media part is
then read back from between the boundaries."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from typing import IO, Any

from genserve.api.body import parse_json
from genserve.errors import InvalidArgument

_SPOOL_IN_MEMORY = 8 * 1024 * 1024
_BLOCK = 1024 * 1024


async def spool(chunks: AsyncIterator[bytes], limit: int) -> IO[bytes]:
    body = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            body.close()
            raise InvalidArgument(f"The upload is larger than the file size limit ({limit} bytes).")
        body.write(chunk)
    body.seek(0)
    return body


def boundary_of(content_type: str) -> bytes:
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.lower() == "boundary" and value:
            return value.strip('"').encode()
    raise InvalidArgument("A multipart upload needs a boundary in its Content-Type header.")


def split_related(body: IO[bytes], boundary: bytes) -> tuple[dict[str, Any], str | None, int, int]:
    """(metadata, media Content-Type, media start offset, media end offset) of a two-part body."""
    head = body.read(64 * 1024)
    delimiter = b"--" + boundary
    first = head.find(delimiter)
    if first < 0:
        raise InvalidArgument("The multipart body does not contain its boundary.")
    meta_headers_end = head.find(b"\r\n\r\n", first)
    second = head.find(b"\r\n" + delimiter, meta_headers_end)
    media_headers_end = head.find(b"\r\n\r\n", second + 2)
    if min(meta_headers_end, second, media_headers_end) < 0:
        raise InvalidArgument("The multipart body must have a metadata part and a media part.")
    metadata = parse_json(head[meta_headers_end + 4 : second] or b"{}", "metadata part")
    media_headers = head[second + 2 + len(delimiter) : media_headers_end].decode("latin-1")
    mime = None
    for line in media_headers.split("\r\n"):
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-type":
            mime = value.strip()
    start = media_headers_end + 4
    end = _closing_delimiter(body, b"\r\n" + delimiter + b"--")
    if end < start:
        raise InvalidArgument("The multipart body is missing its closing boundary.")
    if not isinstance(metadata, dict):
        raise InvalidArgument('The metadata part must be a JSON object such as {"file": {"displayName": "..."}}.')
    return metadata, mime, start, end


def _closing_delimiter(body: IO[bytes], closing: bytes) -> int:
    body.seek(0, 2)
    total = body.tell()
    tail_start = max(0, total - len(closing) - 256)
    body.seek(tail_start)
    tail = body.read()
    at = tail.rfind(closing)
    return tail_start + at if at >= 0 else -1


async def read_range(body: IO[bytes], start: int, end: int) -> AsyncIterator[bytes]:
    body.seek(start)
    left = end - start
    while left > 0:
        block = body.read(min(_BLOCK, left))
        if not block:
            break
        left -= len(block)
        yield block
