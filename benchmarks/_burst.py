"""A lean HTTP/1.1 load generator for polling benchmarks: `size` keep-alive connections, one GET each per burst.

httpx spends about a millisecond of CPU per request; with the client on the same 2 cores as the server that cost
lands on the server's measurements. Here a request is one pre-built write and a read of the status line, headers
and Content-Length body, like wrk's: the client stays a small share of the machine."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit


class Burst:
    def __init__(self, url: str, size: int, headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(url)
        self.host, self.port, self.size = parts.hostname or "127.0.0.1", parts.port or 80, size
        lines = [f"GET {parts.path}{'?' + parts.query if parts.query else ''} HTTP/1.1", f"Host: {parts.netloc}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.request = ("\r\n".join(lines) + "\r\n\r\n").encode()
        self.streams: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.latencies: list[float] = []
        self.errors = 0
        self.bursts = 0
        self.last_body = b""

    async def open(self) -> None:
        self.streams = [await asyncio.open_connection(self.host, self.port) for _ in range(self.size)]

    async def close(self) -> None:
        for _, writer in self.streams:
            writer.close()
        self.streams = []

    async def fire(self) -> float:
        """One GET on every connection at once; returns the burst's wall time."""
        started = time.perf_counter()
        await asyncio.gather(*(self._one(reader, writer) for reader, writer in self.streams))
        self.bursts += 1
        return time.perf_counter() - started

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        started = time.perf_counter()
        try:
            writer.write(self.request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = await reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            self.errors += 1
            return
        self.latencies.append(time.perf_counter() - started)
        if not head.startswith(b"HTTP/1.1 200"):
            self.errors += 1
        self.last_body = body

    async def every(self, interval_s: float, stop: asyncio.Event) -> None:
        """A burst every `interval_s` seconds (or back to back when a burst takes longer) until `stop` is set."""
        while not stop.is_set():
            took = await self.fire()
            try:
                await asyncio.wait_for(stop.wait(), max(0.0, interval_s - took))
            except TimeoutError:
                pass
