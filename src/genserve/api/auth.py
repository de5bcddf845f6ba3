"""API keys: x-goog-api-key, ?key= or Authorization: Bearer; any key is accepted when none are configured."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence

from fastapi import Request

from genserve.errors import api_key_invalid, api_key_missing


def presented_key(request: Request) -> str | None:
    return key_in(request.headers, request.query_params.get("key"))


def key_in(headers: Mapping[str, str], query_key: str | None = None) -> str | None:
    """The key a request carries, from its headers (any case-insensitive mapping) or its ?key= value."""
    key = headers.get("x-goog-api-key") or query_key
    if not key:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        key = token if scheme.lower() == "bearer" else None
    return key.strip() if key else None


def is_known(key: str, keys: Sequence[str]) -> bool:
    # Constant-time comparison so a key cannot be guessed byte by byte from response times.
    return any(hmac.compare_digest(key.encode(), k.encode()) for k in keys)


def owner_for(key: str | None, keys: Sequence[str]) -> str:
    """Whose files and operations a key may see: a digest of the key when keys are configured (each key then
    has its own), and one shared space when the server accepts any key."""
    return hashlib.sha256((key or "").encode()).hexdigest() if keys else ""


async def require_api_key(request: Request) -> None:
    keys: list[str] = request.app.state.settings.api_keys
    if not keys:
        return
    key = presented_key(request)
    if not key:
        raise api_key_missing()
    if not is_known(key, keys):
        raise api_key_invalid()


def owner_of(request: Request) -> str:
    keys = request.app.state.settings.api_keys
    return owner_for(presented_key(request) if keys else None, keys)
