"""Gemini `contents` -> a domain Prompt, refusing parts the model cannot read."""

from __future__ import annotations

from genserve.core.catalog import ModelEntry
from genserve.core.types import FileRef, FunctionCall, FunctionResult, Media, Prompt, PromptPart, Role, Turn
from genserve.errors import InvalidArgument
from genserve.schemas.content import Content, Part

# "function" is the role the legacy google-generativeai SDK gives function responses.
_ROLES: dict[str | None, Role] = {None: "user", "": "user", "user": "user", "function": "user", "model": "model"}


def to_prompt(contents: list[Content], system: Content | None, entry: ModelEntry, field: str = "contents") -> Prompt:
    if not contents:
        raise InvalidArgument(f"* GenerateContentRequest.{field}: contents is not specified")
    turns = []
    for i, content in enumerate(contents):
        where = f"{field}[{i}]"
        role = _ROLES.get(content.role)
        if role is None:
            raise InvalidArgument(f"Please use a valid role: user, model. ({where}.role is '{content.role}')")
        turns.append(Turn(role, content_parts(content, where, entry)))
    system_text = content_text(system, "systemInstruction", entry) if system is not None else None
    return Prompt(system=system_text or None, turns=tuple(turns))


def content_parts(content: Content, where: str, entry: ModelEntry) -> tuple[PromptPart, ...]:
    if not content.parts:
        raise InvalidArgument(f"* GenerateContentRequest.{where}.parts: contents must not be empty")
    return tuple(_part(part, f"{where}.parts[{j}]", entry) for j, part in enumerate(content.parts))


def content_text(content: Content, where: str, entry: ModelEntry) -> str:
    """Text only, for places that take no file references (system instructions, embeddings)."""
    parts = content_parts(content, where, entry)
    if not all(isinstance(p, str) for p in parts):
        raise InvalidArgument(f"{where}: only text parts are accepted here")
    return "".join(parts)  # type: ignore[arg-type]


def _part(part: Part, where: str, entry: ModelEntry) -> PromptPart:
    if part.thought:
        return ""  # earlier reasoning is not replayed to the model, as Gemini does
    if part.text is not None:
        return part.text
    if part.inline_data is not None:
        mime = part.inline_data.mime_type
        if mime.startswith("text/"):
            try:
                return part.inline_data.data.decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidArgument(f"{where}.inlineData: {mime} data is not valid UTF-8") from None
        if not entry.reads(mime):
            raise entry.modality_refused(mime, where)
        if not part.inline_data.data:
            raise InvalidArgument(f"{where}.inlineData.data: is empty")
        return Media(mime, part.inline_data.data)
    if part.file_data is not None:
        if not part.file_data.file_uri.strip():
            raise InvalidArgument(f"{where}.fileData.fileUri: is empty; give the uri of an uploaded file")
        declared = part.file_data.mime_type
        if declared and not entry.reads(declared):
            raise entry.modality_refused(declared, where)
        return FileRef(part.file_data.file_uri, declared)
    if part.function_call is not None:
        call = part.function_call
        return FunctionCall(call.name, dict(call.args or {}), call.id)
    if part.function_response is not None:
        result = part.function_response
        return FunctionResult(result.name, dict(result.response or {}), result.id)
    if part.executable_code is not None or part.code_execution_result is not None:
        raise InvalidArgument(f"{where}: code execution is not supported by model '{entry.name}'")
    raise InvalidArgument(
        f"* GenerateContentRequest.{where}.data: required oneof field 'data' must have one initialized field"
    )
