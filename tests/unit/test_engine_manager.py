"""The model memory budget: lazy loading, least-recently-used idle models unload, busy ones never do."""

from __future__ import annotations

import asyncio

from genserve.core.catalog import ModelEntry
from genserve.engines.manager import EngineManager

MB = 1024 * 1024


class Sized:
    """A stand-in engine that reports its size; registered under the scripted engine's name via monkeypatch."""

    closed: list[str] = []

    def __init__(self, path: str, options: dict) -> None:
        self.path, self.size = path, int(options["mb"]) * MB

    def memory_bytes(self) -> int:
        return self.size

    def close(self) -> None:
        Sized.closed.append(self.path)


def entry(name: str, mb: int) -> ModelEntry:
    return ModelEntry(name=name, engine="scripted", path=name, options={"mb": mb})


def manager(monkeypatch, budget_mb: int) -> EngineManager:
    monkeypatch.setattr("genserve.engines.manager.engine_class", lambda name: Sized)
    Sized.closed = []
    return EngineManager(budget_mb * MB)


async def test_the_least_recently_used_idle_model_unloads_first(monkeypatch):
    engines = manager(monkeypatch, 100)
    a, b, c = entry("a", 40), entry("b", 40), entry("c", 40)
    for e in (a, b):
        async with engines.lease(e):
            pass
    async with engines.lease(a):  # a is now more recent than b
        pass
    async with engines.lease(c):
        pass
    assert Sized.closed == ["b"] and sorted(engines.loaded()) == ["a", "c"]


async def test_a_busy_model_is_never_unloaded(monkeypatch):
    engines = manager(monkeypatch, 50)
    a, b = entry("a", 40), entry("b", 40)
    async with engines.lease(a) as engine_a:
        async with engines.lease(b):
            assert sorted(engines.loaded()) == ["a", "b"]  # over budget rather than failing a request
        assert engine_a.path == "a" and Sized.closed == []
    async with engines.lease(entry("c", 10)):
        pass
    assert "c" in engines.loaded() and len(Sized.closed) == 1


async def test_no_budget_keeps_everything_and_loads_once(monkeypatch):
    engines = manager(monkeypatch, 0)
    a = entry("a", 10_000)
    engine_a, again = await asyncio.gather(engines.get(a), engines.get(a))
    assert engine_a is again
    async with engines.lease(entry("b", 10_000)):
        pass
    assert sorted(engines.loaded()) == ["a", "b"] and Sized.closed == []
