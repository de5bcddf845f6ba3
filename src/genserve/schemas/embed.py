"""embedContent / batchEmbedContents bodies (wire.md §5)."""

from __future__ import annotations

import enum
from typing import Annotated

from genserve.schemas.base import Int32, ProtoModel, proto_enum
from genserve.schemas.content import Content


class TaskType(enum.Enum):
    TASK_TYPE_UNSPECIFIED = 0
    RETRIEVAL_QUERY = 1
    RETRIEVAL_DOCUMENT = 2
    SEMANTIC_SIMILARITY = 3
    CLASSIFICATION = 4
    CLUSTERING = 5
    QUESTION_ANSWERING = 6
    FACT_VERIFICATION = 7
    CODE_RETRIEVAL_QUERY = 8


class EmbedContentRequest(ProtoModel):
    model: str | None = None
    content: Content
    task_type: Annotated[TaskType, proto_enum(TaskType)] | None = None
    title: str | None = None
    output_dimensionality: Int32 | None = None


class BatchEmbedContentsRequest(ProtoModel):
    requests: list[EmbedContentRequest]


class ContentEmbedding(ProtoModel):
    values: list[float]


class EmbedContentResponse(ProtoModel):
    embedding: ContentEmbedding


class BatchEmbedContentsResponse(ProtoModel):
    embeddings: list[ContentEmbedding]
