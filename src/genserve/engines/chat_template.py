"""Turns a domain Prompt into the messages a Hugging Face chat template expects."""

from __future__ import annotations

from typing import Any

from genserve.core.types import Prompt

_ROLES = {"user": "user", "model": "assistant"}


def chat_messages(prompt: Prompt, *, system_role: bool = True) -> list[dict[str, Any]]:
    """Merge consecutive same-role turns (the SDKs send one per streamed chunk, wire.md §0.11) and
    fold the system instruction into the first user turn for templates that have no system role."""
    messages: list[dict[str, Any]] = []
    for turn in prompt.turns:
        role = _ROLES[turn.role]
        if messages and messages[-1]["role"] == role:
            messages[-1]["content"] += turn.text
        else:
            messages.append({"role": role, "content": turn.text})
    if prompt.system:
        if system_role:
            messages.insert(0, {"role": "system", "content": prompt.system})
        elif messages and messages[0]["role"] == "user":
            messages[0]["content"] = f"{prompt.system}\n\n{messages[0]['content']}"
        else:
            messages.insert(0, {"role": "user", "content": prompt.system})
    return messages
