"""How a model family writes thoughts and tool calls in its raw output: one place per family.

Engines stream raw text; `reply_parser.ReplyParser` uses a ReplyFormat to split it into thought text,
answer text and function calls. The same tags drive constrained decoding (forced tool calls) and the
thinking budget (the close tag the engine inserts when the budget is spent)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from genserve.core.types import FunctionCall


class MalformedCall(ValueError):
    """The model wrote a tool call that does not parse; the reply ends with MALFORMED_FUNCTION_CALL."""


@dataclass(frozen=True)
class ReplyFormat:
    name: str
    think_open: str
    think_close: str
    tool_open: str
    tool_close: str

    def parse_call(self, body: str) -> FunctionCall:
        raise NotImplementedError

    def call_text(self, call: FunctionCall) -> str:
        """A call as the model writes it (for scripted replies and tests)."""
        raise NotImplementedError


class HermesFormat(ReplyFormat):
    """Qwen 2.5/3, Hermes and most chat templates that take `tools`: `<think>…</think>` reasoning and
    `<tool_call>{"name": …, "arguments": {…}}</tool_call>` calls, one JSON object per tag."""

    def parse_call(self, body: str) -> FunctionCall:
        try:
            value: Any = json.loads(body)
        except ValueError as exc:
            raise MalformedCall(f"the tool call is not JSON: {exc}") from None
        if not isinstance(value, dict) or not isinstance(value.get("name"), str):
            raise MalformedCall("the tool call has no function name")
        args = value.get("arguments", value.get("parameters", {}))
        if isinstance(args, str):  # some models double-encode the arguments
            try:
                args = json.loads(args)
            except ValueError:
                raise MalformedCall("the tool call's arguments are not JSON") from None
        if not isinstance(args, dict):
            raise MalformedCall("the tool call's arguments are not a JSON object")
        return FunctionCall(name=value["name"], args=args)

    def call_text(self, call: FunctionCall) -> str:
        return f"{self.tool_open}\n{json.dumps({'name': call.name, 'arguments': call.args})}\n{self.tool_close}"


HERMES = HermesFormat("hermes", "<think>", "</think>", "<tool_call>", "</tool_call>")

REPLY_FORMATS: dict[str, ReplyFormat] = {HERMES.name: HERMES}


def reply_format(name: str) -> ReplyFormat:
    try:
        return REPLY_FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown reply_format '{name}'; known: {', '.join(REPLY_FORMATS)}") from None
