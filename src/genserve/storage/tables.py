"""SQL tables for file metadata, upload sessions and operations (the schema Alembic's migrations create)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Float, Index, Integer, String, Text, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator):
    """SQLite forgets time zones; every time stored here is UTC and comes back aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return value.replace(tzinfo=None) if value is not None else None

    def process_result_value(self, value, dialect):
        from datetime import timezone

        return value.replace(tzinfo=timezone.utc) if value is not None else None


class Base(DeclarativeBase):
    pass


class FileRow(Base):
    __tablename__ = "files"

    owner: Mapped[str] = mapped_column(String(64), primary_key=True)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(512), default="")
    mime_type: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256_hex: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    api_version: Mapped[str] = mapped_column(String(16))
    blob_key: Mapped[str] = mapped_column(String(64))
    create_time: Mapped[datetime] = mapped_column(UtcDateTime)
    update_time: Mapped[datetime] = mapped_column(UtcDateTime)
    expiration_time: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    video_duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    error_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error_message: Mapped[str | None] = mapped_column(String(1024), nullable=True)


class UploadRow(Base):
    __tablename__ = "uploads"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    file_id: Mapped[str] = mapped_column(String(40))
    display_name: Mapped[str] = mapped_column(String(512), default="")
    mime_type: Mapped[str] = mapped_column(String(255))
    declared_size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    api_version: Mapped[str] = mapped_column(String(16))
    create_time: Mapped[datetime] = mapped_column(UtcDateTime)
    expiration_time: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    # Set once finalized, so a late chunk gets "already finalized" rather than "unknown upload".
    finalized: Mapped[int] = mapped_column(Integer, default=0)


class OperationRow(Base):
    __tablename__ = "operations"
    # Listing is per owner, newest first.
    __table_args__ = (Index("ix_operations_owner_create_time", "owner", "create_time"),)

    owner: Mapped[str] = mapped_column(String(64), primary_key=True)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(512))
    model: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), index=True)
    request_json: Mapped[str] = mapped_column(Text)
    result_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error_message: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    create_time: Mapped[datetime] = mapped_column(UtcDateTime)
    update_time: Mapped[datetime] = mapped_column(UtcDateTime)
    # When it became done (retention counts from here); NULL while queued or running.
    done_time: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True, index=True)
