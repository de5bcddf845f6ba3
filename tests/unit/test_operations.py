"""The job system: operations run within limits, report progress, cancel promptly and survive restarts."""

import asyncio
import logging
import re
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect, text

from genserve.core.operation_types import OperationState
from genserve.core.operations import OperationCancelled, OperationsService
from genserve.errors import FailedPrecondition, InvalidArgument, NotFound
from genserve.storage.database import MIGRATIONS, open_database
from genserve.storage.operation_repository import OperationRepository
from genserve.storage.tables import OperationRow

NAME = "models/veo-2.0-generate-001/operations/{id}"
KIND = "generateVideos"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
async def make(tmp_path):
    """Builds services over one database file, each with its own engine, as separate processes would."""
    engines, services = [], []

    def build(handler, *, start=True, path=tmp_path / "ops.db", **options) -> OperationsService:
        engine = open_database(f"sqlite:///{path}")
        engines.append(engine)
        options.setdefault("concurrency", lambda model: 8)
        options.setdefault("poll_interval_s", 0.05)
        service = OperationsService(OperationRepository(engine), {KIND: handler}, **options)
        if start:
            service.start()
        services.append(service)  # stopping one never started is harmless
        return service

    yield build
    for service in services:
        await service.stop()
    for engine in engines:
        engine.dispose()


async def until(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


async def finished(service, op_id, owner="k1", timeout: float = 5.0):
    await until(lambda: service.get(owner, op_id).done, timeout)
    return service.get(owner, op_id)


def until_cancelled(stopped: asyncio.Event):
    """A handler that runs until its task is cancelled, and says so on `stopped`."""

    async def handler(record, progress):
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            stopped.set()
            raise

    return handler


async def succeed(record, progress):
    return {"files": ["abc123"], "prompt": record.request["prompt"]}


async def block_forever(record, progress):
    await asyncio.sleep(3600)


def submit(service, owner="k1", model="veo", request=None):
    return service.submit(owner, model, KIND, NAME, request or {"prompt": "a wave"})


# -- running ----------------------------------------------------------------------------------------


async def test_a_job_runs_and_its_result_is_stored(make):
    service = make(succeed)
    queued = submit(service)
    assert re.fullmatch(r"[a-z0-9]+", queued.id)
    assert queued.name == f"models/veo-2.0-generate-001/operations/{queued.id}"
    assert queued.state is OperationState.QUEUED and not queued.done
    done = await finished(service, queued.id)
    assert done.state is OperationState.SUCCEEDED
    assert done.result == {"files": ["abc123"], "prompt": "a wave"}
    assert done.attempts == 1 and done.error_code is None
    assert service.get("k1", queued.name) == done  # the whole name works as well as the id


async def test_progress_is_visible_while_running_and_written_at_a_bounded_rate(make):
    gate = asyncio.Event()

    async def handler(record, progress):
        progress(3, 10)
        await gate.wait()

        def steps():  # an engine thread reporting every step, far faster than anyone polls
            for i in range(20000):
                progress(4 + i * 6 // 20000, 10)
            progress(10, 10)

        await asyncio.to_thread(steps)
        return {}

    service = make(handler)
    writes = Counter()
    update = service.repo.update_progress
    service.repo.update_progress = lambda *a, **kw: writes.update(["w"]) or update(*a, **kw)
    op = submit(service)
    await until(lambda: service.get("k1", op.id).progress_done == 3)
    running = service.get("k1", op.id)
    assert running.state is OperationState.RUNNING and running.progress_total == 10
    gate.set()
    done = await finished(service, op.id)
    assert done.state is OperationState.SUCCEEDED and (done.progress_done, done.progress_total) == (10, 10)
    assert writes["w"] < 20


async def test_per_model_concurrency_is_respected(make):
    release = asyncio.Event()
    running, peak = Counter(), Counter()

    async def handler(record, progress):
        running[record.model] += 1
        peak[record.model] = max(peak[record.model], running[record.model])
        await release.wait()
        running[record.model] -= 1
        return {}

    service = make(handler, concurrency=lambda model: {"a": 1, "b": 2}[model], workers=10)
    ops = [submit(service, model=m) for m in "aaabbbb"]
    await until(lambda: sum(running.values()) == 3)
    await asyncio.sleep(0.2)  # a few scheduler passes: nothing more may start
    assert running == {"a": 1, "b": 2}
    release.set()
    for op in ops:
        assert (await finished(service, op.id)).state is OperationState.SUCCEEDED
    assert peak == {"a": 1, "b": 2}


async def test_the_worker_bound_is_respected_and_the_oldest_runs_first(make):
    release = asyncio.Event()
    started, running, peak = [], [0], [0]

    async def handler(record, progress):
        started.append(record.request["n"])
        running[0] += 1
        peak[0] = max(peak[0], running[0])
        await release.wait()
        running[0] -= 1
        return {}

    service = make(handler, start=False, workers=2, concurrency=lambda model: 100)
    ops = [submit(service, request={"n": n}) for n in range(6)]
    service.start()
    await until(lambda: running[0] == 2)
    await asyncio.sleep(0.2)
    assert running[0] == 2 and started == [0, 1]
    release.set()
    for op in ops:
        await finished(service, op.id)
    assert peak[0] == 2 and started == list(range(6))


async def test_a_handler_error_becomes_the_operations_error(make):
    async def handler(record, progress):
        raise InvalidArgument("durationSeconds must be between 5 and 8, got 30")

    service = make(handler)
    done = await finished(service, submit(service).id)
    assert done.state is OperationState.FAILED
    assert (done.error_code, done.error_message) == (3, "durationSeconds must be between 5 and 8, got 30")


async def test_a_crashing_handler_fails_with_internal_and_is_logged(make, caplog):
    async def handler(record, progress):
        raise RuntimeError("CUDA kernel exploded at /secret/path")

    service = make(handler)
    with caplog.at_level(logging.ERROR, logger="genserve.core.operations"):
        done = await finished(service, submit(service).id)
    assert done.state is OperationState.FAILED and done.error_code == 13
    assert "failed" in done.error_message and "/secret/path" not in done.error_message
    assert "CUDA kernel exploded" in caplog.text  # the traceback goes to the log, not to the client


async def test_a_result_that_is_not_json_fails_the_operation(make):
    async def handler(record, progress):
        return {"when": object()}

    service = make(handler)
    done = await finished(service, submit(service).id)
    assert done.state is OperationState.FAILED and done.error_code == 13


# -- cancel and delete ------------------------------------------------------------------------------


async def test_cancel_stops_a_running_handler_at_once(make):
    stopped = asyncio.Event()
    handler = until_cancelled(stopped)

    service = make(handler)
    op = submit(service)
    await until(lambda: service.get("k1", op.id).state is OperationState.RUNNING)
    began = time.monotonic()
    cancelled = await service.cancel("k1", op.id)
    assert stopped.is_set() and time.monotonic() - began < 1.0
    assert cancelled.state is OperationState.CANCELLED and cancelled.done
    assert (cancelled.error_code, cancelled.error_message) == (1, "The operation was cancelled.")
    await asyncio.sleep(0.1)
    assert service.get("k1", op.id).state is OperationState.CANCELLED  # the ended task wrote nothing over it


async def test_cancel_reaches_a_handlers_worker_thread_through_progress(make):
    outcome = []

    async def handler(record, progress):
        def steps():
            try:
                for i in range(100000):
                    progress(i, 100000)
                    time.sleep(0.005)
            except OperationCancelled:
                outcome.append("stopped")

        await asyncio.to_thread(steps)
        return {}

    service = make(handler)
    op = submit(service)
    await until(lambda: service.get("k1", op.id).progress_done > 0)
    await service.cancel("k1", op.id)
    await until(lambda: outcome == ["stopped"], timeout=1.0)


async def test_cancel_of_a_queued_operation_means_it_never_runs(make):
    ran = []

    async def handler(record, progress):
        ran.append(record.id)
        await asyncio.sleep(3600)

    service = make(handler, workers=1)
    first, second = submit(service), submit(service)
    await until(lambda: ran == [first.id])
    assert (await service.cancel("k1", second.id)).state is OperationState.CANCELLED
    await service.cancel("k1", first.id)
    await asyncio.sleep(0.2)
    assert ran == [first.id]


async def test_cancelling_a_finished_operation_is_a_failed_precondition(make):
    service = make(succeed)
    op = submit(service)
    await finished(service, op.id)
    with pytest.raises(FailedPrecondition, match="already finished"):
        await service.cancel("k1", op.id)
    assert service.get("k1", op.id).state is OperationState.SUCCEEDED


async def test_another_keys_operation_looks_exactly_like_a_missing_one(make):
    service = make(block_forever)
    op = submit(service, owner="k1")

    async def refusals(owner, op_id):
        messages = []
        for call in (service.get, service.cancel, service.delete):
            with pytest.raises(NotFound) as caught:
                result = call(owner, op_id)
                if asyncio.iscoroutine(result):
                    await result
            messages.append(caught.value.message.replace(op_id, "ID"))
        return messages

    assert await refusals("k2", op.id) == await refusals("k1", "000000000000")
    assert service.list("k2", 10, "") == ([], None)
    assert service.get("k1", op.id).owner == "k1"  # untouched by k2's attempts
    with pytest.raises(NotFound):
        service.get("k1", "not/an/../id!")


async def test_delete_removes_the_record_and_stops_its_job(make):
    stopped = asyncio.Event()
    handler = until_cancelled(stopped)

    service = make(handler)
    op = submit(service)
    await until(lambda: service.get("k1", op.id).state is OperationState.RUNNING)
    await service.delete("k1", op.id)
    assert stopped.is_set()
    with pytest.raises(NotFound):
        service.get("k1", op.id)


# -- restarts and other processes -------------------------------------------------------------------


async def test_a_job_interrupted_by_a_restart_runs_again_and_succeeds(make):
    first = make(block_forever)
    op = submit(first)
    await until(lambda: first.get("k1", op.id).state is OperationState.RUNNING)
    await first.stop()
    left = first.get("k1", op.id)
    assert left.state is OperationState.RUNNING and left.attempts == 1  # a shutdown is not a failure

    second = make(succeed)  # a new process: nothing in memory, only the database file
    done = await finished(second, op.id)
    assert done.state is OperationState.SUCCEEDED and done.attempts == 2
    assert done.result["files"] == ["abc123"]


async def test_a_job_interrupted_once_too_often_fails_and_is_never_left_running(make):
    first = make(block_forever, max_attempts=2)
    op = submit(first)
    await until(lambda: first.get("k1", op.id).state is OperationState.RUNNING)
    await first.stop()
    second = make(block_forever, max_attempts=2)
    await until(lambda: second.get("k1", op.id).attempts == 2)
    await second.stop()

    third = make(succeed, max_attempts=2)
    done = third.get("k1", op.id)  # recovery decided it at start-up
    assert done.state is OperationState.FAILED and done.error_code == 13
    assert done.error_message == (
        "The operation was interrupted by a server restart and could not be completed after 2 attempts."
    )
    await asyncio.sleep(0.2)
    assert third.get("k1", op.id).state is OperationState.FAILED


async def test_work_submitted_by_another_process_is_picked_up_by_polling(make):
    worker = make(succeed)
    await asyncio.sleep(0.1)  # the worker is idle and waiting
    api = make(succeed, start=False)  # e.g. an API-only process: submits, never runs
    op = submit(api)
    done = await finished(api, op.id)  # api reads the row the worker wrote
    assert done.state is OperationState.SUCCEEDED
    assert worker.get("k1", op.id) == done


async def test_a_cancel_from_another_process_stops_the_job_here(make):
    stopped = asyncio.Event()
    handler = until_cancelled(stopped)

    worker = make(handler)
    api = make(handler, start=False)
    op = submit(api)
    await until(lambda: api.get("k1", op.id).state is OperationState.RUNNING)
    await api.cancel("k1", op.id)
    await asyncio.wait_for(stopped.wait(), 1.0)
    assert worker.get("k1", op.id).state is OperationState.CANCELLED


async def test_a_worker_presumed_dead_cannot_overwrite_the_rerun(make):
    """A worker whose server was restarted meanwhile (its job re-queued and claimed again) finds its progress and
    its result refused: every write is fenced by the attempt it claimed."""
    release = asyncio.Event()
    stale_progress = []

    async def stale_handler(record, progress):
        await release.wait()
        try:
            progress(5, 10)
        except OperationCancelled:
            stale_progress.append("refused")
            raise
        return {"files": ["stale"]}

    old = make(stale_handler)
    op = submit(old)
    await until(lambda: old.get("k1", op.id).state is OperationState.RUNNING)
    # The restart: the row is recovered and a new worker claims attempt 2 while the old one still runs.
    new = make(block_forever, start=False)
    new.start()
    await until(lambda: new.get("k1", op.id).attempts == 2 and new.get("k1", op.id).state is OperationState.RUNNING)
    release.set()
    await until(lambda: op.id not in {key[1] for key in old._jobs})
    record = new.get("k1", op.id)
    assert record.state is OperationState.RUNNING and record.attempts == 2 and record.result is None
    assert not old.repo.finish("k1", op.id, datetime.now(timezone.utc), result={"files": []}, attempt=1)
    assert old.repo.finish("k1", op.id, datetime.now(timezone.utc), result={"files": []}, attempt=2)


async def test_concurrent_claims_take_each_operation_once(tmp_path):
    repos = [OperationRepository(open_database(f"sqlite:///{tmp_path / 'ops.db'}")) for _ in range(4)]
    api = OperationsService(repos[0], {KIND: succeed}, concurrency=lambda m: 1)
    ids = {submit(api).id for _ in range(40)}
    claimed: list[str] = []
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def drain(repo):
        while (record := repo.claim_next(now, [KIND], lambda model: True)) is not None:
            claimed.append(record.id)

    threads = [threading.Thread(target=drain, args=(repo,)) for repo in repos]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(ids)
    assert {repos[0].get("k1", i).attempts for i in ids} == {1}


# -- retention, listing, schema ---------------------------------------------------------------------


async def test_retention_deletes_old_finished_operations_only(make):
    clock = Clock()
    service = make(succeed, clock=clock, retention_hours=48)
    done = submit(service)
    await finished(service, done.id)
    await service.stop()
    pending = submit(service)  # nothing runs it: still queued however old
    clock.advance(hours=47)
    assert service.expire() == 0
    clock.advance(hours=2)
    assert service.expire() == 1
    with pytest.raises(NotFound):
        service.get("k1", done.id)
    assert service.get("k1", pending.id).state is OperationState.QUEUED


async def test_the_scheduler_sweeps_expired_operations_itself(make):
    clock = Clock()
    first = make(succeed, clock=clock)
    op = submit(first)
    await finished(first, op.id)
    await first.stop()
    clock.advance(hours=49)
    second = make(succeed, clock=clock)
    await until(lambda: second.repo.get("k1", op.id) is None)


async def test_list_pages_newest_first(make):
    clock = Clock()
    service = make(succeed, start=False, clock=clock)
    ids = []
    for _ in range(5):
        ids.append(submit(service).id)
        clock.advance(seconds=1)
    submit(service, owner="k2")
    seen, token, pages = [], "", 0
    while True:
        page, token = service.list("k1", 2, token)
        seen += [r.id for r in page]
        pages += 1
        if token is None:
            break
    assert seen == ids[::-1] and pages == 3
    assert [r.id for r in service.list("k1", 0, "")[0]] == ids[::-1]
    with pytest.raises(InvalidArgument):
        service.list("k1", 2, "garbage!")


def test_a_database_from_before_operations_is_upgraded_and_keeps_its_files(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with old.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(text("INSERT INTO uploads VALUES ('u', 'k1', 'f', '', 'text/plain', 1, 'v1', 0, 0, 0)"))
    old.dispose()
    engine = open_database(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT owner FROM uploads")).scalar_one() == "k1"
        assert connection.execute(text("SELECT count(*) FROM operations")).scalar_one() == 0
    engine.dispose()


def test_the_migration_creates_the_table_the_code_maps(tmp_path):
    engine = open_database(f"sqlite:///{tmp_path / 'ops.db'}")
    inspector = inspect(engine)
    assert {c["name"] for c in inspector.get_columns("operations")} == set(OperationRow.__table__.columns.keys())
    indexed = {tuple(i["column_names"]) for i in inspector.get_indexes("operations")}
    assert {("state",), ("done_time",), ("owner", "create_time")} <= indexed
    engine.dispose()


async def test_a_model_the_concurrency_function_does_not_know_still_runs(make):
    service = make(succeed, concurrency=lambda model: {"veo": 1}[model])
    done = await finished(service, submit(service, model="gone-from-the-catalog").id)
    assert done.state is OperationState.SUCCEEDED
