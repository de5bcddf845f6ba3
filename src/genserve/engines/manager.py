"""Loads each catalog entry's engine once, on first use, and shares it between the entry's names."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from genserve.core.catalog import ModelEntry
from genserve.engines.registry import engine_class
from genserve.errors import ApiError, Unavailable

log = logging.getLogger(__name__)


class EngineManager:
    def __init__(self) -> None:
        self._engines: dict[str, Any] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(self, entry: ModelEntry) -> Any:
        engine = self._engines.get(entry.name)
        if engine is not None:
            return engine
        lock = self._locks.setdefault(entry.name, asyncio.Lock())
        async with lock:
            if entry.name not in self._engines:
                log.info("loading %s (%s) from %s", entry.name, entry.engine, entry.path)
                cls = engine_class(entry.engine)
                try:
                    self._engines[entry.name] = await asyncio.to_thread(cls, entry.path, entry.options)
                except ApiError:
                    raise
                except Exception as exc:
                    log.exception("could not load %s", entry.name)
                    raise Unavailable(f"Model '{entry.name}' could not be loaded from {entry.path}: {exc}") from exc
        return self._engines[entry.name]

    def close(self) -> None:
        for engine in self._engines.values():
            engine.close()
        self._engines.clear()
