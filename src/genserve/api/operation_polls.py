"""The polling fast path: a repeated GET of an unchanged operation is answered from its last rendering.

Clients poll operations every few seconds, and a crowd of them polls the same few. The full route costs about 2 ms
of CPU (routing, dependencies run in a thread, two ORM reads, the wire model, JSON), which a crowd of 200 turns
into a second of queueing on 2 cores. Here a poll costs one indexed read of the operation's stamp: when it matches
the stamp of the answer rendered last time for the same caller and server name (api/public_url.py), those bytes are
sent again. Everything else (another method, a query string, Vertex operations whose answer inlines files, a miss,
any error) goes through the app unchanged, which renders and sets the answer for next time. The database stays the
only truth: the stamp is read on every request, so another process's writes are seen at once.
"""

from __future__ import annotations

import asyncio
import re
from collections import OrderedDict
from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from genserve.api.auth import is_known, key_in, owner_for
from genserve.api.public_url import host_for
from genserve.api.versions import API_VERSIONS

_PATH = re.compile(rf"^/(?:{'|'.join(API_VERSIONS)})/(?:models/[^/]+/)?operations/([a-z0-9]+)$")
_KEPT = 1024  # answers remembered (least recently polled dropped first); an answer is about 1 KB


class OperationPolls:
    def __init__(self, app: ASGIApp, repository, api_keys: Sequence[str]) -> None:
        self.app = app
        self.repository = repository
        self.api_keys = list(api_keys)
        self._answers: OrderedDict[tuple, tuple[tuple, list, bytes]] = OrderedDict()
        self._rendering: dict[tuple, tuple[tuple, asyncio.Future]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = None
        if scope["type"] == "http" and scope["method"] == "GET" and not scope["query_string"]:
            match = _PATH.match(scope["path"])
        headers = Headers(scope=scope) if match else None
        owner = self._owner(headers) if headers is not None else None
        if match is None or owner is None:
            await self.app(scope, receive, send)
            return
        stamp = self.repository.stamp(owner, match.group(1))
        # Vertex operations answer with their videos inline, which depend on files that expire: never kept.
        if stamp is None or not stamp[0].startswith("models/"):
            await self.app(scope, receive, send)
            return
        # The answer names this server (its video URIs): keyed by that name, not by the raw Host header, so forged
        # hosts neither get an answer rendered for another socket nor crowd real answers out of the cache.
        key = (owner, match.group(1), host_for(scope, scope["app"].state.settings))
        kept = self._answers.get(key)
        if kept is None or kept[0] != stamp:
            # The first poll to see a new stamp renders it; a crowd polling at the same moment waits for that
            # rendering instead of all taking the full route at once.
            pending = self._rendering.get(key)
            if pending is None or pending[0] != stamp:
                await self._render(key, stamp, scope, receive, send)
                return
            kept = await asyncio.shield(pending[1])
            if kept is None:  # the rendering failed: this poll takes the full route and gets its own answer
                await self.app(scope, receive, send)
                return
        self._answers.move_to_end(key)
        await send({"type": "http.response.start", "status": 200, "headers": kept[1]})
        await send({"type": "http.response.body", "body": kept[2]})

    async def _render(self, key: tuple, stamp: tuple, scope: Scope, receive: Receive, send: Send) -> None:
        done: asyncio.Future = asyncio.get_running_loop().create_future()
        self._rendering[key] = (stamp, done)
        try:
            await self.app(scope, receive, self._recording(key, stamp, send))
        finally:
            if self._rendering.get(key, (None, None))[1] is done:
                del self._rendering[key]
            # Waiters get the answer, or None (an error, a disconnect) and go the full route themselves.
            answer = self._answers.get(key)
            done.set_result(answer if answer is not None and answer[0] == stamp else None)

    def _owner(self, headers: Headers) -> str | None:
        """The caller's owner id, as api/auth.py derives it; None when the app should judge the key itself (it
        answers a missing or wrong one with the right error)."""
        if not self.api_keys:
            return ""
        key = key_in(headers)
        return owner_for(key, self.api_keys) if key and is_known(key, self.api_keys) else None

    def _keep(self, key: tuple, answer: tuple[tuple, list, bytes]) -> None:
        self._answers[key] = answer
        self._answers.move_to_end(key)
        if len(self._answers) > _KEPT:
            self._answers.popitem(last=False)

    def _recording(self, key: tuple, stamp: tuple, send: Send) -> Send:
        start: Message = {}
        body: list[bytes] = []

        async def recording_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif start.get("status") == 200:
                body.append(message.get("body", b""))
                if not message.get("more_body"):
                    self._keep(key, (stamp, list(start.get("headers", [])), b"".join(body)))
            await send(message)

        return recording_send
