"""Reads an audio or video file's duration with PyAV, decoding a frame to prove the media is usable."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class MediaInfo:
    """What probing an audio or video file found."""

    duration_s: float | None


def probe_media(path: Path, mime_type: str) -> MediaInfo:
    try:
        import av
    except ImportError as exc:  # pragma: no cover - av is in every extra that serves media
        raise ValueError("PyAV is not installed: pip install 'genserve[media]'") from exc
    try:
        with av.open(str(path)) as container:
            streams = [s for s in container.streams if s.type in ("video", "audio")]
            if not streams:
                raise ValueError("no audio or video stream")
            # Decoding one frame catches files whose header parses but whose data does not.
            next(container.decode(streams[0]))
            duration = container.duration / av.time_base if container.duration else _stream_duration(streams[0])
    except (av.FFmpegError, StopIteration, UnicodeDecodeError) as exc:
        # FFmpeg's own message names the file's path on this server; only its reason goes to the user.
        raise ValueError(getattr(exc, "strerror", None) or type(exc).__name__) from exc
    return MediaInfo(duration_s=duration)


def _stream_duration(stream) -> float | None:
    if stream.duration is None or stream.time_base is None:
        return None
    return float(stream.duration * stream.time_base)
