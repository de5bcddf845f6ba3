"""Video watermark: invisibility, file size, and what survives, on a pan over a photo-like picture.

Prints one row per frame size: PSNR of the marked frames, size of the MP4 against the unmarked one at the same CRF,
and the wrong bits (of 64, after the vote over frames; 4 or fewer is "found") after each transformation.
Run: .venv/bin/python benchmarks/video_watermark.py [--frames 48]
"""

from __future__ import annotations

import argparse
import io
import time

import numpy as np
from PIL import Image

from genserve.media.mp4 import encode_mp4
from genserve.provenance import video_watermark

SIZES = [(160, 90), (320, 180), (640, 360), (1280, 720)]


def scene(side: int, seed: int = 0) -> Image.Image:
    """A smooth colour gradient with soft blobs and pixel noise (the picture tests/unit/test_provenance.py uses)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:side, 0:side] / side
    pixels = np.stack([200 * x + 30, 180 * y + 40, 120 * (1 - x * y) + 60], axis=-1)
    for _ in range(6):
        cx, cy, spread = rng.random(3)
        blob = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (0.02 + spread * 0.05))
        pixels += (rng.random(3) * 120 - 60) * blob[..., None]
    pixels += rng.normal(0, 8, pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def decoded(data: bytes) -> list[np.ndarray]:
    import av

    with av.open(io.BytesIO(data)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def errors(frames: list[Image.Image], **encode) -> int:
    return video_watermark.bit_errors(decoded(encode_mp4(frames, 24, **encode)))


def row(width: int, height: int, count: int) -> dict:
    picture = scene(max(width, height) + 3 * count)
    frames = [picture.crop((3 * i, 2 * i, 3 * i + width, 2 * i + height)) for i in range(count)]
    started = time.perf_counter()
    marked = [video_watermark.embed_frame(frame) for frame in frames]
    embed_ms = (time.perf_counter() - started) / count * 1000
    noise = np.mean((np.stack(frames).astype(float) - np.stack(marked).astype(float)) ** 2)
    data, plain = encode_mp4(marked, 24), encode_mp4(frames, 24)
    started = time.perf_counter()
    video_watermark.detect_mp4(data)
    verify_s = time.perf_counter() - started
    out = [Image.fromarray(frame) for frame in decoded(data)]
    return {
        "size": f"{width}x{height}",
        "psnr_db": round(10 * np.log10(255**2 / noise), 1),
        "bytes_vs_unmarked": round(len(data) / len(plain), 2),
        "embed_ms_per_frame": round(embed_ms, 1),
        "verify_s": round(verify_s, 2),
        "as_generated": video_watermark.bit_errors(decoded(data)),
        "reencode_crf23": errors(out, crf=23),
        "reencode_crf28": errors(out, crf=28),
        "half_and_back": errors([f.resize((width // 2, height // 2)).resize((width, height)) for f in out]),
        "crop_4px": errors([f.crop((4, 4, width - 4, height - 4)) for f in out]),
        "unmarked": video_watermark.bit_errors(decoded(plain)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=48)
    args = parser.parse_args()
    rows = [row(width, height, args.frames) for width, height in SIZES]
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for values in rows:
        print("| " + " | ".join(str(values[c]) for c in columns) + " |")


if __name__ == "__main__":
    main()
