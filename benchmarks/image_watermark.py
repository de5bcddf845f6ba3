"""Image watermark: what survives what, wrong bits of unmarked images, and embed / decode times.

Reproduces the watermark columns of docs/provenance.md's "What survives what" table: 5 photo-like images per size
are stamped as PNG (watermark + C2PA), transformed with Pillow and checked; a cell is "found/5 (wrong bits min-max)",
4 or fewer wrong bits of 64 counting as found. Also prints a digest of the marked pixels (to compare two versions of
the encoder), and the decode time of genserve's reader next to imwatermark's decoder when that is installed.
Run: .venv/bin/python benchmarks/image_watermark.py [--images 5]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from genserve.provenance import Provenance, verify_bytes, watermark

sys.path.insert(0, str(Path(__file__).resolve().parent))
from video_watermark import scene as natural_image  # noqa: E402  the same photo-like picture

SIZES = [128, 512, 1024]


def encoded(image: Image.Image, fmt: str, **options: object) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return Image.open(io.BytesIO(buffer.getvalue()))


def screenshot_with_surroundings(image: Image.Image) -> Image.Image:
    canvas = Image.new("RGB", (image.width + 80, image.height + 60), (236, 236, 240))
    canvas.paste(image.convert("RGB"), (37, 23))
    return canvas


def crop_each_side(image: Image.Image) -> Image.Image:
    w, h = image.size
    return image.crop((w // 10, h // 10, w - w // 10, h - h // 10))


TRANSFORMS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "PNG re-save": lambda im: encoded(im, "PNG"),
    "WebP lossless re-save": lambda im: encoded(im, "WEBP", lossless=True),
    "JPEG q95": lambda im: encoded(im.convert("RGB"), "JPEG", quality=95),
    "JPEG q90": lambda im: encoded(im.convert("RGB"), "JPEG", quality=90),
    "JPEG q85": lambda im: encoded(im.convert("RGB"), "JPEG", quality=85),
    "JPEG q75": lambda im: encoded(im.convert("RGB"), "JPEG", quality=75),
    "resize 0.5x": lambda im: im.resize((im.width // 2, im.height // 2), Image.Resampling.LANCZOS),
    "resize 2x": lambda im: im.resize((im.width * 2, im.height * 2), Image.Resampling.LANCZOS),
    "crop 10% off each side": crop_each_side,
    "crop 10% off right and bottom": lambda im: im.crop((0, 0, im.width * 9 // 10, im.height * 9 // 10)),
    "screenshot 1:1 exact (RGBA)": lambda im: encoded(im.convert("RGBA"), "PNG"),
    "screenshot 1:1 with surroundings": screenshot_with_surroundings,
    "screenshot at 125%": lambda im: im.resize((im.width * 5 // 4, im.height * 5 // 4), Image.Resampling.BILINEAR),
}


def cell(errors: list[int]) -> str:
    found = sum(e <= watermark.MAX_BIT_ERRORS for e in errors)
    return f"{found}/{len(errors)} ({min(errors)}-{max(errors)})"


def median_ms(action: Callable[[], object], repeat: int = 15) -> float:
    action()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def imwatermark_decoder() -> Callable[[Image.Image], object] | None:
    try:
        from imwatermark.maxDct import EmbedMaxDct
    except ImportError:
        return None
    reader = EmbedMaxDct([], wmLen=64, scales=[0, 36, 0])
    return lambda image: reader.decode(np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1]))


def first_check_seconds() -> float:
    """Wall time of the first watermark check in a fresh process (imports included)."""
    code = (
        "import time; t = time.perf_counter(); from PIL import Image; from genserve.provenance import watermark; "
        "watermark.bit_errors(Image.new('RGB', (128, 128), (90, 120, 150))); print(time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5)
    args = parser.parse_args()
    seeds = range(args.images)
    rows: dict[str, dict[int, list[int]]] = {name: {} for name in ["untouched (verify_bytes)", *TRANSFORMS]}
    unmarked: dict[int, list[int]] = {}
    c2pa: dict[int, int] = {}
    jpeg_stamp: dict[int, list[int]] = {}
    digest = hashlib.sha256()
    with tempfile.TemporaryDirectory() as tmp:
        provenance = Provenance(Path(tmp) / "provenance")
        for size in SIZES:
            c2pa[size] = 0
            for name in rows:
                rows[name][size] = []
            unmarked[size], jpeg_stamp[size] = [], []
            for seed in seeds:
                original = natural_image(size, seed)
                png = provenance.stamp_image(original, model="bench")
                report = verify_bytes(png, "image/png", provenance.trust_anchors_pem)
                c2pa[size] += report.c2pa_valid and report.c2pa_trusted
                stamped = Image.open(io.BytesIO(png))
                stamped.load()
                digest.update(np.asarray(stamped).tobytes())
                rows["untouched (verify_bytes)"][size].append(0 if report.watermark else 64)
                for name, transform in TRANSFORMS.items():
                    rows[name][size].append(watermark.bit_errors(transform(stamped)))
                unmarked[size].append(watermark.bit_errors(original))
                jpeg = provenance.stamp_image(original, mime="image/jpeg", model="bench")
                jpeg_stamp[size].append(watermark.bit_errors(Image.open(io.BytesIO(jpeg))))
    print(f"marked pixels sha256 ({args.images} images x {len(SIZES)} sizes): {digest.hexdigest()[:16]}")
    print("| transformation | " + " | ".join(f"watermark {s}²" for s in SIZES) + " |")
    print("|---|" + "---|" * len(SIZES))
    print("| C2PA valid + trusted after stamping | " + " | ".join(f"{c2pa[s]}/{args.images}" for s in SIZES) + " |")
    for name, per_size in rows.items():
        print(f"| {name} | " + " | ".join(cell(per_size[s]) for s in SIZES) + " |")
    print("| stamp_image as JPEG (default q75) | " + " | ".join(cell(jpeg_stamp[s]) for s in SIZES) + " |")
    print("| unmarked image | " + " | ".join(cell(unmarked[s]) for s in SIZES) + " |")
    print()
    reference = imwatermark_decoder()
    print("| size | embed ms | genserve bit_errors ms | imwatermark EmbedMaxDct.decode ms |")
    print("|---|---|---|---|")
    for size in SIZES:
        image = natural_image(size, 0)
        marked = watermark.embed(image)
        ref = f"{median_ms(lambda: reference(marked)):.1f}" if reference else "not installed"  # noqa: B023
        print(
            f"| {size}² | {median_ms(lambda: watermark.embed(image)):.1f} "  # noqa: B023
            f"| {median_ms(lambda: watermark.bit_errors(marked)):.1f} | {ref} |"  # noqa: B023
        )
    print(f"first watermark check in a fresh process (imports included): {first_check_seconds():.2f} s")


if __name__ == "__main__":
    main()
