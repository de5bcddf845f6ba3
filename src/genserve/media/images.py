"""Image input for vision models: decoded and checked with Pillow before a processor sees it.

Accepted types are Gemini's (PNG, JPEG, WebP, HEIC, HEIF) plus GIF, whose first frame is read (as is an
animated WebP's). HEIC/HEIF need the optional `pillow-heif` package; without it they are refused with a
400 that says to convert the image, because the client can fix that and the server cannot. Every other
type (TIFF, BMP, SVG, ...) is refused: SVG is a program rather than pixels, and the rest are outside the
Gemini API's list, so a client relying on them would break against the real service."""

from __future__ import annotations

import importlib.util
import io
import threading
from typing import TYPE_CHECKING

from genserve.errors import InvalidArgument, Unavailable

if TYPE_CHECKING:  # Pillow comes with the extras that read images; the server starts without it
    from PIL import Image

# MIME type -> the Pillow format names its bytes may decode as (Pillow opens some camera JPEGs as MPO).
_FORMATS: dict[str, tuple[str, ...]] = {
    "image/png": ("PNG",),
    "image/jpeg": ("JPEG", "MPO"),
    "image/webp": ("WEBP",),
    "image/gif": ("GIF",),
    "image/heic": ("HEIF",),
    "image/heif": ("HEIF",),
}
IMAGE_MIME_TYPES: frozenset[str] = frozenset(_FORMATS)
_HEIF_TYPES = frozenset({"image/heic", "image/heif"})
# The MIME type to suggest when the bytes are another supported format than the one declared.
_MIME_OF_FORMAT = {"PNG": "image/png", "JPEG": "image/jpeg", "MPO": "image/jpeg", "WEBP": "image/webp",
                   "GIF": "image/gif", "HEIF": "image/heif"}  # fmt: skip

# Largest image decoded, in pixels (about 7000 x 7000). A small compressed file can declare a huge
# canvas; the header is checked against this before any pixel is decoded, so such a file costs nothing.
# Vision processors downscale to a few hundred pixels a side anyway.
MAX_PIXELS = 50_000_000

_SUPPORTED = "PNG, JPEG, WebP, HEIC, HEIF or GIF"


def decode_image(data: bytes, mime_type: str, where: str, *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """The image as a fully loaded RGB picture (first frame), or an InvalidArgument naming `where`."""
    mime = mime_type.split(";", 1)[0].strip().lower()
    if mime not in _FORMATS:
        raise InvalidArgument(f"{where}: unsupported image type '{mime_type}'; send {_SUPPORTED} ({_mime_list()}).")
    if mime in _HEIF_TYPES and not _heif_ready():
        raise InvalidArgument(
            f"{where}: this server cannot decode {mime} images (pillow-heif is not installed); "
            "convert the image to PNG, JPEG or WebP."
        )
    if not _pillow_ready():
        raise Unavailable("This server cannot read images: Pillow is not installed (pip install 'genserve[text]').")
    image = _open(data, where)
    try:
        _check(image, mime, where, max_pixels)
        return _decoded(image, where)
    finally:
        image.close()


def fit(picture: Image.Image, width: int, height: int) -> Image.Image:
    """The picture at exactly width x height (Lanczos), itself when it already is."""
    from PIL import Image

    if picture.size == (width, height):
        return picture
    return picture.resize((width, height), Image.Resampling.LANCZOS)


def _check(image: Image.Image, mime: str, where: str, max_pixels: int) -> None:
    if image.format not in _FORMATS[mime]:
        actual = _MIME_OF_FORMAT[image.format or ""]
        raise InvalidArgument(
            f"{where}: mimeType is {mime} but the data is a {image.format} image; set mimeType to {actual}."
        )
    width, height = image.size
    if width * height > max_pixels:
        raise InvalidArgument(
            f"{where}: the image is {width}x{height} pixels, more than the {max_pixels} pixels this server "
            "decodes; downscale it and send it again."
        )


def _decoded(image: Image.Image, where: str) -> Image.Image:
    from PIL import ImageOps

    try:
        image.seek(0)  # GIF / animated WebP: the first frame
        image.load()
        # Phones store the camera's rotation in EXIF; the model should see the picture upright.
        return _rgb(ImageOps.exif_transpose(image))
    except Exception as exc:  # any failure here is in the client's bytes, not the server
        raise _undecodable(where, exc) from None


def _open(data: bytes, where: str) -> Image.Image:
    """Reads the header only. Restricting `formats` keeps Pillow's many other parsers away from user bytes."""
    if not data:
        raise InvalidArgument(f"{where}: the image data is empty; send the image's bytes.")
    from PIL import Image

    formats = ["PNG", "JPEG", "WEBP", "GIF", *(["HEIF"] if _heif_ready() else [])]
    try:
        return Image.open(io.BytesIO(data), formats=formats)
    except Image.DecompressionBombError as exc:
        # Pillow's own guard (twice Image.MAX_IMAGE_PIXELS) fires at open, before ours can.
        raise InvalidArgument(f"{where}: the image is too large ({exc}); downscale it and send it again.") from None
    except Image.UnidentifiedImageError:
        # Pillow's message names an in-memory buffer object, which means nothing to the client.
        raise InvalidArgument(f"{where}: the data is not a {_SUPPORTED} image; send one of those.") from None
    except Exception as exc:  # Pillow's plugins raise many types on malformed headers
        raise _undecodable(where, exc) from None


def _rgb(image: Image.Image) -> Image.Image:
    """Transparent pixels go on white: a plain convert() would show whatever colour they hide, often black."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        from PIL import Image

        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode == "I" or image.mode.startswith("I;16"):
        # 16-bit greyscale PNG: scale to 8 bits; Pillow's direct conversion clips every value above 255 to white.
        return image.convert("I").point(lambda v: v * (1 / 257)).convert("L").convert("RGB")
    return image.convert("RGB")


def _undecodable(where: str, exc: Exception) -> InvalidArgument:
    reason = str(exc) or type(exc).__name__
    return InvalidArgument(
        f"{where}: the image could not be decoded ({reason}); send a complete, valid {_SUPPORTED} file."
    )


def _mime_list() -> str:
    return ", ".join(sorted(IMAGE_MIME_TYPES))


def _pillow_ready() -> bool:
    return importlib.util.find_spec("PIL") is not None


_heif_lock = threading.Lock()
_heif: bool | None = None


def _heif_ready() -> bool:
    """Registers pillow-heif's opener with Pillow once, if the package is installed."""
    global _heif
    with _heif_lock:
        if _heif is None:
            try:
                import pillow_heif
            except ImportError:
                _heif = False
            else:
                pillow_heif.register_heif_opener()
                _heif = True
        return _heif
