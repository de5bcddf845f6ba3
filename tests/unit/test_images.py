"""Image decoding and validation: every accepted format, and a 400 for everything else."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from genserve.errors import InvalidArgument
from genserve.media import images
from genserve.media.images import IMAGE_MIME_TYPES, decode_image

WHERE = "contents[0].parts[1].inlineData"
RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def close_to(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 8) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def refusal(data: bytes, mime: str, **kwargs: object) -> str:
    with pytest.raises(InvalidArgument) as info:
        decode_image(data, mime, WHERE, **kwargs)
    assert info.value.code == 400
    assert info.value.message.startswith(WHERE)
    return info.value.message


@pytest.mark.parametrize(
    ("fmt", "mime", "options"),
    [
        ("PNG", "image/png", {}),
        ("JPEG", "image/jpeg", {"quality": 95}),
        ("WEBP", "image/webp", {"quality": 95}),
        ("WEBP", "image/webp", {"lossless": True}),
        ("GIF", "image/gif", {}),
    ],
)
def test_each_format_decodes_to_rgb(fmt: str, mime: str, options: dict) -> None:
    image = decode_image(encode(Image.new("RGB", (20, 10), RED), fmt, **options), mime, WHERE)
    assert image.mode == "RGB"
    assert image.size == (20, 10)
    assert close_to(image.getpixel((5, 5)), RED)


def test_mime_type_parameters_and_case_are_ignored() -> None:
    image = decode_image(encode(Image.new("RGB", (4, 4), BLUE), "PNG"), "Image/PNG; foo=bar", WHERE)
    assert image.getpixel((0, 0)) == BLUE


@pytest.mark.parametrize(("fmt", "mime"), [("GIF", "image/gif"), ("WEBP", "image/webp")])
def test_animations_give_their_first_frame(fmt: str, mime: str) -> None:
    frames = [Image.new("RGB", (8, 8), colour) for colour in (BLUE, GREEN, RED)]
    data = encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, lossless=True)
    assert Image.open(io.BytesIO(data)).n_frames == 3
    assert close_to(decode_image(data, mime, WHERE).getpixel((4, 4)), BLUE)


def test_transparency_becomes_white_and_modes_become_rgb() -> None:
    clear = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    assert decode_image(encode(clear, "PNG"), "image/png", WHERE).getpixel((0, 0)) == (255, 255, 255)
    grey = decode_image(encode(Image.new("L", (4, 4), 128), "PNG"), "image/png", WHERE)
    assert grey.mode == "RGB" and grey.getpixel((0, 0)) == (128, 128, 128)
    # 16-bit greyscale is scaled to 8 bits, not clipped to white.
    deep = Image.new("I;16", (4, 4), 32896)
    assert decode_image(encode(deep, "PNG"), "image/png", WHERE).getpixel((0, 0)) == (128, 128, 128)


def test_exif_rotation_is_applied() -> None:
    image = Image.new("RGB", (40, 20), RED)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    decoded = decode_image(encode(image, "JPEG", exif=exif.tobytes()), "image/jpeg", WHERE)
    assert decoded.size == (20, 40)


@pytest.mark.parametrize("data", [b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40])
def test_garbage_is_a_400(data: bytes) -> None:
    message = refusal(data, "image/png")
    assert "not a PNG, JPEG, WebP" in message or "could not be decoded" in message


def test_empty_data_is_a_400() -> None:
    assert "empty" in refusal(b"", "image/png")


def test_truncated_image_is_a_400() -> None:
    noise = Image.effect_noise((64, 64), 80).convert("RGB")  # incompressible: half the file is half the pixels
    data = encode(noise, "PNG")
    assert "could not be decoded" in refusal(data[: len(data) // 2], "image/png")


def test_mismatched_mime_type_names_the_right_one() -> None:
    message = refusal(encode(Image.new("RGB", (4, 4)), "PNG"), "image/jpeg")
    assert "mimeType is image/jpeg" in message and "set mimeType to image/png" in message
    message = refusal(encode(Image.new("RGB", (4, 4)), "JPEG"), "image/webp")
    assert "set mimeType to image/jpeg" in message


def test_formats_pillow_reads_but_gemini_does_not_are_refused() -> None:
    # TIFF and BMP bytes under an accepted MIME type: Pillow could read them, but only listed formats are parsed.
    for fmt in ("TIFF", "BMP"):
        assert "not a PNG, JPEG, WebP" in refusal(encode(Image.new("RGB", (4, 4)), fmt), "image/png")


@pytest.mark.parametrize("mime", ["image/tiff", "image/svg+xml", "image/bmp", "application/octet-stream", "image/jpg"])
def test_unsupported_mime_types_are_a_400_listing_the_supported_ones(mime: str) -> None:
    message = refusal(encode(Image.new("RGB", (4, 4)), "PNG"), mime)
    assert f"unsupported image type '{mime}'" in message
    assert "image/png" in message and "image/webp" in message


def test_gemini_types_are_all_listed() -> None:
    assert {"image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"} <= IMAGE_MIME_TYPES


def test_heic_without_pillow_heif_asks_for_another_format(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images, "_heif", False)
    message = refusal(b"\x00\x00\x00\x18ftypheic", "image/heic")
    assert "pillow-heif" in message and "convert the image" in message


def test_heic_decodes_with_pillow_heif() -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()
    data = encode(Image.new("RGB", (16, 16), GREEN), "HEIF", quality=95)
    assert close_to(decode_image(data, "image/heic", WHERE).getpixel((8, 8)), GREEN, tolerance=16)


def test_pixel_cap_is_checked_before_decoding() -> None:
    # A 1-bit 20000x20000 PNG is about 50 KB but 400 megapixels.
    bomb = encode(Image.new("1", (20000, 20000)), "PNG")
    assert len(bomb) < 100_000
    assert "too large" in refusal(bomb, "image/png")
    small = encode(Image.new("RGB", (100, 100)), "PNG")
    message = refusal(small, "image/png", max_pixels=9_999)
    assert "100x100 pixels" in message and "downscale" in message
    assert decode_image(small, "image/png", WHERE, max_pixels=10_000).size == (100, 100)


def test_pillows_own_bomb_guard_is_a_400_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # Pillow raises at twice this, at open
    assert "too large" in refusal(encode(Image.new("RGB", (100, 100)), "PNG"), "image/png")
