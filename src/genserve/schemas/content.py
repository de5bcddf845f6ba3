"""Content and Part: the conversation payload shared by generate, countTokens and embed requests."""

from __future__ import annotations

from typing import Any, overload

from pydantic import Field, model_validator

from genserve.schemas.base import Base64Bytes, ProtoModel


class Blob(ProtoModel):
    mime_type: str = ""
    data: Base64Bytes = b""


class FileData(ProtoModel):
    mime_type: str | None = None
    file_uri: str


class FunctionCall(ProtoModel):
    id: str | None = None
    name: str
    # User data: keys are never renamed.
    args: dict[str, Any] | None = None


class FunctionResponse(ProtoModel):
    id: str | None = None
    name: str
    response: dict[str, Any] | None = None


class Part(ProtoModel):
    text: str | None = None
    inline_data: Blob | None = None
    file_data: FileData | None = None
    function_call: FunctionCall | None = None
    function_response: FunctionResponse | None = None
    executable_code: dict[str, Any] | None = None
    code_execution_result: dict[str, Any] | None = None
    thought: bool | None = None
    thought_signature: Base64Bytes | None = None
    video_metadata: dict[str, Any] | None = None


class Content(ProtoModel):
    role: str | None = None
    parts: list[Part] = Field(default_factory=list)


@overload
def as_contents(value: str) -> list[dict[str, Any]]: ...
@overload
def as_contents(value: object) -> object: ...
def as_contents(value: object) -> object:
    """REST callers may send a bare string or a single Content where a list is expected."""
    if isinstance(value, str):
        return [{"role": "user", "parts": [{"text": value}]}]
    if isinstance(value, dict):
        return [value]
    return value


class ContentsMixin(ProtoModel):
    @model_validator(mode="before")
    @classmethod
    def _normalise_contents(cls, data: Any) -> Any:
        if isinstance(data, dict) and "contents" in data:
            data = {**data, "contents": as_contents(data["contents"])}
        return data
