"""Every failure becomes the Google error envelope with the matching HTTP status (wire.md §7)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from genserve.errors import ApiError, Internal, InvalidArgument, NotFound

log = logging.getLogger(__name__)

_HTTP_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "INVALID_ARGUMENT",
    409: "ALREADY_EXISTS",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
}


def error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(error.envelope(), status_code=error.code)


def error_bytes(error: ApiError) -> bytes:
    """The same envelope as one line, for errors that happen after a stream has started."""
    return json.dumps(error.envelope(), separators=(",", ":")).encode()


def as_api_error(exc: BaseException) -> ApiError:
    if isinstance(exc, ApiError):
        return exc
    log.error("internal error", exc_info=exc)
    return Internal("Internal error encountered.")


def validation_message(errors: Sequence[Mapping[str, Any]]) -> str:
    """Name the offending field the way the client spelled it, e.g. generationConfig.temperature."""
    parts = []
    for err in errors[:5]:
        loc = [str(x) for x in err.get("loc", ()) if x != "body"]
        if err.get("type") == "json_invalid":
            return f"Invalid JSON payload received. {err.get('ctx', {}).get('error', err.get('msg'))}"
        where = ".".join(loc).replace(".[", "[")
        value = err.get("input")
        shown = json.dumps(value)[:80] if isinstance(value, (str, int, float, bool)) else None
        text = f"Invalid value at '{where}'" if where else "Invalid request body"
        parts.append(f"{text}{f' ({shown})' if shown else ''}: {err.get('msg')}")
    return "; ".join(parts) or "Invalid request body"


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid_body(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(InvalidArgument(validation_message(list(exc.errors()))))

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code in (404, 405):  # Google answers an unknown method on a known path with 404
            return error_response(NotFound(f"Method not found: {request.method} {request.url.path}"))
        error = ApiError(str(exc.detail))
        error.code, error.status = exc.status_code, _HTTP_STATUS.get(exc.status_code, "UNKNOWN")
        return error_response(error)
