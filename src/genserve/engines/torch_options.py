"""Catalog `options` for torch engines: dtype, device and threads, validated once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


@dataclass(frozen=True)
class LoadOptions:
    model_kwargs: dict[str, Any]


def load_options(options: dict[str, Any]) -> LoadOptions:
    dtype = options.get("dtype", "auto")
    if dtype != "auto" and dtype not in _DTYPES:
        raise ValueError(f"dtype must be auto or one of {', '.join(_DTYPES)}, not {dtype!r}")
    device = options.get("device", "cuda" if torch.cuda.is_available() else "cpu")
    if options.get("threads"):
        torch.set_num_threads(int(options["threads"]))
    kwargs: dict[str, Any] = {"dtype": _DTYPES.get(dtype, "auto"), "device_map": device}
    return LoadOptions(model_kwargs=kwargs)
