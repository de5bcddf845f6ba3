"""File metadata and upload sessions in SQL, returned as domain records."""

from __future__ import annotations

import builtins
from dataclasses import asdict, fields
from datetime import datetime

from sqlalchemy import Engine, and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from genserve.core.file_types import FileIdTaken, FileRecord, FileSource, FileState, UploadSession
from genserve.storage.database import delete_row
from genserve.storage.tables import FileRow, UploadRow


def _record(row: FileRow) -> FileRecord:
    values = {f.name: getattr(row, f.name) for f in fields(FileRecord)}
    return FileRecord(**{**values, "state": FileState(row.state), "source": FileSource(row.source)})


def _row(record: FileRecord) -> FileRow:
    values = asdict(record)
    return FileRow(**{**values, "state": record.state.value, "source": record.source.value})


def _session(row: UploadRow) -> UploadSession:
    values = {f.name: getattr(row, f.name) for f in fields(UploadSession)}
    return UploadSession(**{**values, "finalized": bool(row.finalized)})


class FileRepository:
    """Synchronous and quick (indexed SQLite rows); callers on the event loop accept a millisecond."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # -- files --------------------------------------------------------------------------------------

    def insert(self, record: FileRecord) -> None:
        try:
            with Session(self._engine) as s, s.begin():
                s.add(_row(record))
        except IntegrityError:
            raise FileIdTaken(record.id) from None

    def get(self, owner: str, file_id: str, now: datetime) -> FileRecord | None:
        with Session(self._engine) as s:
            row = s.get(FileRow, (owner, file_id))
            return _record(row) if row is not None and row.expiration_time > now else None

    def list(self, owner: str, now: datetime, after: tuple[datetime, str] | None, limit: int) -> list[FileRecord]:
        """Newest first. `after` is the (create_time, id) of the last file of the previous page: pages
        stay consistent when files are added or deleted between requests, unlike offsets."""
        query = select(FileRow).where(FileRow.owner == owner, FileRow.expiration_time > now)
        if after is not None:
            created, file_id = after
            query = query.where(
                or_(FileRow.create_time < created, and_(FileRow.create_time == created, FileRow.id > file_id))
            )
        query = query.order_by(FileRow.create_time.desc(), FileRow.id).limit(limit)
        with Session(self._engine) as s:
            return [_record(r) for r in s.scalars(query)]

    def usage(self, owner: str, now: datetime) -> tuple[int, int]:
        """(number of files, total bytes) an owner holds, counting pending uploads' declared sizes."""
        with Session(self._engine) as s:
            count, size = s.execute(
                select(func.count(), func.coalesce(func.sum(FileRow.size_bytes), 0)).where(
                    FileRow.owner == owner, FileRow.expiration_time > now
                )
            ).one()
            pending = s.execute(
                select(func.coalesce(func.sum(UploadRow.declared_size), 0)).where(
                    UploadRow.owner == owner, UploadRow.finalized == 0, UploadRow.expiration_time > now
                )
            ).scalar_one()
        assert pending is not None  # coalesce(..., 0) is never NULL
        return int(count), int(size) + int(pending)

    def update(self, record: FileRecord) -> None:
        with Session(self._engine) as s, s.begin():
            s.merge(_row(record))

    def delete(self, owner: str, file_id: str) -> FileRecord | None:
        return delete_row(self._engine, FileRow, (owner, file_id), _record)

    def expired(self, now: datetime) -> builtins.list[FileRecord]:
        with Session(self._engine) as s:
            return [_record(r) for r in s.scalars(select(FileRow).where(FileRow.expiration_time <= now))]

    def in_state(self, state: FileState) -> builtins.list[FileRecord]:
        with Session(self._engine) as s:
            return [_record(r) for r in s.scalars(select(FileRow).where(FileRow.state == state.value))]

    def blob_keys(self) -> set[str]:
        with Session(self._engine) as s:
            return set(s.scalars(select(FileRow.blob_key)))

    # -- upload sessions ----------------------------------------------------------------------------

    def add_upload(self, session: UploadSession) -> None:
        with Session(self._engine) as s, s.begin():
            s.add(UploadRow(**{**asdict(session), "finalized": int(session.finalized)}))

    def get_upload(self, upload_id: str, now: datetime) -> UploadSession | None:
        with Session(self._engine) as s:
            row = s.get(UploadRow, upload_id)
            return _session(row) if row is not None and row.expiration_time > now else None

    def finish_upload(self, upload_id: str, record: FileRecord) -> None:
        """Marks the session finalized and stores its file in one transaction."""
        try:
            with Session(self._engine) as s, s.begin():
                s.execute(update(UploadRow).where(UploadRow.id == upload_id).values(finalized=1))
                s.add(_row(record))
        except IntegrityError:
            raise FileIdTaken(record.id) from None

    def drop_upload(self, upload_id: str) -> None:
        with Session(self._engine) as s, s.begin():
            s.execute(delete(UploadRow).where(UploadRow.id == upload_id))

    def expired_uploads(self, now: datetime) -> builtins.list[str]:
        with Session(self._engine) as s, s.begin():
            ids = list(s.scalars(select(UploadRow.id).where(UploadRow.expiration_time <= now)))
            s.execute(delete(UploadRow).where(UploadRow.id.in_(ids)))
            return ids

    def file_id_taken(self, owner: str, file_id: str) -> bool:
        with Session(self._engine) as s:
            if s.get(FileRow, (owner, file_id)) is not None:
                return True
            pending = select(UploadRow.id).where(
                UploadRow.owner == owner, UploadRow.file_id == file_id, UploadRow.finalized == 0
            )
            return s.execute(pending).first() is not None
