"""Text embeddings from a transformers encoder: the checkpoint's own pooling, or mean pooling."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModel, AutoTokenizer

from genserve.engines.token_chars import max_token_chars, truncate_chars
from genserve.engines.torch_options import load_options
from genserve.engines.worker import FreshThreadExecutor


class TransformersEmbeddingEngine:
    def __init__(self, path: str, options: dict[str, Any]) -> None:
        load = load_options(options)
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path, **load.model_kwargs).eval()
        self.dimension = int(self.model.config.hidden_size)
        self.max_token_chars = max_token_chars(self.tokenizer)
        self.pooling = options.get("pooling") or _sentence_transformers_pooling(Path(path)) or "mean"
        if self.pooling not in ("mean", "cls", "last"):
            raise ValueError(f"pooling must be mean, cls or last, not {self.pooling!r}")
        self._executor = FreshThreadExecutor(f"embed:{path}")

    async def embed(self, texts: Sequence[str], max_tokens: int) -> list[list[float]]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._embed, list(texts), max_tokens)

    async def count_tokens(self, texts: Sequence[str]) -> int:
        # On the engine's own thread: a fast tokenizer called with other padding/truncation settings from
        # two threads at once fails with "Already borrowed".
        loop = asyncio.get_running_loop()
        encoded = await loop.run_in_executor(self._executor, self.tokenizer, list(texts))
        return sum(len(ids) for ids in encoded["input_ids"])

    def _embed(self, texts: list[str], max_tokens: int) -> list[list[float]]:
        texts = [truncate_chars(t, max_tokens, self.max_token_chars) for t in texts]
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=max_tokens, return_tensors="pt")
        batch = {k: v.to(self.model.device) for k, v in batch.items()}
        with torch.inference_mode():
            hidden = self.model(**batch).last_hidden_state.float()
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        elif self.pooling == "last":
            last = batch["attention_mask"].sum(dim=1) - 1
            pooled = hidden[torch.arange(hidden.shape[0]), last]
        else:
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)
        return torch.nn.functional.normalize(pooled, dim=-1).tolist()

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _sentence_transformers_pooling(path: Path) -> str | None:
    """Honour a sentence-transformers checkpoint's 1_Pooling/config.json when one is present."""
    config = path / "1_Pooling" / "config.json"
    if not config.is_file():
        return None
    data = json.loads(config.read_text())
    if data.get("pooling_mode_cls_token"):
        return "cls"
    if data.get("pooling_mode_lasttoken"):
        return "last"
    return "mean"
