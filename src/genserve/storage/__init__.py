"""Persistence: file metadata in SQL (SQLAlchemy + Alembic migrations), bytes in a blob store."""
