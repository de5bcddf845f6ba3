"""Runs a blocking engine job on the engine's own thread and streams its events to the event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
_END = object()

# A job receives a cancel flag to poll and an `emit` callback it calls from its thread.
Job = Callable[[threading.Event, Callable[[T], None]], None]


async def stream_job(executor: ThreadPoolExecutor, job: Job) -> AsyncIterator[T]:
    """Yield what `job` emits. When the consumer stops early (client gone), the job is told to stop."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue()
    cancel = threading.Event()

    def put(item: object) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, item)

    def run() -> None:
        try:
            if not cancel.is_set():  # a request cancelled while queued never starts
                job(cancel, put)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put(exc)
        finally:
            put(_END)

    future = loop.run_in_executor(executor, run)
    try:
        while True:
            item = await queue.get()
            if item is _END:
                break
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        cancel.set()
        # Do not wait for the thread here: a disconnect must not hold the event loop.
        future.add_done_callback(lambda f: f.exception())
