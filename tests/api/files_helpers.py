"""Raw X-Goog-Upload protocol steps, as the SDKs send them (wire.md §6)."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx


async def start(client: httpx.AsyncClient, size: int | None, mime="text/plain", version="v1beta", headers=None, **file):
    meta = {"file": {"mime_type": mime, **({"size_bytes": size} if size is not None else {}), **file}}
    h = {"X-Goog-Upload-Protocol": "resumable", "X-Goog-Upload-Command": "start", **(headers or {})}
    if size is not None:
        h["X-Goog-Upload-Header-Content-Length"] = str(size)
    return await client.post(f"/upload/{version}/files", json=meta, headers=h)


def upload_path(response: httpx.Response) -> str:
    url = urlsplit(response.headers["x-goog-upload-url"])
    return f"{url.path}?{url.query}"


async def chunk(client, path, data: bytes, offset: int, finalize=False, headers=None):
    h = {"X-Goog-Upload-Command": "upload, finalize" if finalize else "upload", "X-Goog-Upload-Offset": str(offset)}
    return await client.post(path, content=data, headers={**h, **(headers or {})})


async def upload(client, data: bytes, mime="text/plain", chunk_size=None, headers=None, **file) -> dict:
    started = await start(client, len(data), mime, headers=headers, **file)
    assert started.status_code == 200, started.text
    path = upload_path(started)
    size = chunk_size or max(len(data), 1)
    offsets = list(range(0, len(data), size)) or [0]
    for offset in offsets:
        last = offset == offsets[-1]
        r = await chunk(client, path, data[offset : offset + size], offset, finalize=last)
        assert r.status_code == 200, r.text
        assert r.headers["x-goog-upload-status"] == ("final" if last else "active")
    return r.json()["file"]
