"""Turns a domain Prompt into the messages a Hugging Face chat template expects.

Function calls and results use the transformers conventions that tool-aware templates read: an assistant
message with `tool_calls`, and one `tool` message per result. Media parts become typed content items
(`{"type": "image"}`) for multimodal processors; text-only turns keep plain string content."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from genserve.core.types import FunctionCall, FunctionDeclaration, FunctionResult, Media, Prompt, ResponseFormat

_ROLES = {"user": "user", "model": "assistant"}


def chat_messages(prompt: Prompt, *, system_role: bool = True) -> list[dict[str, Any]]:
    """Merge consecutive same-role turns (the SDKs send one per streamed chunk, wire.md §0.11) and
    fold the system instruction into the first user turn for templates that have no system role."""
    messages: list[dict[str, Any]] = []
    for turn in prompt.turns:
        role = _ROLES[turn.role]
        for part in turn.parts:
            if isinstance(part, FunctionResult):
                messages.append({"role": "tool", "name": part.name, "content": json.dumps(part.response)})
                continue
            if not messages or messages[-1]["role"] != role:
                messages.append({"role": role, "content": ""})
            message = messages[-1]
            if isinstance(part, FunctionCall):
                call = {"name": part.name, "arguments": part.args}
                message.setdefault("tool_calls", []).append({"type": "function", "function": call})
            elif isinstance(part, Media):
                message["content"] = _items(message["content"]) + [{"type": part.modality}]
            elif isinstance(part, str):
                _append_text(message, part)
    if prompt.system:
        if system_role:
            messages.insert(0, {"role": "system", "content": prompt.system})
        elif messages and messages[0]["role"] == "user" and isinstance(messages[0]["content"], str):
            messages[0]["content"] = f"{prompt.system}\n\n{messages[0]['content']}"
        else:
            messages.insert(0, {"role": "user", "content": prompt.system})
    return messages


def with_response_format(prompt: Prompt, fmt: ResponseFormat | None) -> Prompt:
    """The prompt with the requested output format stated in its system instruction. Gemini does the same (its
    documentation: the response schema counts towards the input token limit); the grammar enforces the format
    anyway, but a model that is told what to write fills it with content instead of the shortest valid value."""
    if fmt is None:
        return prompt
    if fmt.kind == "enum":
        instruction = "Answer with exactly one of: " + ", ".join(fmt.enum_values) + "."
    elif fmt.json_schema is None:
        instruction = "Answer in JSON."
    else:
        instruction = "Answer in JSON that matches this JSON Schema:\n" + json.dumps(fmt.json_schema)
    return replace(prompt, system="\n\n".join(filter(None, [prompt.system, instruction])))


def template_tools(declarations: tuple[FunctionDeclaration, ...]) -> list[dict[str, Any]] | None:
    """Declarations in the JSON-schema form chat templates render into the system prompt."""
    if not declarations:
        return None
    return [
        {
            "type": "function",
            "function": {
                "name": d.name,
                "description": d.description,
                "parameters": d.parameters or {"type": "object", "properties": {}},
            },
        }
        for d in declarations
    ]


def _items(content: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(content, list):
        return content
    return [{"type": "text", "text": content}] if content else []


def _append_text(message: dict[str, Any], text: str) -> None:
    if isinstance(message["content"], str):
        message["content"] += text
    elif message["content"] and message["content"][-1]["type"] == "text":
        message["content"][-1]["text"] += text
    elif text:
        message["content"].append({"type": "text", "text": text})
