"""The demo: tiny randomly initialised checkpoints, built offline, and the catalog that serves them.

Nothing is downloaded. Each checkpoint is written in the standard Hugging Face or diffusers layout with
`save_pretrained`, so the server loads it through the same `from_pretrained` path as a real one; what comes
out is random text, noise images and noise videos, but every code path and every shape is real. Tests,
benchmarks and `genserve serve` (with `--demo`, or when no model is configured) use it."""

from genserve.demo.catalog import demo_catalog
from genserve.demo.checkpoints import write_demo_models

__all__ = ["demo_catalog", "write_demo_models"]
