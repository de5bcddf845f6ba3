"""One operation running in this process: its task, and its progress written to the database at a bounded rate."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable

from genserve.core.operation_types import OperationRecord

PROGRESS_INTERVAL_S = 0.25  # a diffusion step can take milliseconds; the database hears at most 4 updates a second


class OperationCancelled(Exception):
    """Raised by `progress()` once the job must stop (cancelled, deleted or shutting down): a handler's worker
    thread, which task cancellation cannot reach, stops at its next step instead of running to the end."""


class Job:
    def __init__(
        self,
        record: OperationRecord,
        loop: asyncio.AbstractEventLoop,
        write: Callable[[Job, tuple[int, int]], None],
    ) -> None:
        self.record = record
        self.task: asyncio.Task | None = None
        self.latest: tuple[int, int] | None = None  # the newest (done, total), written or not
        self.stopped = False  # whoever stopped the job owns its outcome; the job writes nothing more
        self._loop = loop
        self._write = write
        self._lock = threading.Lock()
        self._pending = False  # a write is scheduled on the loop and will pick up `latest`
        self._last_write = -math.inf
        self._timer: asyncio.TimerHandle | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.record.owner, self.record.id

    def progress(self, done: int, total: int) -> None:
        """The handler's Progress: any thread, any rate. Only the first call of a burst touches the loop."""
        if self.stopped:
            raise OperationCancelled(f"operation {self.record.id} was stopped")
        with self._lock:
            self.latest = (int(done), int(total))
            if self._pending:
                return
            self._pending = True
        try:
            self._loop.call_soon_threadsafe(self._schedule)
        except RuntimeError:
            pass  # the loop has closed: the server is gone, and this job with it

    def stop(self) -> None:
        """Cancel the task now; the database is the stopper's business."""
        self.close()
        if self.task is not None:
            self.task.cancel()

    def close(self) -> None:
        self.stopped = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _schedule(self) -> None:
        if self.stopped:
            return
        wait = self._last_write + PROGRESS_INTERVAL_S - time.monotonic()
        if wait > 0:
            self._timer = self._loop.call_later(wait, self._flush)
        else:
            self._flush()

    def _flush(self) -> None:
        self._timer = None
        if self.stopped:
            return
        with self._lock:
            latest, self._pending = self.latest, False
        self._last_write = time.monotonic()
        if latest is not None:
            self._write(self, latest)
