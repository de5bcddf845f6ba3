"""Runs blocking engine jobs off the event loop, one at a time, and streams their events back to it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
_END = object()


class FreshThreadExecutor(ThreadPoolExecutor):
    """Runs its jobs one at a time, each on a new thread that ends with the job.

    Every thread that runs torch ops keeps an OpenMP team of its own alive. Once a process has more OpenMP threads
    than cores, libgomp stops spin-waiting between parallel regions, and each of the hundreds of regions in a decode
    step then pays a sleep and a wake-up. Measured on 2 cores: one request on the generate() path (a long-lived
    engine thread) left the continuous batcher's decoding 20 % slower for the rest of the server's life. A thread
    that exits takes its team with it."""

    def __init__(self, name: str) -> None:
        super().__init__(max_workers=1, thread_name_prefix=f"{name}:dispatch")
        self._name = name

    def submit(self, fn: Callable[..., T], /, *args: object, **kwargs: object) -> Future[T]:
        def on_a_fresh_thread() -> T:
            done: Future[T] = Future()

            def run() -> None:
                try:
                    done.set_result(fn(*args, **kwargs))
                except BaseException as exc:
                    done.set_exception(exc)

            thread = threading.Thread(target=run, name=self._name, daemon=True)
            thread.start()
            thread.join()
            return done.result()

        return super().submit(on_a_fresh_thread)


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
