"""Tiny real media files for tests, encoded with PyAV (no downloads)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def tiny_mp4(path: Path, seconds: float = 1.0, fps: int = 24, size: tuple[int, int] = (64, 48)) -> Path:
    import av

    width, height = size
    with av.open(str(path), "w", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(int(seconds * fps)):
            frame = np.full((height, width, 3), (i * 10) % 255, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def tiny_wav(path: Path, seconds: float = 0.5, rate: int = 16000) -> Path:
    import wave

    samples = (np.sin(np.linspace(0, 440 * 2 * np.pi * seconds, int(rate * seconds))) * 12000).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path
