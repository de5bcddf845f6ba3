"""`tools` and `toolConfig` -> a domain ToolSpec, and the checks a conversation with calls must pass."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from genserve.constrain.limits import check_budget
from genserve.constrain.schema import check_json_schema, openapi_to_json_schema
from genserve.core.catalog import ModelEntry
from genserve.core.types import FunctionCall, FunctionCallingMode, FunctionDeclaration, FunctionResult, Prompt, ToolSpec
from genserve.errors import InvalidArgument
from genserve.schemas.base import ProtoModel

# Gemini's rule for function names (letters, digits, _ . : -, starting with a letter or underscore).
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]{0,127}")


class WireFunctionDeclaration(ProtoModel):
    name: str
    description: str | None = None
    # Schemas are user data: property names must survive unchanged, so they stay plain JSON.
    parameters: dict[str, Any] | None = None
    parameters_json_schema: Any = None
    response: dict[str, Any] | None = None
    response_json_schema: Any = None
    behavior: str | None = None


def to_tool_spec(
    tools: list[dict[str, Any]] | None, tool_config: dict[str, Any] | None, entry: ModelEntry
) -> ToolSpec | None:
    if not tools:
        return None
    declarations: list[FunctionDeclaration] = []
    for i, tool in enumerate(tools):
        for key, value in tool.items():
            where = f"tools[{i}].{_camel(key)}"
            if _camel(key) != "functionDeclarations":
                raise InvalidArgument(
                    f"{where}: the built-in tool '{_camel(key)}' is not available on genserve; "
                    "declare your own functions with functionDeclarations instead"
                )
            if not isinstance(value, list):
                raise InvalidArgument(f"{where}: must be a list of function declarations")
            for j, raw in enumerate(value):
                declarations.append(_declaration(raw, f"{where}[{j}]"))
    if not declarations:
        return None
    # Forced calls compile every declaration into one grammar: the budget holds for all of them together.
    check_budget([d.parameters for d in declarations], "tools")
    if not entry.function_calling:
        raise InvalidArgument(f"tools: function calling is not supported by model '{entry.name}'")
    names = [d.name for d in declarations]
    if duplicate := next((n for n in names if names.count(n) > 1), None):
        raise InvalidArgument(f"tools: the function '{duplicate}' is declared twice; function names must be unique")
    mode, allowed = _calling_config(tool_config, names)
    return ToolSpec(tuple(declarations), mode, allowed)


def _declaration(raw: Any, where: str) -> FunctionDeclaration:
    try:
        wire = WireFunctionDeclaration.model_validate(raw)
    except ValidationError as exc:
        problem = exc.errors()[0]
        field = ".".join(str(p) for p in problem["loc"])
        raise InvalidArgument(f"{where}.{field}: {problem['msg']}") from None
    if not _NAME.fullmatch(wire.name):
        raise InvalidArgument(
            f"{where}.name: '{wire.name}' is not a valid function name: it must start with a letter or an "
            "underscore and contain only a-z, A-Z, 0-9, underscores, dots, colons and dashes (at most 128)"
        )
    if wire.parameters is not None and wire.parameters_json_schema is not None:
        raise InvalidArgument(f"{where}: set either parameters or parametersJsonSchema, not both")
    if wire.parameters is not None:
        schema = openapi_to_json_schema(wire.parameters, f"{where}.parameters")
    elif wire.parameters_json_schema is not None:
        schema = check_json_schema(wire.parameters_json_schema, f"{where}.parametersJsonSchema")
    else:
        schema = None
    return FunctionDeclaration(wire.name, wire.description or "", schema)


_MODES = {m.value: m for m in FunctionCallingMode} | {"MODE_UNSPECIFIED": FunctionCallingMode.AUTO}
_MODE_NUMBERS = ["MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED"]


def _calling_config(
    tool_config: dict[str, Any] | None, names: list[str]
) -> tuple[FunctionCallingMode, tuple[str, ...]]:
    where = "toolConfig.functionCallingConfig"
    config = _get(tool_config or {}, "functionCallingConfig") or {}
    if not isinstance(config, dict):
        raise InvalidArgument(f'{where}: must be an object such as {{"mode": "ANY"}}')
    raw_mode = _get(config, "mode")
    if isinstance(raw_mode, int) and 0 <= raw_mode < len(_MODE_NUMBERS):
        raw_mode = _MODE_NUMBERS[raw_mode]
    mode = _MODES.get(str(raw_mode or "AUTO").upper())
    if mode is None:
        raise InvalidArgument(f"{where}.mode: '{raw_mode}' is not a mode; use AUTO, ANY, NONE or VALIDATED")
    allowed = _get(config, "allowedFunctionNames")
    if allowed is None:
        return mode, ()
    if mode not in (FunctionCallingMode.ANY, FunctionCallingMode.VALIDATED):
        raise InvalidArgument(f"{where}.allowedFunctionNames: may only be set when mode is ANY or VALIDATED")
    if not isinstance(allowed, list) or not all(isinstance(n, str) for n in allowed):
        raise InvalidArgument(f"{where}.allowedFunctionNames: must be a list of function names")
    if not allowed:
        raise InvalidArgument(
            f"{where}.allowedFunctionNames: is empty; list the functions the model may call, or leave it out "
            "to allow all declared functions"
        )
    if unknown := [n for n in allowed if n not in names]:
        raise InvalidArgument(f"{where}.allowedFunctionNames: {', '.join(unknown)} not declared in tools")
    return mode, tuple(allowed)


def check_calls(prompt: Prompt, tools: ToolSpec | None) -> None:
    """Calls in the history must name declared functions; each result must answer an earlier call."""
    declared = {d.name for d in tools.declarations} if tools else set()
    calls: list[FunctionCall] = []
    for i, turn in enumerate(prompt.turns):
        for j, part in enumerate(turn.parts):
            where = f"contents[{i}].parts[{j}]"
            if isinstance(part, FunctionCall):
                if part.name not in declared:
                    raise InvalidArgument(
                        f"{where}.functionCall: '{part.name}' has no matching declaration in tools; declare every "
                        "function the conversation calls"
                    )
                calls.append(part)
            elif isinstance(part, FunctionResult) and not any(_answers(part, call) for call in calls):
                raise InvalidArgument(
                    f"{where}.functionResponse: '{part.name}' answers no earlier functionCall; a function "
                    "response must follow the model's call to that function"
                )


def _answers(result: FunctionResult, call: FunctionCall) -> bool:
    if result.id and call.id:
        return result.id == call.id
    return result.name == call.name


def _get(data: dict[str, Any], camel: str) -> Any:
    snake = re.sub(r"(?<!^)([A-Z])", r"_\1", camel).lower()
    return data.get(camel, data.get(snake))


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)
