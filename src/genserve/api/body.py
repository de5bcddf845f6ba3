"""Request bodies parsed as JSON whatever Content-Type the client sent (curl users often send none)."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from genserve.api.errors import validation_message
from genserve.errors import InvalidArgument

M = TypeVar("M", bound=BaseModel)


def json_body(model: type[M]) -> Callable[[Request], Coroutine[None, None, M]]:
    async def parse(request: Request) -> M:
        raw = await request.body()
        try:
            data = json.loads(raw) if raw.strip() else {}
        except ValueError as exc:
            raise InvalidArgument(f"Invalid JSON payload received. {exc}") from None
        if not isinstance(data, dict):
            raise InvalidArgument("Invalid JSON payload received. The request body must be a JSON object.")
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise InvalidArgument(validation_message(exc.errors())) from None

    return parse
