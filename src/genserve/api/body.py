"""Request bodies parsed as JSON whatever Content-Type the client sent (curl users often send none), and checked
before anything else reads them: valid UTF-8, no lone surrogates, bounded nesting."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from genserve.api.errors import validation_message
from genserve.errors import InvalidArgument

M = TypeVar("M", bound=BaseModel)

# Google's JSON parser (protobuf's) refuses nesting deeper than 100 levels; so do we, before Python's recursion
# limit turns a deep body into a RecursionError anywhere downstream (pydantic, schema converters, tokenizers).
MAX_DEPTH = 100
# A lone surrogate can only arrive as a \uD800-\uDFFF escape once the body is strict UTF-8.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def parse_json(raw: bytes, what: str = "payload") -> Any:
    """The JSON value of `raw`, or a 400 that says what is wrong with it."""
    invalid = f"Invalid JSON {what} received."
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidArgument(f"{invalid} It is not valid UTF-8 (byte {exc.start}).") from None
    try:
        value = json.loads(text)
    except RecursionError:
        raise InvalidArgument(f"{invalid} It is nested deeper than {MAX_DEPTH} levels.") from None
    except ValueError as exc:
        raise InvalidArgument(f"{invalid} {exc}") from None
    _check_value(value, invalid, strings=bool(_SURROGATE_ESCAPE.search(text)))
    return value


def _check_value(value: Any, invalid: str, *, strings: bool) -> None:
    """Refuses nesting deeper than MAX_DEPTH and (with `strings`) text that is not valid Unicode, naming where.
    Iterative, so that the check itself cannot overflow the stack."""
    if strings and isinstance(value, str):
        _check_text(value, invalid, ())
    stack: list[tuple[Any, int, tuple[str | int, ...]]] = [(value, 1, ())] if isinstance(value, (dict, list)) else []
    while stack:
        node, depth, path = stack.pop()
        if depth > MAX_DEPTH:
            raise InvalidArgument(f"{invalid} It is nested deeper than {MAX_DEPTH} levels.")
        for key, item in node.items() if isinstance(node, dict) else enumerate(node):
            if strings and isinstance(key, str):
                _check_text(key, invalid, path)
            if isinstance(item, (dict, list)):
                stack.append((item, depth + 1, (*path, key)))
            elif strings and isinstance(item, str):
                _check_text(item, invalid, (*path, key))


def _check_text(text: str, invalid: str, path: tuple[str | int, ...]) -> None:
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        where = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in path).lstrip(".") or "the top level"
        raise InvalidArgument(
            f"{invalid} The string at '{where}' holds a lone UTF-16 surrogate (\\uD800-\\uDFFF), which is not "
            "valid Unicode."
        ) from None


def validate(model: type[M], data: Any) -> M:
    """`data` as the wire model, or a 400 naming the offending field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidArgument(validation_message(exc.errors())) from None


def json_body(model: type[M]) -> Callable[[Request], Coroutine[None, None, M]]:
    async def parse(request: Request) -> M:
        raw = await request.body()
        data = parse_json(raw) if raw.strip() else {}
        if not isinstance(data, dict):
            raise InvalidArgument("Invalid JSON payload received. The request body must be a JSON object.")
        return validate(model, data)

    parse.body_model = model  # type: ignore[attr-defined]  # api/openapi.py documents the body from it
    return parse
