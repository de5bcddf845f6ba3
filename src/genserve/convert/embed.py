"""embedContent / batchEmbedContents wire bodies -> domain EmbedRequests."""

from __future__ import annotations

from genserve.convert.contents import content_text
from genserve.core.catalog import ModelEntry
from genserve.core.types import EmbedRequest
from genserve.errors import InvalidArgument
from genserve.schemas.embed import EmbedContentRequest

# Google's cap on batchEmbedContents: "at most 100 requests can be in one batch".
MAX_BATCH = 100


def to_embed_requests(
    requests: list[EmbedContentRequest], entry: ModelEntry, model: str, field: str = "requests"
) -> list[EmbedRequest]:
    """`model` is the name in the URL; a request that names another model is refused, never silently ignored."""
    if not requests:
        raise InvalidArgument(f"* BatchEmbedContentsRequest.{field}: at least one request is required")
    if len(requests) > MAX_BATCH:
        raise InvalidArgument(f"* BatchEmbedContentsRequest.{field}: at most {MAX_BATCH} requests can be in one batch")
    return [_embed_request(r, entry, model, f"{field}[{i}]") for i, r in enumerate(requests)]


def _embed_request(r: EmbedContentRequest, entry: ModelEntry, model: str, where: str) -> EmbedRequest:
    if r.model is not None and r.model.removeprefix("models/") != model:
        raise InvalidArgument(
            f"{where}.model: '{r.model}' is not the model this batch was sent to ('models/{model}'); every request "
            "of a batch must name the model of the URL, or none"
        )
    text = content_text(r.content, f"{where}.content", entry)
    if not text.strip():
        raise InvalidArgument(f"{where}.content: the text is empty; there is nothing to embed")
    return EmbedRequest(
        text=text,
        title=r.title,
        task_type=r.task_type.name if r.task_type else None,
        output_dimensionality=r.output_dimensionality,
    )
