"""Paged listings (files.list, operations.list): the page size rule and the opaque pageToken.

A token is where the previous page stopped, (create_time, id) of its last item, so a listing stays in order while
items come and go between pages."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Protocol, TypeVar

from genserve.errors import InvalidArgument

Cursor = tuple[datetime, str]


class Listed(Protocol):
    @property
    def create_time(self) -> datetime: ...

    @property
    def id(self) -> str: ...


T = TypeVar("T", bound=Listed)


def page_size(requested: int) -> int:
    """Gemini's rule: 10 when unset, at most 100."""
    return 10 if requested <= 0 else min(requested, 100)


def cursor(page_token: str) -> Cursor | None:
    if not page_token:
        return None
    try:
        created, _, item_id = base64.urlsafe_b64decode(page_token.encode()).decode().partition("|")
        return datetime.fromisoformat(created), item_id
    except ValueError:
        raise InvalidArgument(f"pageToken '{page_token}' is not a token this server issued") from None


def page(records: list[T], size: int) -> tuple[list[T], str | None]:
    """The first `size` of `records` (fetched as size + 1, to know whether more follow) and the next page's token."""
    items = records[:size]
    if len(records) <= size:
        return items, None
    last = items[-1]
    return items, base64.urlsafe_b64encode(f"{last.create_time.isoformat()}|{last.id}".encode()).decode()
