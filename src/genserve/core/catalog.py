"""The model catalog: which models the server offers, under which names, with which capabilities."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from genserve.core.reply_format import ReplyFormat, reply_format
from genserve.errors import InvalidArgument, NotFound
from genserve.media.documents import PDF

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

Task = Literal["text", "embedding", "image", "video", "audio"]

# What each task lets clients call; the Model resource reports exactly this.
GENERATION_METHODS: dict[str, list[str]] = {
    "text": ["generateContent", "streamGenerateContent", "countTokens"],
    "embedding": ["embedContent", "batchEmbedContents", "countTokens"],
    "image": ["predict"],
    "video": ["predictLongRunning"],
    "audio": [],  # soundtracks for video models; not called directly
}

# The task each engine serves; engines/registry.py says where each engine's code lives.
ENGINE_TASKS: dict[str, Task] = {
    "transformers": "text",
    "transformers-vision": "text",
    "scripted": "text",
    "llamacpp": "text",
    "transformers-embedding": "embedding",
    "diffusers": "image",
    "diffusers-video": "video",
    "diffusers-audio": "audio",
}


class ModelEntry(BaseModel):
    """One catalog entry. Capabilities are data here, never `if model == ...` in code."""

    model_config = ConfigDict(extra="forbid")

    name: str
    engine: str
    path: str
    aliases: list[str] = Field(default_factory=list)
    display_name: str | None = None
    description: str | None = None
    version: str = "001"
    input_token_limit: int = 8192
    output_token_limit: int = 2048
    # Sampling defaults when a request leaves them out (Gemini's published defaults).
    temperature: float = 1.0
    max_temperature: float = 2.0
    top_p: float = 0.95
    top_k: int = 64
    max_candidate_count: int = 8
    # Capabilities: what a request may ask of this model; anything else is refused with a 400.
    function_calling: bool = False
    structured_output: bool = False
    thinking: bool = False  # a reasoning model: thinkingConfig is honoured, thoughts are reported
    # thinkingBudget range; 0 (thinking off) is allowed only when the minimum is 0.
    min_thinking_budget: int = 0
    max_thinking_budget: int = 24576
    # The budget when a request sets none (or -1, "dynamic"): None lets the model decide.
    default_thinking_budget: int | None = None
    # Images/audio/video parts one prompt may carry.
    max_media_per_prompt: int = 16
    # Requests running or waiting on this model at once; beyond it, 503 UNAVAILABLE instead of a long wait.
    max_pending_requests: int = 64
    # Gemini-native image output (output_modalities holds "image"): the catalog entry that renders the images
    # this text model plans, and whether responseModalities may be ["IMAGE"] alone.
    image_model: str | None = None
    image_only_output: bool = False
    # Image models (Imagen's :predict): images per request, output sizes as a share of Imagen's documented
    # sizes (a small demo model renders them at 1/8), and the sampleImageSize values offered.
    max_sample_count: int = 4
    default_sample_count: int = 4
    image_scale: float = 1.0
    image_sizes: list[str] = Field(default_factory=lambda: ["1K", "2K"])
    # Video models (Veo's :predictLongRunning): sizes are Veo's (720p is 1280x720) times video_scale; sample
    # counts use max_sample_count/default_sample_count above.
    video_scale: float = 1.0
    video_resolutions: list[str] = Field(default_factory=lambda: ["720p"])
    video_aspect_ratios: list[str] = Field(default_factory=lambda: ["16:9", "9:16"])
    video_durations: list[int] = Field(default_factory=lambda: [5, 6, 7, 8])
    default_video_duration: int = 8
    # Inputs besides the prompt: "image" (image-to-video), "lastFrame".
    video_inputs: list[str] = Field(default_factory=list)
    # The soundtrack: never, always (Veo 3), or when generateAudio asks; audio_model is the catalog entry
    # (engine diffusers-audio) that makes it.
    audio: Literal["none", "always", "optional"] = "none"
    audio_model: str | None = None
    # Jobs (long-running operations) running on this model at once; more wait in the queue.
    max_concurrent_jobs: int = 1
    input_modalities: list[str] = Field(default_factory=lambda: ["text"])
    output_modalities: list[str] = Field(default_factory=lambda: ["text"])
    # Randomly initialised demo weights: the model answers gibberish or noise (the banner and models.get say so).
    random_weights: bool = False
    # Load at start instead of on the first request that names the model.
    preload: bool = False
    # Passed to the engine untouched (dtype, device, threads, ...).
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("engine")
    @classmethod
    def _known_engine(cls, value: str) -> str:
        if value not in ENGINE_TASKS:
            raise ValueError(f"unknown engine '{value}'; known engines: {', '.join(ENGINE_TASKS)}")
        return value

    @model_validator(mode="after")
    def _known_reply_format(self) -> ModelEntry:
        reply_format(self.options.get("reply_format", "hermes"))
        return self

    @model_validator(mode="after")
    def _image_settings(self) -> ModelEntry:
        if not 1 <= self.default_sample_count <= self.max_sample_count:
            raise ValueError("default_sample_count must be between 1 and max_sample_count")
        if "image" in self.output_modalities and self.task == "text" and not self.image_model:
            raise ValueError("a text model with image output needs image_model: the catalog entry that renders")
        if self.audio != "none" and not self.audio_model:
            raise ValueError("a video model with audio needs audio_model: the catalog entry that makes soundtracks")
        if unknown := set(self.video_inputs) - {"image", "lastFrame"}:
            # referenceImages has no engine yet: accepting it would ignore the images silently.
            raise ValueError(f"video_inputs {sorted(unknown)} are not supported; use image and lastFrame")
        if self.default_video_duration not in self.video_durations:
            raise ValueError("default_video_duration must be one of video_durations")
        return self

    @property
    def reply_format(self) -> ReplyFormat:
        """How this model writes thoughts and tool calls (catalog option `reply_format`, default hermes)."""
        return reply_format(self.options.get("reply_format", "hermes"))

    @property
    def names(self) -> list[str]:
        return [self.name, *self.aliases]

    @property
    def task(self) -> Task:
        return ENGINE_TASKS[self.engine]

    def reads(self, mime: str) -> bool:
        """Text and PDF documents are read by every model (as text); other media only by models that take them."""
        return mime.startswith("text/") or mime == PDF or mime.split("/", 1)[0] in self.input_modalities

    def modality_refused(self, mime: str, where: str) -> InvalidArgument:
        """The 400 for input of a kind this model cannot read, naming what it does accept."""
        kind = mime.split("/", 1)[0] or "binary"
        return InvalidArgument(
            f"{where}: model '{self.name}' does not accept {kind} input ({mime}); "
            f"it accepts {', '.join(self.input_modalities)} only"
        )


class Catalog:
    def __init__(self, entries: list[ModelEntry]) -> None:
        self.entries = entries
        self._by_name: dict[str, ModelEntry] = {}
        for entry in entries:
            for name in entry.names:
                if name in self._by_name:
                    raise ValueError(f"model name '{name}' is used twice in the catalog")
                self._by_name[name] = entry
        for entry in entries:
            if entry.image_model and self._by_name.get(entry.image_model, entry).task != "image":
                raise ValueError(f"{entry.name}: image_model '{entry.image_model}' is not an image model here")
            if entry.audio_model and self._by_name.get(entry.audio_model, entry).task != "audio":
                raise ValueError(f"{entry.name}: audio_model '{entry.audio_model}' is not an audio model here")

    def names(self) -> list[str]:
        return list(self._by_name)

    def get(self, name: str) -> ModelEntry:
        """Resolve `gemini-2.0-flash` or `models/gemini-2.0-flash` to its entry."""
        key = name.removeprefix("models/")
        try:
            return self._by_name[key]
        except KeyError:
            raise NotFound(
                f"models/{key} is not found for this server. "
                "Call ListModels to see the list of available models and their supported methods."
            ) from None


def load_catalog_file(path: Path) -> tuple[Catalog, dict[str, Any]]:
    """Read a TOML catalog: `[[models]]` entries plus an optional `[server]` table of settings."""
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"cannot read catalog {path}: {exc}") from exc
    try:
        entries = [ModelEntry(**raw) for raw in data.get("models", [])]
    except ValidationError as exc:
        raise ValueError(f"invalid model entry in {path}: {exc}") from exc
    base = path.parent
    for entry in entries:
        # Relative local paths are relative to the catalog file, so a catalog travels with its models.
        local = base / entry.path
        if not Path(entry.path).is_absolute() and local.exists():
            entry.path = str(local.resolve())
    return Catalog(entries), dict(data.get("server", {}))
