"""embedContent / batchEmbedContents wire bodies -> domain EmbedRequests."""

from __future__ import annotations

from genserve.convert.contents import content_text
from genserve.core.catalog import ModelEntry
from genserve.core.types import EmbedRequest
from genserve.errors import InvalidArgument
from genserve.schemas.embed import EmbedContentRequest


def to_embed_requests(
    requests: list[EmbedContentRequest], entry: ModelEntry, field: str = "requests"
) -> list[EmbedRequest]:
    if not requests:
        raise InvalidArgument(f"* BatchEmbedContentsRequest.{field}: at least one request is required")
    return [
        EmbedRequest(
            text=content_text(r.content, f"{field}[{i}].content", entry),
            title=r.title,
            task_type=r.task_type.name if r.task_type else None,
            output_dimensionality=r.output_dimensionality,
        )
        for i, r in enumerate(requests)
    ]
