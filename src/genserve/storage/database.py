"""Opens the metadata database and brings its schema up to date with Alembic at start-up."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session

Row = TypeVar("Row")
Record = TypeVar("Record")

MIGRATIONS = Path(__file__).parent / "migrations"


def open_database(url: str) -> Engine:
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
            cursor.execute("PRAGMA synchronous=FULL")  # a committed file survives power loss
            cursor.close()

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return engine


def delete_row(
    engine: Engine, table: type[Row], key: tuple[Any, ...], record: Callable[[Row], Record]
) -> Record | None:
    """Deletes the row with this primary key and returns what it held, in one transaction (None: no such row), so
    the caller can release what the row pointed to (a blob) after the row is gone."""
    with Session(engine) as s, s.begin():
        row = s.get(table, key)
        if row is None:
            return None
        deleted = record(row)
        s.delete(row)
        return deleted
