"""Soundtracks with diffusers' Stable Audio pipeline; clips longer than the model's window are joined pieces."""

from __future__ import annotations

import math
import secrets
import threading
from typing import Any

import numpy as np
import torch

from genserve.core.video_types import AudioRequest
from genserve.engines.diffusers_common import PipelineEngine, run_cancellable
from genserve.errors import Cancelled, InvalidArgument

STEPS = 100  # Stable Audio Open's usual number of denoising steps
CROSSFADE_S = 0.2  # pieces overlap this long; short enough to keep, long enough to hide the seam


class DiffusersAudioEngine(PipelineEngine):
    def __init__(self, path: str, options: dict[str, Any]) -> None:
        super().__init__(path, options, "audio")
        self.pipe.set_progress_bar_config(disable=True)
        self.sample_rate = int(self.pipe.vae.config.sampling_rate)
        self.channels = int(self.pipe.vae.config.audio_channels)
        # The transformer's latent length times the VAE's hop: the longest piece one pipeline call makes.
        self.window = int(self.pipe.transformer.config.sample_size) * int(self.pipe.vae.hop_length)
        self.steps = int(options.get("steps", STEPS))
        guidance = options.get("guidance_scale")
        self.guidance_scale = None if guidance is None else float(guidance)

    async def generate(self, request: AudioRequest) -> np.ndarray:
        if not request.seconds > 0:
            raise InvalidArgument("The soundtrack length must be more than 0 seconds.")
        return await run_cancellable(self._executor, lambda cancel: self._run(request, cancel))

    def _run(self, request: AudioRequest, cancel: threading.Event) -> np.ndarray:
        if cancel.is_set():
            raise Cancelled("Audio generation was cancelled.")
        total = round(request.seconds * self.sample_rate)
        fade = min(round(CROSSFADE_S * self.sample_rate), self.window // 4)
        # Pieces overlap by `fade`: k pieces cover k * window - (k - 1) * fade samples.
        pieces = 1 if total <= self.window else math.ceil((total - fade) / (self.window - fade))
        seed = request.seed if request.seed is not None else secrets.randbits(31)
        window_s = self.window / self.sample_rate
        # One piece: the model is told the clip's real length, so the sound is shaped to end there.
        piece_s = min(request.seconds, window_s) if pieces == 1 else window_s

        def step(index: int, timestep: Any, latents: Any) -> None:
            if cancel.is_set():
                raise Cancelled("Audio generation was cancelled.")  # leaves before the VAE decode

        audios = self.pipe(
            prompt=request.prompt,
            negative_prompt=request.negative_prompt,
            audio_end_in_s=piece_s,
            num_inference_steps=request.steps or self.steps,
            **({} if self.guidance_scale is None else {"guidance_scale": self.guidance_scale}),
            # All pieces in one batched call; piece i uses seed + i, so each is reproducible on its own.
            num_waveforms_per_prompt=pieces,
            generator=[torch.Generator("cpu").manual_seed(seed + i) for i in range(pieces)],
            callback=step,
            output_type="np",
        ).audios
        joined = join_pieces(list(audios), fade)
        return np.clip(fit_length(joined, total), -1.0, 1.0).astype(np.float32)


def join_pieces(pieces: list[np.ndarray], fade: int) -> np.ndarray:
    """Concatenate (channels, n) pieces, each overlapping the previous one by `fade` samples, crossfaded."""
    out = np.asarray(pieces[0], dtype=np.float32)
    for piece in pieces[1:]:
        piece = np.asarray(piece, dtype=np.float32)
        n = min(fade, out.shape[1], piece.shape[1])
        if n == 0:
            out = np.concatenate([out, piece], axis=1)
            continue
        # Equal-power curves keep the loudness steady across the seam for uncorrelated pieces.
        t = np.linspace(0.0, np.pi / 2, n, dtype=np.float32)
        seam = out[:, -n:] * np.cos(t) + piece[:, :n] * np.sin(t)
        out = np.concatenate([out[:, :-n], seam, piece[:, n:]], axis=1)
    return out


def fit_length(audio: np.ndarray, samples: int) -> np.ndarray:
    """Trim or pad with silence to exactly `samples`."""
    if audio.shape[1] >= samples:
        return audio[:, :samples]
    return np.pad(audio, ((0, 0), (0, samples - audio.shape[1])))
