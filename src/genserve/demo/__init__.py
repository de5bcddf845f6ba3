"""What genserve serves out of the box: real models from pinned Python packages where they exist (packaged.py,
real.py: SmolLM2-135M-Instruct for text, all-MiniLM-L6-v2 for embeddings), and the demo's tiny randomly
initialised checkpoints, built offline, for everything else (images, video, image input).

Nothing is downloaded at run time. Each checkpoint is written in the standard Hugging Face or diffusers layout with
`save_pretrained`, so the server loads it through the same `from_pretrained` path as a real one; what comes
out is random text, noise images and noise videos, but every code path and every shape is real. Tests and
benchmarks use the random demo catalog; `genserve serve` (with `--demo`, or when no model is configured) the
default catalog."""

from genserve.demo.catalog import default_catalog, demo_catalog
from genserve.demo.checkpoints import write_demo_models

__all__ = ["default_catalog", "demo_catalog", "write_demo_models"]
