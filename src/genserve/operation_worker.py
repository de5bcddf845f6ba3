"""The operation worker: long-running jobs (video generation) in a process of their own, beside the API server.

Why a process: a job's Python glue and a crowd of polls shared one GIL and two cores. Measured with the video
benchmark, 200 polls a second made a job 10-25 % slower and their p95 latency 300-600 ms while both ran in the
server; with the job in its own process, niced so that requests win the CPU when both want it, p95 fell to about
30 ms and the job's time stayed within the run-to-run noise. The database was already the only link between
requests and jobs (claims, progress, cancel, results), so the worker runs the same OperationsService scheduler
and nothing else; the server only reads and writes rows.

The worker dies with the server (PR_SET_PDEATHSIG on Linux, and a thread watching the pipe to the server), so a
killed server never leaves a job running unseen: its row stays RUNNING and the next start re-runs or fails it, as
before. Its progress and result writes are fenced by the attempt number it claimed, so even a worker that outlived
its server could not overwrite a re-run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading

from genserve.composition import build_files, build_operations, open_engines, open_storage
from genserve.core.catalog import Catalog
from genserve.core.files import utcnow
from genserve.settings import Settings

log = logging.getLogger(__name__)

NICENESS = 10  # below request handling: a poll answers first, the job uses whatever CPU is left
POLL_S = 0.1  # a queued job starts within this; one indexed query each time
RESTART_DELAY_S = 1.0
STOP_WAIT_S = 10.0


class WorkerProcess:
    """Started and supervised by the server's lifespan: restarted if it dies, stopped with the server."""

    def __init__(self, settings: Settings, catalog: Catalog) -> None:
        self._args = (settings, catalog)
        self._process: multiprocessing.process.BaseProcess | None = None
        self._supervisor: asyncio.Task | None = None

    def start(self) -> None:
        self._spawn()
        self._supervisor = asyncio.get_running_loop().create_task(self._supervise())

    async def stop(self) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        process = self._process
        if process is None or not process.is_alive():
            return
        process.terminate()  # SIGTERM: the worker stops its jobs the way a server shutdown does
        await asyncio.to_thread(process.join, STOP_WAIT_S)
        if process.is_alive():
            process.kill()
            await asyncio.to_thread(process.join)

    def _spawn(self) -> None:
        # spawn, not fork: the server has threads (and perhaps torch) that a fork would copy half-initialised.
        context = multiprocessing.get_context("spawn")
        self._process = context.Process(target=run, args=self._args, name="genserve-operations", daemon=True)
        self._process.start()
        log.info("operation worker started (pid %d)", self._process.pid)

    async def _supervise(self) -> None:
        while True:
            await asyncio.sleep(RESTART_DELAY_S)
            if self._process is not None and not self._process.is_alive():
                log.error("operation worker exited with %s; starting another", self._process.exitcode)
                self._spawn()


def run(settings: Settings, catalog: Catalog) -> None:
    """The worker process's main."""
    _die_with_parent()
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s [worker]: %(message)s")
    asyncio.run(_serve(settings, catalog))


async def _serve(settings: Settings, catalog: Catalog) -> None:
    engines = open_engines(settings)
    database = open_storage(settings)
    operations = build_operations(settings, catalog, database, build_files(settings, database), engines, utcnow)
    # The server wakes no scheduler here: new work is found by polling the table, so poll often.
    operations.poll_interval_s = POLL_S
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stopping.set)
    operations.start()
    try:
        await stopping.wait()
    finally:
        await operations.stop()
        engines.close()


def _die_with_parent() -> None:
    """Exit at once when the server dies, however it dies (SIGKILL included), whatever this process is doing."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    # Also, on every system: the pipe multiprocessing keeps to the parent reads end-of-file when the parent's end
    # closes, which the kernel does when it dies, even if that happened before this line (PR_SET_PDEATHSIG is lost
    # then). A thread waits for it, so neither a busy event loop nor a hung shutdown keeps an orphan alive. Before
    # this thread, a worker outlived a server killed about a second after it started (tests/live).
    parent = multiprocessing.parent_process()
    if parent is not None:

        def watch() -> None:
            multiprocessing.connection.wait([parent.sentinel])
            os._exit(1)

        threading.Thread(target=watch, name="parent-watch", daemon=True).start()
