"""Background work on files: probing audio/video until ACTIVE, and deleting what has expired.

Everything it acts on is read from the database, so a restart resumes it: files left PROCESSING are
probed again, and expired files and stale uploads are swept on the first pass."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from genserve.core.file_types import FileRecord, FileState
from genserve.core.files import FilesService
from genserve.media.probe import MediaInfo

log = logging.getLogger(__name__)

ORPHAN_GRACE_S = 3600.0

Prober = Callable[[Path, str], MediaInfo]  # raises ValueError for media it cannot decode


class FileLifecycle:
    def __init__(self, files: FilesService, prober: Prober, sweep_interval_s: float) -> None:
        self.files = files
        self.prober = prober
        self.interval = sweep_interval_s
        self._tasks: set[asyncio.Task] = set()
        files.on_processing = self.schedule_probe

    def start(self) -> None:
        for record in self.files.repo.in_state(FileState.PROCESSING):
            self.schedule_probe(record)
        self._spawn(self._sweep_forever())

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def schedule_probe(self, record: FileRecord) -> None:
        self._spawn(self.probe(record))

    async def probe(self, record: FileRecord) -> FileRecord:
        try:
            info = await asyncio.to_thread(self.prober, self.files.blob_path(record), record.mime_type)
            done = replace(record, state=FileState.ACTIVE, video_duration_s=info.duration_s)
        except Exception as exc:  # undecodable media is the user's problem, reported on the file
            done = replace(
                record, state=FileState.FAILED, error_code=400, error_message=f"Could not decode the file: {exc}"
            )
        done = replace(done, update_time=self.files.clock())
        if self.files.repo.get(record.owner, record.id, self.files.clock()) is not None:  # not deleted meanwhile
            self.files.repo.update(done)
        return done

    async def sweep(self) -> int:
        """Delete expired files, abandoned uploads and orphaned blobs; returns how many files went."""
        now = self.files.clock()
        expired = self.files.repo.expired(now)
        for record in expired:
            self.files.repo.delete(record.owner, record.id)
            self.files.blobs.delete(record.blob_key)
        for upload_id in self.files.repo.expired_uploads(now):
            self.files.blobs.discard(upload_id)
        # A crash between committing bytes and recording the file leaves a blob nobody owns. Only old
        # ones go: a blob committed a moment ago may be an upload whose record is being written now.
        for key in set(self.files.blobs.keys(min_age_s=ORPHAN_GRACE_S)) - self.files.repo.blob_keys():
            self.files.blobs.delete(key)
        return len(expired)

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("file sweep failed; retrying later")
            await asyncio.sleep(self.interval)

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
