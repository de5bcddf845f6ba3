"""How uvicorn serves the app: its httptools protocol, with time limits for clients that send slowly.

uvicorn bounds the idle time between two requests on a connection (keep-alive) but not the time a request takes to
arrive: a client that sends half its headers, or a body shorter than its Content-Length, held its connection (and, for
the body, a request handler) open forever; 20 such connections stayed open as long as they liked. Here a request must
finish its headers within `header_timeout_s` of its first byte (or of the connection opening), and its body may pause at
most `body_timeout_s` between two reads; otherwise it is answered 408 and the connection closes. Only the client's
silence counts: while the server is busy (not reading a body a handler has not consumed yet, answering an earlier
request on the same connection, not yet asking for an `Expect: 100-continue` body) the clock does not run out, and it
starts again when the server asks for more. A connection that never starts a request is closed without an answer after
`header_timeout_s`, as an idle keep-alive connection is."""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from genserve.api.errors import error_bytes
from genserve.errors import DeadlineExceeded
from genserve.settings import Settings


class RequestTimeout(DeadlineExceeded):
    code = 408  # HTTP's own status for a request the client did not finish sending (a 504 would blame the server)


class _NotedFlow(FlowControl):
    """uvicorn's read flow control, noting when the server last asked for more of the request: unpausing reads, or a
    handler's receive() (which also sends `100 Continue`). The client cannot be late for what it was not asked."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(transport)
        self.loop = loop
        self.asked_at = loop.time()

    def resume_reading(self) -> None:
        self.asked_at = self.loop.time()
        super().resume_reading()


class SlowClientLimits(HttpToolsProtocol):
    header_timeout_s = 10.0
    body_timeout_s = 30.0
    flow: _NotedFlow  # set in connection_made

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.flow = _NotedFlow(transport, self.loop)  # before any request: each cycle is handed this one
        self._timer: asyncio.TimerHandle | None = None
        self._request_begun = False
        self._arm(self.header_timeout_s, "headers")  # a connection that never sends a request is bounded too

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._request_begun = True
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
        self._request_begun = False
        self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, seconds: float, part: str, delay: float | None = None) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds if delay is None else delay, self._too_slow, seconds, part)

    def _disarm(self) -> None:
        timer = getattr(self, "_timer", None)
        if timer is not None:
            timer.cancel()
            self._timer = None

    def _too_slow(self, seconds: float, part: str) -> None:
        self._timer = None
        if self.transport.is_closing():
            return
        if self._server_busy(part):
            self._arm(seconds, part)  # the wait is the server's, not the client's: look again later
            return
        asked = self.loop.time() - self.flow.asked_at
        if asked < seconds:  # the server only just asked for more (it was busy until then): the client gets its time
            self._arm(seconds, part, delay=seconds - asked)
            return
        cycle = self.cycle
        if part == "body":
            answer = not cycle.response_started  # the stalled request is `cycle`; it may have answered early
        else:
            # Stalled headers have no cycle yet (`cycle` is the request before, answered in full). Between requests
            # (nothing begun) nothing is owed: the connection closes, as an idle keep-alive one does.
            answer = self._request_begun
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True  # the handler waiting for the body gets http.disconnect and ends
            cycle.message_event.set()
        if answer:
            message = f"The request's {part} did not arrive in time: nothing was received for {seconds:g} s."
            body = error_bytes(RequestTimeout(message))
            head = (
                b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
                b"content-length: " + str(len(body)).encode() + b"\r\n\r\n"
            )
            self.transport.write(head + body)
        self.transport.close()

    def _server_busy(self, part: str) -> bool:
        """Whether the server, not the client, is why the request has not arrived: it is not reading (a handler has
        not consumed the body it has), it is still answering an earlier request on this connection (pipelining), or
        it has not yet asked for an `Expect: 100-continue` body."""
        cycle = self.cycle
        if self.flow.read_paused:
            return True
        if part == "headers":
            return cycle is not None and not cycle.response_complete
        return any(queued is cycle for queued, _ in self.pipeline) or (
            cycle.waiting_for_100_continue and not cycle.response_started
        )


def uvicorn_config(app: Any, settings: Settings, **options: Any) -> uvicorn.Config:
    """The uvicorn configuration `genserve serve` and the live tests both run."""
    limits = type(
        "SlowClientLimits",
        (SlowClientLimits,),
        {"header_timeout_s": settings.header_timeout_s, "body_timeout_s": settings.body_timeout_s},
    )
    return uvicorn.Config(app, host=settings.host, port=settings.port, http=limits, **options)
