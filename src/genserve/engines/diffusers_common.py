"""What the diffusers engines (image, video, audio) share: loading, dtype choice, weight accounting, prompt
counting, cancellable calls and closing."""

from __future__ import annotations

import asyncio
import copy
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import torch
from diffusers import DiffusionPipeline

from genserve.engines.torch_options import load_options
from genserve.engines.worker import FreshThreadExecutor


def auto_dtype(device: str) -> torch.dtype:
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32  # CPU kernels are fastest and safest in float32


def pipelines_memory_bytes(pipes: list[Any]) -> int:
    """Bytes of weights held; pipelines made with from_pipe share modules, so each module counts once."""
    modules = {id(m): m for p in pipes for m in p.components.values() if isinstance(m, torch.nn.Module)}
    tensors = [t for m in modules.values() for t in (*m.parameters(), *m.buffers())]
    return sum(t.numel() * t.element_size() for t in tensors)


async def run_cancellable(executor: ThreadPoolExecutor, call: Callable[[threading.Event], Any]) -> Any:
    """Run `call(cancel)` on the engine's thread; when the awaiting task is cancelled, the flag tells the running
    call to stop at its next step (a queued one never starts)."""
    cancel = threading.Event()
    future = asyncio.get_running_loop().run_in_executor(executor, call, cancel)
    try:
        return await future
    except asyncio.CancelledError:
        cancel.set()
        raise


class PipelineEngine:
    """A loaded diffusers pipeline with the variants made from it (`_pipelines`: image-to-image, inpainting, ...),
    run one job at a time on a thread of its own (`kind` names the thread)."""

    def __init__(self, path: str, options: dict[str, Any], kind: str) -> None:
        load = load_options(options).model_kwargs
        self.device = str(load["device_map"])
        dtype = load["dtype"] if load["dtype"] != "auto" else auto_dtype(self.device)
        self.pipe: Any = DiffusionPipeline.from_pretrained(path, dtype=dtype).to(self.device)
        self._pipelines: dict[Any, Any] = {}
        # A private copy: the pipeline's fast tokenizer fails ("Already borrowed") when another thread calls
        # it with other truncation settings, and counting must not wait behind a running generation.
        tokenizer = getattr(self.pipe, "tokenizer", None) or getattr(self.pipe, "tokenizer_2", None)
        self._counter = copy.deepcopy(tokenizer)
        self._executor = FreshThreadExecutor(f"{kind}:{Path(path).name}")

    async def count_tokens(self, text: str) -> int:
        if self._counter is None:
            return 0  # a pipeline without a text tokenizer takes no prompt tokens
        return len(self._counter(text, truncation=False, verbose=False)["input_ids"])

    def memory_bytes(self) -> int:
        return pipelines_memory_bytes([self.pipe, *self._pipelines.values()])

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._pipelines.clear()
        self.pipe = None
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
