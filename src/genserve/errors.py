"""One exception tree keyed by google.rpc status; the API renders each as the Google error envelope.

ApiError (code, status)
├── InvalidArgument      400 INVALID_ARGUMENT
├── PermissionDenied     403 PERMISSION_DENIED
├── NotFound             404 NOT_FOUND
├── ResourceExhausted    429 RESOURCE_EXHAUSTED
├── Cancelled            499 CANCELLED
├── Internal             500 INTERNAL
├── Unimplemented        501 UNIMPLEMENTED
├── Unavailable          503 UNAVAILABLE
└── DeadlineExceeded     504 DEADLINE_EXCEEDED
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    code = 500
    status = "INTERNAL"

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []

    def envelope(self) -> dict[str, Any]:
        # Messages quote what the client sent; a lone surrogate in it must not break the error's own rendering.
        message = self.message.encode("utf-8", "backslashreplace").decode("utf-8")
        error: dict[str, Any] = {"code": self.code, "message": message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}


class InvalidArgument(ApiError):
    code, status = 400, "INVALID_ARGUMENT"


class FailedPrecondition(ApiError):
    code, status = 400, "FAILED_PRECONDITION"


class PermissionDenied(ApiError):
    code, status = 403, "PERMISSION_DENIED"


class NotFound(ApiError):
    code, status = 404, "NOT_FOUND"


class AlreadyExists(ApiError):
    code, status = 409, "ALREADY_EXISTS"


class ResourceExhausted(ApiError):
    code, status = 429, "RESOURCE_EXHAUSTED"


class Cancelled(ApiError):
    code, status = 499, "CANCELLED"


class Internal(ApiError):
    code, status = 500, "INTERNAL"


class Unimplemented(ApiError):
    code, status = 501, "UNIMPLEMENTED"


class Unavailable(ApiError):
    code, status = 503, "UNAVAILABLE"


class DeadlineExceeded(ApiError):
    code, status = 504, "DEADLINE_EXCEEDED"


def api_key_invalid() -> InvalidArgument:
    """The exact refusal Google sends for a wrong key, so SDK users see a familiar error."""
    return InvalidArgument(
        "API key not valid. Please pass a valid API key.",
        details=[
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            }
        ],
    )


def api_key_missing() -> PermissionDenied:
    return PermissionDenied(
        "Method doesn't allow unregistered callers (callers without established identity). "
        "Please use API Key or other form of API consumer identity to call this API."
    )
