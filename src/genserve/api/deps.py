"""Request-scoped access to the app's services and settings."""

from __future__ import annotations

from fastapi import Request

from genserve.core.services import Services


def services(request: Request) -> Services:
    return request.app.state.services
