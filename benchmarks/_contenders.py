"""The systems text_serving.py compares, all loaded at once and measured in turns.

This VM's speed drifts by 10–40 % over minutes (its read bandwidth fell from 44 to 28 GB/s during one 25-minute run),
so measuring one system after the other compared the machine's moods, not the systems. Now every contender is started
first and then, for each concurrency level, each repeat runs every contender once, in an order rotated per repeat:
ratios come from runs minutes apart at most, and any drift hits all contenders alike. An idle contender costs nothing:
servers wait on sockets, in-process engines on stdin."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _http

HERE = Path(__file__).resolve().parent


@dataclass
class Contender:
    system: str  # the row's label
    key: str  # its group, for --skip and the targets
    levels: set[int]  # the concurrency levels it runs
    weight_bytes: int | None
    note: str = ""
    runs: dict[int, list[list[dict]]] = field(default_factory=dict)  # level -> one request list per repeat
    failure: str = ""
    peak: int | None = None  # peak RSS in bytes, read just before it is stopped

    def start(self) -> None: ...
    def run(self, concurrency: int, rounds: int) -> list[dict]: ...
    def peak_rss(self) -> int | None: ...
    def stop(self) -> None: ...


@dataclass
class InProcess(Contender):
    """An engine driven in its own process by benchmarks/_direct.py, taking levels on stdin."""

    argv: list[str] = field(default_factory=list)
    log_path: Path | None = None
    _proc: subprocess.Popen | None = None
    _rss: int | None = None

    def start(self) -> None:
        assert self.log_path is not None
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, TOKENIZERS_PARALLELISM="false")
        self._proc = subprocess.Popen(
            [sys.executable, str(HERE / "_direct.py"), *self.argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log_path.open("w"),
            text=True,
            env=env,
        )
        self._reply()  # {"ready": true} once loaded and warmed up

    def run(self, concurrency: int, rounds: int) -> list[dict]:
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write(f"{concurrency} {rounds}\n")
        self._proc.stdin.flush()
        reply = self._reply()
        self._rss = reply.get("peak_rss_bytes") or self._rss
        return reply["requests"]

    def _reply(self) -> dict[str, Any]:
        assert self._proc is not None and self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            code = self._proc.wait(timeout=30)
            tail = self.log_path.read_text().strip().splitlines()[-3:] if self.log_path else []
            raise RuntimeError(f"exit code {code}: {' | '.join(tail)}")
        return json.loads(line)

    def peak_rss(self) -> int | None:
        return self._rss

    def stop(self) -> None:
        if self._proc is None or self._proc.poll() is not None:
            return
        with contextlib.suppress(OSError):
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=10)


@dataclass
class Served(Contender):
    """A server on 127.0.0.1 and the streaming client that times its requests. Several contenders may share one
    server (genserve's batched and seeded requests); only the first starts and stops it."""

    server: _http.Server | None = None
    request: Callable[[Any], Awaitable[dict]] | None = None
    owns_server: bool = True

    def start(self) -> None:
        assert self.server is not None and self.request is not None
        if self.owns_server:
            self.server.start()
        self.run(1, 1)  # warm-up

    def run(self, concurrency: int, rounds: int) -> list[dict]:
        return asyncio.run(_http.level(self.request, concurrency, rounds))

    def peak_rss(self) -> int | None:
        return self.server.peak_rss() if self.server else None

    def stop(self) -> None:
        if self.server is not None and self.owns_server:
            self.server.stop()


def interleave(
    contenders: list[Contender],
    levels: list[tuple[int, int]],
    repeats: int,
    log: Callable[[str], None],
    between: Callable[[], None] | None = None,
) -> None:
    """Start every contender, then per level run each `repeats` times in rotated order; stop them all. Fills each
    contender's `runs` (or `failure`). `between` runs before every single-stream repeat (the bandwidth probe)."""
    live: list[Contender] = []
    try:
        for c in contenders:
            t0 = time.perf_counter()
            log(f"starting {c.system} ...")
            try:
                c.start()
            except Exception as exc:  # one failing system must not lose the others' rows
                c.failure = f"failed to start: {exc}"[:300]
                log(f"    {c.failure}")
                continue
            log(f"    ready in {time.perf_counter() - t0:.0f} s")
            live.append(c)
        for concurrency, rounds in levels:
            for repeat in range(repeats):
                if concurrency == 1 and between is not None:
                    between()
                turn = [c for c in live if concurrency in c.levels and not c.failure]
                shift = repeat % len(turn) if turn else 0
                for c in turn[shift:] + turn[:shift]:
                    t0 = time.perf_counter()
                    try:
                        c.runs.setdefault(concurrency, []).append(c.run(concurrency, rounds))
                    except Exception as exc:
                        c.failure = f"failed at concurrency {concurrency}: {exc}"[:300]
                        log(f"    {c.system}: {c.failure}")
                        continue
                    tokens = sum(r["tokens"] for r in c.runs[concurrency][-1])
                    log(
                        f"    c={concurrency:>2} repeat {repeat + 1}/{repeats}: {c.system}: {tokens} tokens in "
                        f"{time.perf_counter() - t0:.1f} s"
                    )
    finally:
        for c in live:
            c.peak = c.peak_rss()
            c.stop()
