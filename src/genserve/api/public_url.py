"""The address the server hands out in URLs (upload sessions, file and download URIs), never a forged Host header.

A client controls its Host header: reflecting it let a request with `Host: evil.example` get upload URLs and file URIs
pointing there. The address comes from the operator (`public_url`, for a server behind a proxy) or else from the
socket the client actually connected to; a Host header naming that same socket may be kept as sent."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request
from starlette.datastructures import Headers
from starlette.types import Scope

from genserve.settings import Settings

_LOOPBACK = {"127.0.0.1", "::1"}
_DEFAULT_PORTS = {"http": 80, "https": 443}


def public_base(request: Request) -> str:
    """`scheme://host[:port]` of this server as the client should reach it."""
    configured = request.app.state.settings.public_url
    if configured:
        return configured.rstrip("/")
    return f"{request.url.scheme}://{public_host(request)}"


def public_host(request: Request) -> str:
    """`host[:port]` of this server as the client should reach it."""
    return host_for(request.scope, request.app.state.settings)


def host_for(scope: Scope, settings: Settings) -> str:
    """`public_host` for a raw ASGI scope (middleware that runs before routing, api/operation_polls.py)."""
    if settings.public_url:
        return urlsplit(settings.public_url).netloc
    server = scope.get("server")
    if not server:  # no socket (some in-process transports): nothing better is known
        return "localhost"
    host, port = server[0], server[1]
    address = f"[{host}]" if ":" in host else host
    names = {address} | ({"localhost"} if host in _LOOPBACK else set())
    default = port is None or port == _DEFAULT_PORTS.get(scope.get("scheme", "http"))
    accepted = (names if default else set()) | {f"{name}:{port}" for name in names if port is not None}
    sent = Headers(scope=scope).get("host", "").lower()
    return sent if sent in accepted else address if port is None else f"{address}:{port}"
