"""The outermost guard: an exception nothing else handled becomes a 500 envelope, and the connection stays usable.

Starlette's own handler for unexpected exceptions sends the 500 and then re-raises, which makes uvicorn close the
connection: the client's next pooled request then fails with a connection reset. Here the error is logged and
answered once, and the app returns normally."""

from __future__ import annotations

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from genserve.api.errors import as_api_error, error_bytes


class LastResort:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except ClientDisconnect:
            return  # the client left (or was too slow, api/http_server.py) before its body arrived: no one to answer
        except Exception as exc:
            error = as_api_error(exc)  # logs it when it is a bug
            if started:
                raise  # half a response went out: only closing the connection can tell the client
            body = error_bytes(error)
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": error.code, "headers": headers})
            await send({"type": "http.response.body", "body": body})
