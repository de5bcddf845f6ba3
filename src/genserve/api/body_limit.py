"""Refuses request bodies over the configured size before they are read into memory."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from genserve.api.errors import error_bytes
from genserve.errors import InvalidArgument


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Uploads are bounded by the file size limit instead, and stream to disk as they arrive.
        if scope["type"] != "http" or scope["path"].startswith("/upload/"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:  # chunked bodies declare no length
                raise self._error()
            return message

        await self.app(scope, counting_receive, send)

    def _error(self) -> InvalidArgument:
        return InvalidArgument(f"Request payload size exceeds the limit: {self.max_bytes} bytes.")

    async def _refuse(self, send: Send) -> None:
        body = error_bytes(self._error())
        await send(
            {
                "type": "http.response.start",
                "status": 400,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
