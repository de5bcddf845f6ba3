"""countTokens request and response (wire.md §5): `contents`, or the legacy `generateContentRequest` form."""

from __future__ import annotations

from pydantic import Field

from genserve.schemas.base import ProtoModel
from genserve.schemas.content import Content, ContentsMixin
from genserve.schemas.generate import GenerateContentRequest, ModalityTokenCount


class CountTokensRequest(ContentsMixin):
    contents: list[Content] = Field(default_factory=list)
    generate_content_request: GenerateContentRequest | None = None


class CountTokensResponse(ProtoModel):
    total_tokens: int
    prompt_tokens_details: list[ModalityTokenCount] | None = None
