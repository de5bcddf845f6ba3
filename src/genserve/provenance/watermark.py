"""Invisible watermark: the 64-bit genserve marker, in the format of imwatermark's dwtDct method.

What it is: the DWT "max coefficient" scheme of ``invisible-watermark`` (the one Stable Diffusion ships) carrying
the 8 bytes ``GENSERVE`` in the U (chroma) plane. It is a weak, fragile mark: it tells our own untouched outputs
apart from other images; it does not resist an adversary, and most edits erase it (docs/provenance.md has the
measured table: it survives lossless re-saves only; JPEG q95 sometimes, q90 and below, resizing and cropping never).

Both directions are implemented here, on numpy and PyWavelets; imwatermark is not a runtime dependency (it declares
the GUI build of OpenCV and torch). Reading follows the same rule as imwatermark's ``EmbedMaxDct.decode`` and gives
the same bits (tests/unit/test_provenance.py compares the two on marked, unmarked and JPEG-recompressed images), and
stock ``WatermarkDecoder("bytes", 64)`` reads ``GENSERVE`` from our images of 256×256 and larger. The U plane is
OpenCV's ``COLOR_BGR2YUV`` for 8-bit images, computed the way OpenCV does (equal on all 2^24 colours).
Writing is done here because imwatermark 0.2.0's encoder (measured):

* refuses images under 256×256 (a check in ``WatermarkEncoder``; the demo models produce 128×128);
* swaps the horizontal and vertical detail bands when it rebuilds the plane (PSNR about 33 dB on a detailed image,
  41 dB here) and truncates instead of rounding;
* converts the whole image YUV -> BGR, which shifts saturated colours everywhere (pure red by 34 levels);
* moves a block's largest coefficient without keeping it the largest, so a detailed 128×128 image decoded with
  9-17 of 64 bits wrong right after embedding (not detectable). Here blocks that read back wrong are re-embedded,
  keeping the coefficient clear of its runner-up: 0 bit errors on the same images.

Capacity: one bit per 8×8 pixel block, the 64 bits repeated over the image, so the minimum is 64×64 pixels;
smaller images are returned unchanged. Large areas of colours whose blue channel is already at 255 (white, blue,
magenta) cannot carry bits. Times (benchmarks/image_watermark.py) are in docs/provenance.md.
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
_U_TO_BGR = np.array([2.032, -0.395, 0.0])  # OpenCV's YUV -> BGR weights of U; Y is unchanged by this mix
# OpenCV's documented BGR -> YUV: Y = 0.299 R + 0.587 G + 0.114 B, U = 0.492 (B - Y) + 128. For 8-bit images it
# computes this in fixed point, 14 fractional bits, rounding Y to an integer before U; the float formula rounded
# differs from it by one level on 12 % of all colours, this integer form on none.
_FIXED = 14
_Y_WEIGHTS = tuple(round(w * (1 << _FIXED)) for w in (0.114, 0.587, 0.299))  # B, G, R: 1868, 9617, 4899
_U_WEIGHT = round(0.492 * (1 << _FIXED))  # 8061


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
    return int(np.count_nonzero(_decode(_to_bgr(image)) != BITS))


def decode_bits(image: Image.Image) -> np.ndarray:
    """The 64 bits `image` reads as (uint8 0/1), the bits imwatermark's dwtDct decoder reads with the U scale 36."""
    if min(image.size) < MIN_SIDE:
        raise ValueError(f"an image needs at least {MIN_SIDE}×{MIN_SIDE} pixels to carry the 64 bits")
    return _decode(_to_bgr(image))


def detect(image: Image.Image) -> bool:
    """Whether `image` carries the genserve marker (a few flipped bits are tolerated)."""
    # 4 of 64: an unmarked image decodes to roughly random bits (about 32 errors); ≤ 4 by chance is ~1e-13.
    return bit_errors(image) <= MAX_BIT_ERRORS


def _to_bgr(image: Image.Image) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])


def u_plane(bgr: np.ndarray) -> np.ndarray:
    """The U plane of a uint8 BGR image as OpenCV's ``cvtColor(bgr, COLOR_BGR2YUV)[:, :, 1]`` (ints 0-255)."""
    b, g, r = (bgr[:, :, channel].astype(np.int32) for channel in range(3))
    half = 1 << (_FIXED - 1)  # adding half before the shift rounds to nearest
    y = (_Y_WEIGHTS[0] * b + _Y_WEIGHTS[1] * g + _Y_WEIGHTS[2] * r + half) >> _FIXED
    u = ((b - y) * _U_WEIGHT + (128 << _FIXED) + half) >> _FIXED  # >> floors negatives too, like C's on ints
    return np.clip(u, 0, 255)


def _chroma_approximation(bgr: np.ndarray) -> np.ndarray:
    """The Haar approximation band of the U plane, as exact 2×2 sums: what the encoder works on."""
    return approximation(u_plane(bgr).astype(np.float64))


def _read_approximation(bgr: np.ndarray) -> np.ndarray:
    """The Haar approximation band of the U plane cropped to a multiple of 4, computed by pywt.dwt2: what is read.

    Reading uses pywt, not the exact sums of `approximation`, because the two differ in the last bits (pywt's Haar
    filter is 1/√2 in floating point), and a coefficient at exactly half the scale, or two tied for the largest,
    then read differently: the exact sums disagreed with imwatermark's decoder in some bit on about 40 % of 405
    test images (natural, marked, JPEG, posterised), pywt on none. The encoder keeps the exact sums, so stamped
    pixels are the same as when it used OpenCV (its self-check, `_misread_blocks`, therefore sees exact ties).
    """
    import pywt  # imported here: video_watermark uses this module's block helpers without it

    plane = u_plane(bgr)
    rows, cols = plane.shape[0] // 4 * 4, plane.shape[1] // 4 * 4
    approx, _details = pywt.dwt2(plane[:rows, :cols].astype(np.float64), "haar")
    return np.asarray(approx)


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


def _decode(bgr: np.ndarray) -> np.ndarray:
    """Read every block's bit by the max-coefficient rule and take a vote per bit over the blocks carrying it.

    As in imwatermark, a bit is 1 when its blocks' mean vote times 255 exceeds 127: an even split reads as 1.
    """
    read = read_blocks(split_blocks(_read_approximation(bgr)), _SCALE)
    slots = np.arange(len(read)) % len(BITS)
    ones = np.bincount(slots, weights=read, minlength=len(BITS))
    votes = np.bincount(slots, minlength=len(BITS))
    return (ones / votes * 255 > 127).astype(np.uint8)
