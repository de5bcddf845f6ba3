"""How uvicorn serves the app: its httptools protocol, with time limits for clients that send slowly.

uvicorn bounds the idle time between two requests on a connection (keep-alive) but not the time a request takes to
arrive: a client that sends half its headers, or a body shorter than its Content-Length, held its connection (and,
for the body, a request handler) open forever; 20 such connections stayed open as long as they liked. Here a request
must finish its headers within `header_timeout_s` of its first byte (or of the connection opening), and its body may
pause at most `body_timeout_s` between two reads; otherwise it is answered 408 and the connection closes."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from genserve.settings import Settings


class SlowClientLimits(HttpToolsProtocol):
    header_timeout_s = 10.0
    body_timeout_s = 30.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._timer: asyncio.TimerHandle | None = None
        self._arm(self.header_timeout_s, "headers")  # a connection that never sends a request counts too

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm(self.header_timeout_s, "headers")

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._disarm()
        if self.cycle is not None and self.cycle.more_body:
            self._arm(self.body_timeout_s, "body")

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        self._arm(self.body_timeout_s, "body")

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, seconds: float, part: str) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, self._too_slow, seconds, part)

    def _disarm(self) -> None:
        timer = getattr(self, "_timer", None)
        if timer is not None:
            timer.cancel()
            self._timer = None

    def _too_slow(self, seconds: float, part: str) -> None:
        self._timer = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        answered = cycle is not None and cycle.response_started
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True  # the handler waiting for the body gets http.disconnect and ends
            cycle.message_event.set()
        if not answered:
            message = f"The request's {part} did not arrive in time: nothing was received for {seconds:g} s."
            body = json.dumps({"error": {"code": 408, "message": message, "status": "DEADLINE_EXCEEDED"}}).encode()
            head = (
                b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
                b"content-length: " + str(len(body)).encode() + b"\r\n\r\n"
            )
            self.transport.write(head + body)
        self.transport.close()


def uvicorn_config(app: Any, settings: Settings, **options: Any) -> uvicorn.Config:
    """The uvicorn configuration `genserve serve` and the live tests both run."""
    limits = type(
        "SlowClientLimits",
        (SlowClientLimits,),
        {"header_timeout_s": settings.header_timeout_s, "body_timeout_s": settings.body_timeout_s},
    )
    return uvicorn.Config(app, host=settings.host, port=settings.port, http=limits, **options)
