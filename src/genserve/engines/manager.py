"""Loads each catalog entry's engine on first use, shares it between the entry's names (and between entries that
load the same checkpoint the same way), and keeps the loaded models within a memory budget by unloading the least
recently used idle one."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from genserve.core.catalog import ModelEntry
from genserve.engines.registry import engine_class
from genserve.errors import ApiError, Unavailable

log = logging.getLogger(__name__)
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".pth")


def weights_on_disk(path: str) -> int:
    """Bytes of weight files under a local checkpoint (0 for a hub id): the estimate before loading."""
    root = Path(path)
    if root.is_file():
        return root.stat().st_size
    if not root.is_dir():
        return 0
    return sum(f.stat().st_size for f in root.rglob("*") if f.suffix in _WEIGHT_SUFFIXES and f.is_file())


def loaded_as(entry: ModelEntry) -> str:
    """What identifies a loaded engine: entries with the same engine, checkpoint and options share one (the default
    catalog serves one model under plain, thinking and pro names), so it is loaded, batched and budgeted once."""
    return json.dumps([entry.engine, entry.path, entry.options], sort_keys=True, default=str)


def _construct(entry: ModelEntry) -> Any:
    return engine_class(entry.engine)(entry.path, entry.options)


async def _on_own_thread(fn: Callable[[ModelEntry], Any], entry: ModelEntry) -> Any:
    """Import and load off the event loop (torch's first import and a checkpoint load take seconds; other
    requests keep being answered) on a thread that then ends. Not the default executor: a pool thread that ran
    torch operations keeps its own OpenMP team alive, and with two teams on the machine OpenMP stops spin-waiting,
    which measured 10-15 % slower generation afterwards (benchmarks/image_generation.py)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[Any] = loop.create_future()

    def settle(value: Any, error: BaseException | None) -> None:
        if not done.done():
            done.set_exception(error) if error is not None else done.set_result(value)

    def run() -> None:
        try:
            value, error = fn(entry), None
        except BaseException as exc:  # handed to the awaiting coroutine
            value, error = None, exc
        try:
            loop.call_soon_threadsafe(settle, value, error)
        except RuntimeError:  # the loop closed meanwhile (a server stopped while a preload ran): nobody takes it
            if value is not None:
                value.close()

    threading.Thread(target=run, name=f"load:{entry.name}", daemon=True).start()
    return await done


class EngineManager:
    def __init__(self, memory_budget_bytes: int = 0) -> None:
        self.budget = memory_budget_bytes  # 0: no limit
        self._engines: dict[str, Any] = {}
        self._sizes: dict[str, int] = {}
        self._last_used: dict[str, float] = {}
        self._busy: Counter[str] = Counter()
        self._locks: dict[str, asyncio.Lock] = {}
        self._names: dict[str, str] = {}  # the entry name each engine was loaded for, for logs
        self._load_lock = asyncio.Lock()  # one load (and eviction decision) at a time

    def loaded(self) -> list[str]:
        """The entry names the loaded engines were loaded for."""
        return [self._names[key] for key in self._engines]

    def loaded_engines(self) -> list[Any]:
        return list(self._engines.values())

    async def get(self, entry: ModelEntry) -> Any:
        """The entry's engine, loaded if needed. Hold a `lease` instead for work that outlasts one call."""
        key = loaded_as(entry)
        self._last_used[key] = time.monotonic()
        engine = self._engines.get(key)
        if engine is not None:
            return engine
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key not in self._engines:
                await self._load(entry, key)
        return self._engines[key]

    @asynccontextmanager
    async def lease(self, entry: ModelEntry) -> AsyncIterator[Any]:
        """The engine, kept loaded (never evicted) until the block ends."""
        key = loaded_as(entry)
        self._busy[key] += 1
        try:
            yield await self.get(entry)
        finally:
            self._busy[key] -= 1
            self._last_used[key] = time.monotonic()

    async def _load(self, entry: ModelEntry, key: str) -> None:
        async with self._load_lock:
            if self.budget:
                self._make_room(key, await asyncio.to_thread(weights_on_disk, entry.path))
            log.info("loading %s (%s) from %s", entry.name, entry.engine, entry.path)
            try:
                engine = await _on_own_thread(_construct, entry)
            except ApiError:
                raise
            except Exception as exc:
                log.exception("could not load %s", entry.name)
                # The reason, not the path: clients never see where the server keeps its files.
                raise Unavailable(f"Model '{entry.name}' could not be loaded: {type(exc).__name__}") from exc
            measure = getattr(engine, "memory_bytes", None)
            self._sizes[key] = measure() if measure else await asyncio.to_thread(weights_on_disk, entry.path)
            self._engines[key] = engine
            self._names[key] = entry.name
            if self.budget:  # the estimate can be short (a hub id has no local files): measure and shed again
                self._make_room(key, 0)

    def _make_room(self, loading: str, needed: int) -> None:
        """Unload idle models, least recently used first, until `needed` more bytes fit the budget. Busy
        models stay: a request never fails because another one is resident, the budget is exceeded instead."""
        while sum(self._sizes.values()) + needed > self.budget:
            idle = [key for key in self._engines if not self._busy[key] and key != loading]
            if not idle:
                log.warning("loading a model exceeds the model memory budget: every loaded model is busy")
                return
            self._unload(min(idle, key=lambda key: self._last_used.get(key, 0.0)))

    def _unload(self, key: str) -> None:
        engine = self._engines.pop(key, None)
        self._sizes.pop(key, None)
        if engine is not None:
            log.info("unloading %s to stay within the model memory budget", self._names.get(key, key))
            engine.close()
            del engine
            gc.collect()

    def close(self) -> None:
        for key in list(self._engines):
            self._unload(key)
