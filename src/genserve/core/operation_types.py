"""Long-running operations: their states and records, as the job system stores them."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any


class OperationState(str, enum.Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def done(self) -> bool:
        return self in (OperationState.SUCCEEDED, OperationState.FAILED, OperationState.CANCELLED)


@dataclass(frozen=True)
class OperationRecord:
    id: str  # [a-z0-9]+
    # The resource name clients poll: "models/{m}/operations/{id}", or the Vertex form
    # "projects/{p}/locations/{l}/publishers/google/models/{m}/operations/{id}".
    name: str
    owner: str  # the API key's owner; another key's operation is "not found"
    model: str  # the catalog name the client called
    kind: str  # which handler runs it, e.g. "generateVideos"
    state: OperationState
    request: dict[str, Any]  # JSON: everything the handler needs, persisted before the request returns
    create_time: datetime
    update_time: datetime
    progress_done: int = 0  # e.g. denoising steps done ...
    progress_total: int = 0  # ... of this many (0: not known yet)
    result: dict[str, Any] | None = None  # JSON the handler returned (SUCCEEDED)
    error_code: int | None = None  # google.rpc code (FAILED, CANCELLED)
    error_message: str | None = None
    attempts: int = 0  # runs started; an interrupted run is retried until max_attempts

    @property
    def done(self) -> bool:
        return self.state.done


# A handler runs one operation: it reports progress with `progress(done, total)` (callable from any thread,
# cheap to call often) and returns the result JSON, or raises an ApiError that becomes the operation's error.
# Cancellation arrives as asyncio.CancelledError.
Progress = Callable[[int, int], None]
JobHandler = Callable[[OperationRecord, Progress], Awaitable[dict[str, Any]]]
