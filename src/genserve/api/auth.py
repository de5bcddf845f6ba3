"""API keys: x-goog-api-key, ?key= or Authorization: Bearer; any key is accepted when none are configured."""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request

from genserve.errors import api_key_invalid, api_key_missing


def presented_key(request: Request) -> str | None:
    key = request.headers.get("x-goog-api-key") or request.query_params.get("key")
    if not key:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        key = token if scheme.lower() == "bearer" else None
    return key.strip() if key else None


async def require_api_key(request: Request) -> None:
    keys: list[str] = request.app.state.settings.api_keys
    if not keys:
        return
    key = presented_key(request)
    if not key:
        raise api_key_missing()
    # Constant-time comparison so a key cannot be guessed byte by byte from response times.
    if not any(hmac.compare_digest(key.encode(), k.encode()) for k in keys):
        raise api_key_invalid()


def owner_of(request: Request) -> str:
    """Whose files a request may see: a digest of its API key when keys are configured (files are then
    private to each key), and one shared space when the server accepts any key."""
    if not request.app.state.settings.api_keys:
        return ""
    return hashlib.sha256((presented_key(request) or "").encode()).hexdigest()
