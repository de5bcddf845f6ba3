"""The demo catalog: the demo checkpoints served under Google's model names, one typed entry per model; and the
default catalog, which puts the real packaged models (demo/real.py) in front of it."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from genserve.core.catalog import Catalog, ModelEntry
from genserve.demo.checkpoints import (
    AUDIO_DIR,
    CHAT_DIR,
    EMBEDDING_DIR,
    IMAGE_DIR,
    VIDEO_DIR,
    VISION_DIR,
    installed_parts,
    write_demo_models,
)
from genserve.demo.names import (
    CHAT_ALIASES,
    EMBEDDING_ALIASES,
    IMAGE_CHAT_ALIASES,
    IMAGE_CHAT_ONLY_ALIASES,
    IMAGEN_ALIASES,
    IMAGEN_ULTRA_ALIASES,
    THINKING_ALIASES,
    THINKING_PRO_ALIASES,
    VEO2_ALIASES,
    VEO3_ALIASES,
    VEO31_ALIASES,
    VISION_ALIASES,
)
from genserve.demo.real import real_entries

# The text models' limits: room for a real conversation, though the tiny models answer gibberish.
CHAT_INPUT_TOKENS, CHAT_OUTPUT_TOKENS = 6144, 1024
# Denoising steps of the image, video and audio models: enough to run every code path, and fast.
DIFFUSION_STEPS = 2


def demo_catalog(models_dir: Path, parts: Collection[str] | None = None) -> Catalog:
    """The demo models of `parts` (default: every installed part), served from the checkpoints
    `write_demo_models(models_dir, parts)` builds."""
    wanted = installed_parts() if parts is None else frozenset(parts)
    return Catalog([entry for entry in _entries(models_dir) if _part(entry) in wanted])


def default_catalog(data_dir: Path) -> Catalog:
    """What `genserve serve` serves when no model is configured: the real packaged models that are installed, and
    the demo's random checkpoints (of the installed parts) for every name no real model answers. A random entry
    whose names were all taken keeps its own name only when it reads input the real ones do not (images)."""
    real = real_entries(data_dir / "models")
    taken = {name for entry in real for name in entry.names}
    read = {modality for entry in real for modality in entry.input_modalities}
    entries = list(real)
    for entry in demo_catalog(write_demo_models(data_dir / "demo-models")).entries:
        aliases = [name for name in entry.aliases if name not in taken]
        if entry.aliases and not aliases and set(entry.input_modalities) <= read:
            continue
        entries.append(entry.model_copy(update={"aliases": aliases}))
    return Catalog(entries)


def _part(entry: ModelEntry) -> str:
    if entry.image_model or entry.engine == "diffusers":
        return "image"
    return "video" if entry.engine in ("diffusers-video", "diffusers-audio") else "text"


def _entries(models_dir: Path) -> list[ModelEntry]:
    return [
        ModelEntry(
            random_weights=True,
            name="genserve-demo-chat",
            engine="transformers",
            path=str(models_dir / CHAT_DIR),
            aliases=CHAT_ALIASES,
            display_name="genserve demo chat (random weights)",
            description="A tiny randomly initialised Qwen3-architecture model: proves the path, answers gibberish.",
            input_token_limit=CHAT_INPUT_TOKENS,
            output_token_limit=CHAT_OUTPUT_TOKENS,
            function_calling=True,
            structured_output=True,
            options={"dtype": "float32"},
        ),
        _vision_model(
            models_dir,
            name="genserve-demo-vision",
            aliases=VISION_ALIASES,
            display_name="genserve demo vision (random weights)",
            description="A tiny randomly initialised LLaVA-architecture model that reads images.",
        ),
        _vision_model(
            models_dir,
            name="genserve-demo-thinking",
            aliases=THINKING_ALIASES,
            display_name="genserve demo thinking (random weights)",
            description="The demo vision model as a reasoning model: thoughts in <think> tags, a thinking budget.",
            # A random model rarely closes its thought by itself: a small default budget leaves room for an answer.
            thinking_budgets=(0, 32, 24576),
        ),
        _vision_model(
            models_dir,
            name="genserve-demo-thinking-pro",
            aliases=THINKING_PRO_ALIASES,
            display_name="genserve demo thinking, always on (random weights)",
            description="As genserve-demo-thinking, but thinking cannot be turned off (budget 128 to 32768).",
            thinking_budgets=(128, 128, 32768),
        ),
        _imagen_model(
            models_dir,
            name="genserve-demo-imagen",
            aliases=IMAGEN_ALIASES,
            display_name="genserve demo Imagen (random weights)",
            description="A tiny randomly initialised Stable Diffusion pipeline: draws noise at Imagen's sizes / 8.",
            sample_count=4,
        ),
        _imagen_model(
            models_dir,
            name="genserve-demo-imagen-ultra",
            aliases=IMAGEN_ULTRA_ALIASES,
            display_name="genserve demo Imagen Ultra (random weights)",
            description="The demo Imagen model as a single-image tier.",
            sample_count=1,
        ),
        # The vision model plans text and pictures (short passages: its output is random); the Imagen model draws.
        _vision_model(
            models_dir,
            name="genserve-demo-image-chat",
            aliases=IMAGE_CHAT_ALIASES,
            display_name="genserve demo image generation (random weights)",
            description="Answers with text and images: the demo vision model plans, the demo Imagen model draws.",
            image_model="genserve-demo-imagen",
        ),
        _vision_model(
            models_dir,
            name="genserve-demo-image-chat-only",
            aliases=IMAGE_CHAT_ONLY_ALIASES,
            display_name="genserve demo image generation, image-only allowed (random weights)",
            description="As genserve-demo-image-chat, and responseModalities may be IMAGE alone.",
            image_model="genserve-demo-imagen",
            image_only_output=True,
        ),
        _veo_model(
            models_dir,
            name="genserve-demo-veo2",
            aliases=VEO2_ALIASES,
            display_name="genserve demo Veo 2 (random weights)",
            description="A tiny randomly initialised LTX-Video pipeline: silent noise videos, image-to-video.",
            audio_model=None,
            video_inputs=["image", "lastFrame"],
            video_aspect_ratios=["16:9", "9:16"],
            video_resolutions=["720p"],
        ),
        _veo_model(
            models_dir,
            name="genserve-demo-veo3",
            aliases=VEO3_ALIASES,
            display_name="genserve demo Veo 3 (random weights)",
            description="The demo video model with a soundtrack from the demo audio model, always.",
            audio_model="genserve-demo-audio",
            video_inputs=[],
            video_aspect_ratios=["16:9"],
            video_resolutions=["720p", "1080p"],
        ),
        _veo_model(
            models_dir,
            name="genserve-demo-veo31",
            aliases=VEO31_ALIASES,
            display_name="genserve demo Veo 3.1 (random weights)",
            description="As genserve-demo-veo3, and an image can be the first frame (and a last frame).",
            audio_model="genserve-demo-audio",
            video_inputs=["image", "lastFrame"],
            video_aspect_ratios=["16:9", "9:16"],
            video_resolutions=["720p", "1080p"],
        ),
        ModelEntry(
            random_weights=True,
            name="genserve-demo-audio",
            engine="diffusers-audio",
            path=str(models_dir / AUDIO_DIR),
            display_name="genserve demo audio (random weights)",
            description="A tiny randomly initialised Stable Audio pipeline: the Veo 3 models' soundtracks (noise).",
            output_modalities=["audio"],
            options={"steps": DIFFUSION_STEPS, "dtype": "float32"},
        ),
        ModelEntry(
            random_weights=True,
            name="genserve-demo-embedding",
            engine="transformers-embedding",
            path=str(models_dir / EMBEDDING_DIR),
            aliases=EMBEDDING_ALIASES,
            display_name="genserve demo embedding (random weights)",
            description="A tiny randomly initialised BERT encoder with mean pooling.",
            input_token_limit=512,
            output_token_limit=1,
            options={"dtype": "float32"},
        ),
    ]


def _vision_model(
    models_dir: Path,
    *,
    name: str,
    aliases: list[str],
    display_name: str,
    description: str,
    thinking_budgets: tuple[int, int, int] | None = None,
    image_model: str | None = None,
    image_only_output: bool = False,
) -> ModelEntry:
    """The demo vision model in one of its roles: plain, reasoning (`thinking_budgets` is the minimum, default
    and maximum budget) or answering with images too (`image_model` draws them)."""
    min_budget, default_budget, max_budget = thinking_budgets or (0, None, 24576)  # ModelEntry's defaults
    options: dict[str, object] = {"dtype": "float32"}
    if image_model:
        options["image_plan"] = {"max_images": 3, "text_chars": 80, "image_chars": 60}
    return ModelEntry(
        random_weights=True,
        name=name,
        engine="transformers-vision",
        path=str(models_dir / VISION_DIR),
        aliases=aliases,
        display_name=display_name,
        description=description,
        input_token_limit=CHAT_INPUT_TOKENS,
        output_token_limit=CHAT_OUTPUT_TOKENS,
        function_calling=True,
        structured_output=True,
        thinking=thinking_budgets is not None,
        min_thinking_budget=min_budget,
        default_thinking_budget=default_budget,
        max_thinking_budget=max_budget,
        image_model=image_model,
        image_only_output=image_only_output,
        input_modalities=["text", "image"],
        output_modalities=["text", "image"] if image_model else ["text"],
        options=options,
    )


def _imagen_model(
    models_dir: Path, *, name: str, aliases: list[str], display_name: str, description: str, sample_count: int
) -> ModelEntry:
    """The demo Stable Diffusion pipeline as an Imagen model that draws up to `sample_count` images a request."""
    return ModelEntry(
        random_weights=True,
        name=name,
        engine="diffusers",
        path=str(models_dir / IMAGE_DIR),
        aliases=aliases,
        display_name=display_name,
        description=description,
        input_token_limit=480,
        output_token_limit=1,
        max_sample_count=sample_count,
        default_sample_count=sample_count,
        # Imagen's documented sizes at 1/8 (1:1 is 128x128) and two steps: a request takes well under a second.
        image_scale=0.125,
        input_modalities=["text", "image"],
        output_modalities=["image"],
        options={"steps": DIFFUSION_STEPS, "dtype": "float32"},
    )


def _veo_model(
    models_dir: Path,
    *,
    name: str,
    aliases: list[str],
    display_name: str,
    description: str,
    audio_model: str | None,
    video_inputs: list[str],
    video_aspect_ratios: list[str],
    video_resolutions: list[str],
) -> ModelEntry:
    """The demo LTX-Video pipeline as a Veo model: silent (Veo 2, 5 to 8 seconds), or always with a soundtrack
    from `audio_model` (Veo 3, 8 seconds)."""
    return ModelEntry(
        random_weights=True,
        name=name,
        engine="diffusers-video",
        path=str(models_dir / VIDEO_DIR),
        aliases=aliases,
        display_name=display_name,
        description=description,
        input_token_limit=1024,
        output_token_limit=1,
        max_sample_count=2,
        default_sample_count=1,
        # Veo's sizes at 1/8 (720p 16:9 is 160x90), 24 fps, two steps: an 8 s clip renders in about a second.
        video_scale=0.125,
        video_resolutions=video_resolutions,
        video_aspect_ratios=video_aspect_ratios,
        video_durations=[8] if audio_model else [5, 6, 7, 8],
        default_video_duration=8,
        video_inputs=video_inputs,
        audio="always" if audio_model else "none",
        audio_model=audio_model,
        input_modalities=["text", "image"],
        output_modalities=["video", "audio"] if audio_model else ["video"],
        options={"steps": DIFFUSION_STEPS, "dtype": "float32"},
    )
