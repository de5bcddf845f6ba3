"""How services borrow an engine: a lease loads the entry's model if needed and keeps it loaded while held.

The engine manager (engines/manager.py) implements it; services depend only on this Protocol, so core/ never
imports an engine."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from genserve.core.catalog import ModelEntry


class EngineProvider(Protocol):
    def lease(self, entry: ModelEntry) -> AbstractAsyncContextManager[Any]:
        """The entry's engine, loaded if needed and kept loaded while the block runs."""
