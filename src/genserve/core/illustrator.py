"""Gemini-native image output: the text model plans the reply (passages and image descriptions, as JSON under
constrained decoding), the catalog's image model draws each image, and the parts stream out interleaved.

Editing: when the conversation holds an image (the user's or an earlier reply's), the latest one is what the
instruction changes: the plan has exactly one part, and its description drives an edit of that picture."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import AsyncIterator
from typing import Any, Protocol

from genserve.core.catalog import Catalog, ModelEntry
from genserve.core.image_generation import ImageService
from genserve.core.image_types import ImageOutput
from genserve.core.types import (
    CandidateChunk,
    FinishReason,
    Media,
    Prompt,
    ReplyImage,
    ReplyText,
    ResponseChunk,
    ResponseFormat,
    TextRequest,
    Usage,
    new_response_id,
)

log = logging.getLogger(__name__)

# Gemini bills each generated image as this many output tokens.
IMAGE_TOKENS = 1290
MAX_IMAGES = 4

PLAN_INSTRUCTION = (
    'You answer with text and pictures. Reply with JSON only: {"parts": [{"text": ..., "image": ...}, ...]}. '
    'Each part is a passage of your answer followed by one picture that goes with it; "image" describes that '
    "picture in detail for an image generation model (subject, setting, style). Use several parts when the "
    "answer has steps or sections (an illustrated recipe, a story). When the user shows an image and asks for a "
    'change, reply with one part whose "image" describes the changed picture.'
)


def plan_schema(min_parts: int, max_parts: int, text: bool, text_chars: int, image_chars: int) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "parts": {
                "type": "array",
                "minItems": min_parts,
                "maxItems": max_parts,
                "items": {
                    "type": "object",
                    "properties": {
                        # With TEXT asked for, every picture comes with words; image-only replies drop them.
                        "text": {"type": "string", "minLength": int(text), "maxLength": text_chars},
                        "image": {"type": "string", "minLength": 1, "maxLength": image_chars},
                    },
                    "required": ["text", "image"],
                    "additionalProperties": False,
                },
            }
        },
        "required": ["parts"],
        "additionalProperties": False,
    }


def latest_image(prompt: Prompt) -> Media | None:
    for turn in reversed(prompt.turns):
        for part in reversed(turn.parts):
            if isinstance(part, Media) and part.modality == "image":
                return part
    return None


def last_user_text(prompt: Prompt) -> str:
    for turn in reversed(prompt.turns):
        if turn.role == "user" and turn.text.strip():
            return turn.text.strip()
    return ""


def parse_plan(text: str, fallback_prompt: str) -> list[tuple[str, str]]:
    """(passage, image description) pairs. A blank description draws the user's own words; a plan that is not
    JSON (cut short by maxOutputTokens) becomes one passage of its raw text and one picture of the user's words."""
    try:
        parts = json.loads(text)["parts"]
        plan = [(str(p.get("text", "")), str(p.get("image", ""))) for p in parts if isinstance(p, dict)]
    except (ValueError, KeyError, TypeError):
        plan = []
    plan = [(t, i if i.strip() else fallback_prompt) for t, i in plan]
    return plan or [(text if not text.lstrip().startswith("{") else "", fallback_prompt)]


class Planner(Protocol):
    """The text model's normal path (GenerationService), which plans the reply."""

    async def resolve_files(self, entry: ModelEntry, prompt: Prompt, owner: str) -> Prompt: ...

    async def generate_content(self, entry: ModelEntry, request: TextRequest, owner: str = "") -> ResponseChunk: ...


class Illustrator:
    def __init__(self, generation: Planner, images: ImageService, catalog: Catalog) -> None:
        self._generation = generation
        self._images = images
        self._catalog = catalog

    async def stream(self, entry: ModelEntry, request: TextRequest, owner: str) -> AsyncIterator[ResponseChunk]:
        reply = request.image_reply
        assert reply is not None and entry.image_model
        prompt = await self._generation.resolve_files(entry, request.prompt, owner)
        verdict = self._images.screen(last_user_text(prompt), reply.person_generation)
        if verdict is not None:
            yield ResponseChunk([], Usage(), request.model, new_response_id(), verdict.reason.value, verdict.message)
            return
        source = latest_image(prompt)
        plan_request = self._plan_request(entry, dataclasses.replace(request, prompt=prompt), source is not None)
        planned = await self._generation.generate_content(entry, plan_request, owner)
        usage, response_id = planned.usage, planned.response_id
        plan = parse_plan(planned.candidates[0].text, last_user_text(prompt))
        renderer = self._catalog.get(entry.image_model)
        for number, (passage, description) in enumerate(plan):
            last = number == len(plan) - 1
            if reply.text and passage.strip():
                yield ResponseChunk([CandidateChunk(0, [ReplyText(passage)])], _copy(usage), request.model, response_id)
            if self._images.screen(description, reply.person_generation) is not None:
                log.info("a planned image for %s was blocked by the safety policy", request.model)
                blocked = CandidateChunk(0, [], FinishReason.IMAGE_SAFETY)
                yield ResponseChunk([blocked], _copy(usage), request.model, response_id)
                return
            seed = None if request.sampling.seed is None else request.sampling.seed + number
            data = await self._images.draw(renderer, description, reply, source, seed)
            usage.candidates_tokens += IMAGE_TOKENS
            image = ReplyImage(ImageOutput().mime_type, data)
            reason = FinishReason.STOP if last else None
            yield ResponseChunk([CandidateChunk(0, [image], reason)], _copy(usage), request.model, response_id)

    def _plan_request(self, entry: ModelEntry, request: TextRequest, editing: bool) -> TextRequest:
        plan = entry.options.get("image_plan", {})
        schema = plan_schema(
            1,
            1 if editing else int(plan.get("max_images", MAX_IMAGES)),
            request.image_reply is not None and request.image_reply.text,
            int(plan.get("text_chars", 2000)),
            int(plan.get("image_chars", 600)),
        )
        system = f"{request.prompt.system}\n\n{PLAN_INSTRUCTION}" if request.prompt.system else PLAN_INSTRUCTION
        return dataclasses.replace(
            request,
            prompt=dataclasses.replace(request.prompt, system=system),
            response_format=ResponseFormat("json", schema),
            thinking=None,
            image_reply=None,
        )


def _copy(usage: Usage) -> Usage:
    return dataclasses.replace(usage, prompt_modality_tokens=dict(usage.prompt_modality_tokens))
