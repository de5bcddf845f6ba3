"""Invisible watermark: the 64-bit genserve marker, in the format of imwatermark's dwtDct method.

What it is: the DWT "max coefficient" scheme of ``invisible-watermark`` (the one Stable Diffusion ships) carrying
the 8 bytes ``GENSERVE`` in the U (chroma) plane. It is a weak, fragile mark: it tells our own untouched outputs
apart from other images; it does not resist an adversary, and most edits erase it (docs/provenance.md has the
measured table: it survives lossless re-saves only; JPEG q95 sometimes, q90 and below, resizing and cropping never).

Reading is imwatermark's own decoder (``EmbedMaxDct.decode``), and stock ``WatermarkDecoder("bytes", 64)`` reads
``GENSERVE`` from our images of 256×256 and larger. Writing is done here, because imwatermark 0.2.0's encoder
(measured):

* refuses images under 256×256 (a check in ``WatermarkEncoder``; the demo models produce 128×128);
* swaps the horizontal and vertical detail bands when it rebuilds the plane (PSNR about 33 dB on a detailed image,
  41 dB here) and truncates instead of rounding;
* converts the whole image YUV -> BGR, which shifts saturated colours everywhere (pure red by 34 levels);
* moves a block's largest coefficient without keeping it the largest, so a detailed 128×128 image decoded with
  9-17 of 64 bits wrong right after embedding (not detectable). Here blocks that read back wrong are re-embedded,
  keeping the coefficient clear of its runner-up: 0 bit errors on the same images.

Capacity: one bit per 8×8 pixel block, the 64 bits repeated over the image, so the minimum is 64×64 pixels;
smaller images are returned unchanged. Large areas of colours whose blue channel is already at 255 (white, blue,
magenta) cannot carry bits. On 2 vCPUs a 128×128 image embeds in 1-2 ms and a 512×512 one in 25-35 ms; decoding
takes 1 ms and 13-19 ms with imwatermark's decoder.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

PAYLOAD = b"GENSERVE"
MAX_BIT_ERRORS = 4
MIN_SIDE = 64  # 64 bits at one bit per 8×8 block

BITS = np.unpackbits(np.frombuffer(PAYLOAD, dtype=np.uint8))
_SCALE = 36  # imwatermark's default strength for the chroma planes
_MAX_PASSES = 3
_MARGIN = 6.0  # headroom over the runner-up coefficient, larger than pixel rounding can move either
_U = 1  # YUV channel carrying the mark (imwatermark's dwtDct defaults use U only)
_U_TO_BGR = np.array([2.032, -0.395, 0.0])  # OpenCV's YUV -> BGR weights of U; Y is unchanged by this mix


def embed(image: Image.Image) -> Image.Image:
    """Return a copy of `image` carrying the genserve marker (unchanged if smaller than 64×64)."""
    if min(image.size) < MIN_SIDE:
        return image.copy()
    alpha = image.getchannel("A") if image.mode in ("RGBA", "LA") else None
    bgr = _to_bgr(image)
    guarded = None
    for _ in range(_MAX_PASSES):
        bgr = _embed_pass(bgr, guarded)
        wrong = _misread_blocks(bgr)
        if not wrong.any():
            break
        guarded = wrong if guarded is None else guarded | wrong
    marked = Image.fromarray(np.ascontiguousarray(bgr[:, :, ::-1]), "RGB")
    if alpha is not None:
        marked.putalpha(alpha)
    return marked


def bit_errors(image: Image.Image) -> int:
    """How many of the 64 decoded bits differ from the marker (64 if the image is too small to carry it)."""
    if min(image.size) < MIN_SIDE:
        return len(BITS)
    return _bit_errors(_to_bgr(image))


def detect(image: Image.Image) -> bool:
    """Whether `image` carries the genserve marker (a few flipped bits are tolerated)."""
    # 4 of 64: an unmarked image decodes to roughly random bits (about 32 errors); ≤ 4 by chance is ~1e-13.
    return bit_errors(image) <= MAX_BIT_ERRORS


def _to_bgr(image: Image.Image) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])


def _chroma_approximation(bgr: np.ndarray) -> np.ndarray:
    """The Haar approximation band of the U plane, as pywt.dwt2 computes it."""
    import cv2  # imported here: OpenCV is heavy and only needed once an image is stamped or checked

    return approximation(cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV)[:, :, _U].astype(np.float64))


def approximation(plane: np.ndarray) -> np.ndarray:
    """The Haar approximation band of a plane cropped to a multiple of 4 (the sum of each 2×2 square / 2)."""
    rows, cols = plane.shape[0] // 4 * 4, plane.shape[1] // 4 * 4
    return plane[:rows, :cols].reshape(rows // 2, 2, cols // 2, 2).sum(axis=(1, 3)) / 2


def _embed_pass(bgr: np.ndarray, guarded: np.ndarray | None) -> np.ndarray:
    approx = _chroma_approximation(bgr)
    blocks = split_blocks(approx)
    before = blocks.copy()
    quantise(blocks, guarded)
    change = np.zeros_like(approx)
    join_blocks(blocks - before, change)
    # With the detail bands untouched, the inverse transform spreads a change c of a coefficient as c / 2 over its
    # 2×2 pixels. Apply that change of U as a change of B and G only: converting the whole image YUV -> BGR instead
    # (as imwatermark does) clips out-of-gamut chroma and shifts saturated colours everywhere, pure red by 34 levels.
    delta = np.repeat(np.repeat(change / 2, 2, axis=0), 2, axis=1)
    rows, cols = delta.shape
    out = bgr.astype(np.float64)
    out[:rows, :cols] += delta[:, :, None] * _U_TO_BGR
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def split_blocks(approx: np.ndarray) -> np.ndarray:
    """The 4×4 blocks of the approximation band as rows of 16, in the decoder's order (row-major)."""
    brows, bcols = approx.shape[0] // 4, approx.shape[1] // 4
    return approx[: brows * 4, : bcols * 4].reshape(brows, 4, bcols, 4).swapaxes(1, 2).reshape(-1, 16).copy()


def join_blocks(blocks: np.ndarray, approx: np.ndarray) -> None:
    brows, bcols = approx.shape[0] // 4, approx.shape[1] // 4
    approx[: brows * 4, : bcols * 4] = blocks.reshape(brows, bcols, 4, 4).swapaxes(1, 2).reshape(brows * 4, bcols * 4)


def _expected(count: int) -> np.ndarray:
    return np.resize(BITS, count)  # block n carries bit n mod 64


def _misread_blocks(bgr: np.ndarray) -> np.ndarray:
    """Per block, whether the decoder's rule reads the wrong bit from it."""
    blocks = split_blocks(_chroma_approximation(bgr))
    return read_blocks(blocks, _SCALE) != _expected(len(blocks))


def read_blocks(blocks: np.ndarray, scale: float) -> np.ndarray:
    """The bit each block reads as, by imwatermark's rule (see `quantise`)."""
    top = np.argmax(np.abs(blocks[:, 1:]), axis=1) + 1
    value = np.abs(blocks[np.arange(len(blocks)), top])
    return (value % scale > 0.5 * scale).astype(np.uint8)


def quantise(blocks: np.ndarray, guarded: np.ndarray | None, scale: float = _SCALE) -> None:
    """Write one bit into each block, in place, the way imwatermark's decoder reads it back.

    The decoder takes the block's largest-magnitude coefficient (the first position excluded) and reads 1 when its
    magnitude modulo the scale is above half the scale. Like imwatermark's encoder, move that coefficient to the
    nearest level (k + 1/4 + bit/2)·scale: the smallest change. In `guarded` blocks, where that change let a
    neighbour become the largest after rounding to pixels, the level is also kept clear of the runner-up.
    """
    count = len(blocks)
    index = np.arange(count)
    bits = _expected(count).astype(np.float64)
    magnitudes = np.abs(blocks[:, 1:])
    order = np.argsort(magnitudes, axis=1)
    top = order[:, -1] + 1
    value = blocks[index, top]
    floor = np.zeros(count)
    if guarded is not None:
        floor = np.where(guarded, magnitudes[index, order[:, -2]] + _MARGIN, 0.0)
    base = np.floor(np.abs(value) / scale)[:, None] + np.arange(-1, 3)[None, :]
    levels = (base + 0.25 + 0.5 * bits[:, None]) * scale
    levels = np.where((levels >= floor[:, None]) & (levels >= 0), levels, np.inf)
    best = levels[index, np.argmin(np.abs(levels - np.abs(value)[:, None]), axis=1)]
    # The runner-up can sit above every candidate: then take the first matching level above it.
    fallback = (np.floor(floor / scale) + 1 + 0.25 + 0.5 * bits) * scale
    blocks[index, top] = np.copysign(np.where(np.isfinite(best), best, fallback), value)


def _bit_errors(bgr: np.ndarray) -> int:
    # Read with imwatermark's own decoder, so "detected" means what the reference implementation reads. Imported
    # here because the package imports torch (about 2 s) for its unrelated rivaGan method.
    from imwatermark.maxDct import EmbedMaxDct

    bits = EmbedMaxDct([], wmLen=len(BITS), scales=[0, _SCALE, 0]).decode(bgr)
    return int(np.count_nonzero(np.asarray(bits, dtype=np.uint8) != BITS))
