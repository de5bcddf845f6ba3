"""What the diffusers engines (image, video, audio) share: dtype choice, weight accounting, cancellable calls."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import torch


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
