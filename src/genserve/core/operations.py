"""Long-running operations: submit, poll, cancel, and the scheduler that runs their jobs within limits.

The database is the only truth: requests read nothing but rows, and the scheduler claims rows with conditional
updates, so a restart loses nothing and several worker processes may later share one database."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from genserve.core.files import utcnow
from genserve.core.operation_jobs import Job, OperationCancelled
from genserve.core.operation_types import JobHandler, OperationRecord, OperationState
from genserve.core.pages import cursor, page, page_size
from genserve.errors import ApiError, FailedPrecondition, NotFound

__all__ = ["OperationCancelled", "OperationsService", "rpc_code"]

log = logging.getLogger(__name__)

# Operation errors carry google.rpc.Code numbers, not the HTTP statuses an ApiError renders with.
RPC_CODES = {
    "CANCELLED": 1,
    "UNKNOWN": 2,
    "INVALID_ARGUMENT": 3,
    "DEADLINE_EXCEEDED": 4,
    "NOT_FOUND": 5,
    "ALREADY_EXISTS": 6,
    "PERMISSION_DENIED": 7,
    "RESOURCE_EXHAUSTED": 8,
    "FAILED_PRECONDITION": 9,
    "ABORTED": 10,
    "OUT_OF_RANGE": 11,
    "UNIMPLEMENTED": 12,
    "INTERNAL": 13,
    "UNAVAILABLE": 14,
    "DATA_LOSS": 15,
    "UNAUTHENTICATED": 16,
}
CANCELLED_MESSAGE = "The operation was cancelled."
OPERATION_ID = re.compile(r"^[a-z0-9]+$")
STOP_WAIT_S = 2.0


def rpc_code(error: ApiError) -> int:
    return RPC_CODES.get(error.status, RPC_CODES["UNKNOWN"])


def interrupted_message(attempts: int) -> str:
    times = "attempt" if attempts == 1 else "attempts"
    return f"The operation was interrupted by a server restart and could not be completed after {attempts} {times}."


def not_found(op_id: str) -> NotFound:
    # Also the answer for another key's operation: it must not reveal that the id exists.
    return NotFound(f"Operation '{op_id}' was not found. It may never have existed, or it expired.")


class OperationsService:
    def __init__(
        self,
        repository: Any,
        handlers: dict[str, JobHandler],
        *,
        concurrency: Callable[[str], int],
        workers: int = 4,
        max_attempts: int = 2,
        retention_hours: float = 48,
        clock: Callable[[], datetime] = utcnow,
        poll_interval_s: float = 0.5,
        sweep_interval_s: float = 60.0,
    ) -> None:
        self.repo = repository
        self.handlers = handlers
        self.concurrency = concurrency  # most jobs of one model running at once, in this process
        self.workers = workers
        self.max_attempts = max_attempts
        self.retention = timedelta(hours=retention_hours)
        self.clock = clock
        self.poll_interval_s = poll_interval_s  # also how soon work submitted by another process starts
        self.sweep_interval_s = sweep_interval_s
        self._jobs: dict[tuple[str, str], Job] = {}
        self._woken = False  # work may be waiting: the scheduler looks before it naps again
        self._waiter: asyncio.Future | None = None
        self._scheduler: asyncio.Task | None = None
        self._next_sweep = 0.0

    # -- requests: read and write rows only -------------------------------------------------------

    def submit(self, owner: str, model: str, kind: str, name: str, request: dict[str, Any]) -> OperationRecord:
        """Queues a job; `name` may contain "{id}". The row is committed before this returns."""
        if kind not in self.handlers:
            raise ValueError(f"no job handler for operation kind {kind!r}")
        now = self.clock()
        for _ in range(3):
            op_id = secrets.token_hex(6)  # [a-f0-9]: the SDKs cut ids out of names with [a-z0-9]+
            record = OperationRecord(
                id=op_id,
                name=name.replace("{id}", op_id),
                owner=owner,
                model=model,
                kind=kind,
                state=OperationState.QUEUED,
                request=request,
                create_time=now,
                update_time=now,
            )
            if self.repo.insert(record):
                break
        else:
            raise RuntimeError("could not draw an unused operation id")
        self._wake_up()
        return record

    def get(self, owner: str, reference: str) -> OperationRecord:
        """`reference` is an id or a whole name ("models/m/operations/{id}")."""
        op_id = reference.rsplit("/", 1)[-1]
        record = self.repo.get(owner, op_id) if OPERATION_ID.match(op_id) else None
        if record is None:
            raise not_found(op_id)
        return record

    def list(self, owner: str, requested: int, page_token: str) -> tuple[list[OperationRecord], str | None]:
        size = page_size(requested)
        return page(self.repo.list(owner, cursor(page_token), size + 1), size)

    async def cancel(self, owner: str, reference: str) -> OperationRecord:
        """CANCELLED at once in the database; a job running here is stopped before this returns."""
        record = self.get(owner, reference)
        if not self.repo.cancel(owner, record.id, self.clock(), RPC_CODES["CANCELLED"], CANCELLED_MESSAGE):
            if self.repo.get(owner, record.id) is None:  # deleted meanwhile
                raise not_found(record.id)
            raise FailedPrecondition("The operation has already finished.")
        await self._stop_local(owner, record.id)
        return self.get(owner, record.id)

    async def delete(self, owner: str, reference: str) -> None:
        """Deletes the record; a job still running is stopped, since nobody can read its result any more."""
        op_id = reference.rsplit("/", 1)[-1]
        if self.repo.delete(owner, op_id) is None:
            raise not_found(op_id)
        await self._stop_local(owner, op_id)

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        self.recover()
        self._scheduler = asyncio.get_running_loop().create_task(self._schedule_forever())

    def recover(self) -> None:
        """Nothing runs yet, so every RUNNING row was left behind by a server (or worker) that stopped: queue it
        again, or fail it once it has used its attempts. Also called by the server before it starts a worker, so
        that a poll right after a restart already shows the truth."""
        requeued, failed = self.repo.recover_interrupted(
            self.clock(), self.max_attempts, RPC_CODES["INTERNAL"], interrupted_message
        )
        if requeued or failed:
            log.info("operations interrupted by a restart: %d queued again, %d failed", requeued, failed)

    async def stop(self) -> None:
        """Shutdown, not failure: running rows stay RUNNING, and the next start() runs them again."""
        tasks = [self._scheduler] if self._scheduler is not None else []
        if self._scheduler is not None:
            self._scheduler.cancel()
            self._scheduler = None
        for job in list(self._jobs.values()):
            job.stop()
            if job.task is not None:  # always set: _launch creates the task as it registers the job
                tasks.append(job.task)
        await asyncio.gather(*tasks, return_exceptions=True)

    def expire(self) -> int:
        """Deletes operations done for longer than the retention; their result files expire on their own."""
        return self.repo.expire(self.clock() - self.retention)

    # -- the scheduler ----------------------------------------------------------------------------

    async def _schedule_forever(self) -> None:
        while True:
            self._woken = False
            try:
                self._tick()
            except Exception:
                log.exception("operation scheduler pass failed; retrying")
            await self._nap()

    async def _nap(self) -> None:
        # Not asyncio.wait_for(event.wait()): before Python 3.12 it can swallow the cancellation stop() sends
        # when the event fires in the same loop iteration, and the scheduler would never end.
        if self._woken:
            return
        loop = asyncio.get_running_loop()
        self._waiter = loop.create_future()
        timer = loop.call_later(self.poll_interval_s, self._wake_up)
        try:
            await self._waiter
        finally:
            timer.cancel()
            self._waiter = None

    def _wake_up(self) -> None:
        self._woken = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _tick(self) -> None:
        for job in list(self._jobs.values()):
            # Another process may have cancelled or deleted it; a progress write notices too, but not every
            # job reports progress.
            if not job.stopped and self.repo.is_cancelled(*job.key):
                job.stop()
        while len(self._jobs) < self.workers:
            record = self.repo.claim_next(self.clock(), self.handlers.keys(), self._admit)
            if record is None:
                break
            self._launch(record)
        if time.monotonic() >= self._next_sweep:
            self._next_sweep = time.monotonic() + self.sweep_interval_s
            self.expire()

    def _admit(self, model: str) -> bool:
        running = Counter(job.record.model for job in self._jobs.values())
        try:
            limit = max(1, self.concurrency(model))
        except Exception:
            # E.g. a model gone from the catalog: one job at a time, so its handler can fail it with a clear
            # error, rather than an exception here stalling the queue of every model.
            limit = 1
        return running[model] < limit

    def _launch(self, record: OperationRecord) -> None:
        loop = asyncio.get_running_loop()
        job = Job(record, loop, self._write_progress)
        self._jobs[job.key] = job
        job.task = loop.create_task(self._run(job), name=f"operation {record.id}")
        # A callback, not a finally: a task cancelled before its first step never enters the coroutine.
        job.task.add_done_callback(lambda task: self._finished(job, task))

    async def _run(self, job: Job) -> None:
        record = job.record
        result: dict[str, Any] | None = None
        error: tuple[int, str] | None = None
        try:
            result = await self.handlers[record.kind](record, job.progress)
            json.dumps(result)  # fail here, as the job's error, rather than in the database write
        except ApiError as exc:
            error = (rpc_code(exc), exc.message)
        except Exception as exc:
            if job.stopped:
                return
            log.exception("operation %s (%s, %s) failed", record.id, record.kind, record.model)
            error = (RPC_CODES["INTERNAL"], f"The operation failed with an internal error ({type(exc).__name__}).")
        if job.stopped:  # a cancel, delete or shutdown decided the outcome while the handler was finishing
            return
        job.close()
        outcome = {"result": result, "error": error, "progress": job.latest, "attempt": record.attempts}
        self.repo.finish(record.owner, record.id, self.clock(), **outcome)

    def _finished(self, job: Job, task: asyncio.Task) -> None:
        job.close()
        if self._jobs.get(job.key) is job:
            del self._jobs[job.key]
        if not task.cancelled() and task.exception() is not None:
            log.error("operation %s could not record its outcome", job.record.id, exc_info=task.exception())
        self._wake_up()  # a slot is free

    def _write_progress(self, job: Job, progress: tuple[int, int]) -> None:
        try:
            running = self.repo.update_progress(*job.key, *progress, self.clock(), attempt=job.record.attempts)
        except Exception:
            log.exception("could not record the progress of operation %s", job.record.id)
            return
        if not running:  # cancelled or deleted, perhaps by another process, or re-run elsewhere
            job.stop()

    async def _stop_local(self, owner: str, op_id: str) -> None:
        job = self._jobs.get((owner, op_id))
        if job is not None and job.task is not None:
            job.stop()
            # Its slot is free when the caller hears back, unless the handler ignores cancellation.
            await asyncio.wait([job.task], timeout=STOP_WAIT_S)
