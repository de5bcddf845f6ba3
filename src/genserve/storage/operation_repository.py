"""Long-running operations in SQL: every state change is one conditional UPDATE, so processes can share the table."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Delete, Engine, Update, and_, bindparam, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler

from genserve.core.operation_types import OperationRecord, OperationState
from genserve.storage.database import delete_row
from genserve.storage.tables import OperationRow

QUEUED, RUNNING = OperationState.QUEUED.value, OperationState.RUNNING.value
NOT_DONE = (QUEUED, RUNNING)
DONE = tuple(s.value for s in OperationState if s.done)


def _record(row: OperationRow) -> OperationRecord:
    return OperationRecord(
        id=row.id,
        name=row.name,
        owner=row.owner,
        model=row.model,
        kind=row.kind,
        state=OperationState(row.state),
        request=json.loads(row.request_json),
        create_time=row.create_time,
        update_time=row.update_time,
        progress_done=row.progress_done,
        progress_total=row.progress_total,
        result=json.loads(row.result_json) if row.result_json is not None else None,
        error_code=row.error_code,
        error_message=row.error_message,
        attempts=row.attempts,
    )


def _row(record: OperationRecord) -> OperationRow:
    return OperationRow(
        owner=record.owner,
        id=record.id,
        name=record.name,
        model=record.model,
        kind=record.kind,
        state=record.state.value,
        request_json=json.dumps(record.request),
        result_json=json.dumps(record.result) if record.result is not None else None,
        progress_done=record.progress_done,
        progress_total=record.progress_total,
        error_code=record.error_code,
        error_message=record.error_message,
        attempts=record.attempts,
        create_time=record.create_time,
        update_time=record.update_time,
        done_time=record.update_time if record.done else None,
    )


_STAMP = select(
    OperationRow.name, OperationRow.update_time, OperationRow.state, OperationRow.progress_done, OperationRow.attempts
).where(OperationRow.owner == bindparam("owner"), OperationRow.id == bindparam("op_id"))


def _running(owner: str, op_id: str, attempt: int | None) -> list:
    where = [_key(owner, op_id), OperationRow.state == RUNNING]
    return where if attempt is None else [*where, OperationRow.attempts == attempt]


def _key(owner: str, op_id: str):
    return and_(OperationRow.owner == owner, OperationRow.id == op_id)


def _rowcount(s: Session, statement: Update | Delete) -> int:
    """How many rows an UPDATE or DELETE matched. Session.execute is typed as returning a plain Result; for these
    statements it is a CursorResult, which has the count."""
    return cast("CursorResult[Any]", s.execute(statement)).rowcount


class OperationRepository:
    """Synchronous and quick (indexed rows); callers on the event loop accept a millisecond."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._stamp_sql: SQLCompiler | None = None

    def _change(self, *where, **values) -> bool:
        with Session(self._engine) as s, s.begin():
            return _rowcount(s, update(OperationRow).where(*where).values(**values)) > 0

    def insert(self, record: OperationRecord) -> bool:
        """False when (owner, id) is taken; the caller draws another id."""
        try:
            with Session(self._engine) as s, s.begin():
                s.add(_row(record))
        except IntegrityError:
            return False
        return True

    def get(self, owner: str, op_id: str) -> OperationRecord | None:
        with Session(self._engine) as s:
            row = s.get(OperationRow, (owner, op_id))
            return _record(row) if row is not None else None

    def stamp(self, owner: str, op_id: str) -> tuple | None:
        """What changes whenever the operation's answer does (every write sets update_time; the state and progress
        guard against equal clocks), and its name; None when there is no such operation. Polls read this thousands
        of times a second (api/operation_polls.py): the statement is compiled once for the database's driver and
        run on a pooled DB-API connection, 6x cheaper than a Core execute (whose result handling dominates)."""
        compiled = self._stamp_sql
        if compiled is None:
            compiled = self._stamp_sql = _STAMP.compile(dialect=self._engine.dialect)
        values = {"owner": owner, "op_id": op_id}
        params: tuple[str, ...] | dict[str, str] = values
        if compiled.positional:
            assert compiled.positiontup is not None  # a positional paramstyle always lists its parameters' order
            params = tuple(values[p] for p in compiled.positiontup)
        connection = self._engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(compiled.string, params)
            row = cursor.fetchone()
            cursor.close()
        finally:
            connection.close()  # back to the pool
        return tuple(row) if row is not None else None

    def list(self, owner: str, after: tuple[datetime, str] | None, limit: int) -> list[OperationRecord]:
        """Newest first. `after` is the (create_time, id) of the last operation of the previous page."""
        query = select(OperationRow).where(OperationRow.owner == owner)
        if after is not None:
            created, op_id = after
            query = query.where(
                or_(
                    OperationRow.create_time < created,
                    and_(OperationRow.create_time == created, OperationRow.id > op_id),
                )
            )
        query = query.order_by(OperationRow.create_time.desc(), OperationRow.id).limit(limit)
        with Session(self._engine) as s:
            return [_record(r) for r in s.scalars(query)]

    def claim_next(self, now: datetime, kinds: Collection[str], admit: Callable[[str], bool]) -> OperationRecord | None:
        """Moves the oldest QUEUED operation of one of `kinds` whose model `admit`s another job to RUNNING.

        The UPDATE re-checks state='QUEUED', so when several processes race for one row exactly one wins;
        the losers see rowcount 0 and look again."""
        kinds = list(kinds)
        queued = and_(OperationRow.state == QUEUED, OperationRow.kind.in_(kinds))
        with Session(self._engine) as s:
            models = [m for m in s.scalars(select(OperationRow.model).where(queued).distinct()) if admit(m)]
        while models:
            with Session(self._engine) as s, s.begin():
                candidate = s.execute(
                    select(OperationRow.owner, OperationRow.id)
                    .where(queued, OperationRow.model.in_(models))
                    .order_by(OperationRow.create_time, OperationRow.id)
                    .limit(1)
                ).first()
                if candidate is None:
                    return None
                won = _rowcount(
                    s,
                    update(OperationRow)
                    .where(_key(*candidate), OperationRow.state == QUEUED)
                    .values(state=RUNNING, attempts=OperationRow.attempts + 1, update_time=now),
                )
                if won:
                    row = s.get(OperationRow, tuple(candidate), populate_existing=True)
                    assert row is not None  # this transaction has just updated it
                    return _record(row)
        return None

    def update_progress(
        self, owner: str, op_id: str, done: int, total: int, now: datetime, *, attempt: int | None = None
    ) -> bool:
        """False when the operation is no longer RUNNING (cancelled or deleted, maybe by another process) or, with
        `attempt`, no longer in that attempt (a worker thought dead was restarted and re-ran it)."""
        return self._change(
            *_running(owner, op_id, attempt),
            progress_done=done,
            progress_total=total,
            update_time=now,
        )

    def finish(
        self,
        owner: str,
        op_id: str,
        now: datetime,
        *,
        result: dict | None = None,
        error: tuple[int, str] | None = None,
        progress: tuple[int, int] | None = None,
        attempt: int | None = None,
    ) -> bool:
        """SUCCEEDED with `result`, or FAILED with `error` (code, message); only from RUNNING (and, with
        `attempt`, that attempt), so neither a cancel that landed first nor a re-run is overwritten by a late
        answer."""
        values: dict = {"update_time": now, "done_time": now}
        if error is None:
            values.update(state=OperationState.SUCCEEDED.value, result_json=json.dumps(result))
        else:
            values.update(state=OperationState.FAILED.value, error_code=error[0], error_message=error[1][:2048])
        if progress is not None:
            values.update(progress_done=progress[0], progress_total=progress[1])
        return self._change(*_running(owner, op_id, attempt), **values)

    def cancel(self, owner: str, op_id: str, now: datetime, code: int, message: str) -> bool:
        """CANCELLED if not done yet; returns whether it changed anything."""
        return self._change(
            _key(owner, op_id),
            OperationRow.state.in_(NOT_DONE),
            state=OperationState.CANCELLED.value,
            error_code=code,
            error_message=message,
            update_time=now,
            done_time=now,
        )

    def is_cancelled(self, owner: str, op_id: str) -> bool:
        """True when a running job should stop: its operation was cancelled or deleted."""
        with Session(self._engine) as s:
            state = s.scalar(select(OperationRow.state).where(_key(owner, op_id)))
        return state is None or state == OperationState.CANCELLED.value

    def delete(self, owner: str, op_id: str) -> OperationRecord | None:
        return delete_row(self._engine, OperationRow, (owner, op_id), _record)

    def recover_interrupted(
        self, now: datetime, max_attempts: int, code: int, message: Callable[[int], str]
    ) -> tuple[int, int]:
        """At start-up, RUNNING rows are runs a stopped server left behind: each goes back to the queue, or
        FAILED with `message(attempts)` once it has used its attempts. Returns (requeued, failed)."""
        running = OperationRow.state == RUNNING
        with Session(self._engine) as s, s.begin():
            exhausted = s.execute(
                select(OperationRow.owner, OperationRow.id, OperationRow.attempts).where(
                    running, OperationRow.attempts >= max_attempts
                )
            ).all()
            for owner, op_id, attempts in exhausted:
                s.execute(
                    update(OperationRow)
                    .where(_key(owner, op_id), running)
                    .values(
                        state=OperationState.FAILED.value,
                        error_code=code,
                        error_message=message(attempts),
                        update_time=now,
                        done_time=now,
                    )
                )
            # The re-run reports its own progress from the start.
            requeued = _rowcount(
                s, update(OperationRow).where(running).values(state=QUEUED, progress_done=0, update_time=now)
            )
        return requeued, len(exhausted)

    def expire(self, cutoff: datetime) -> int:
        """Deletes operations that finished before `cutoff`; returns how many."""
        with Session(self._engine) as s, s.begin():
            return _rowcount(
                s, delete(OperationRow).where(OperationRow.state.in_(DONE), OperationRow.done_time < cutoff)
            )
