"""Provenance for generated media: watermark, encode and sign, with credentials loaded on first use."""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

    from genserve.provenance.c2pa_sign import ContentSigner
    from genserve.provenance.credentials import Credentials

_IMAGE_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}
DEFAULT_JPEG_QUALITY = 75


class Provenance:
    """Stamps generated media. Nothing is loaded or created until the first stamp, and then only once."""

    def __init__(self, directory: Path, cert: Path | None = None, key: Path | None = None) -> None:
        self._directory = Path(directory)
        self._cert = cert
        self._key = key
        self._lock = threading.Lock()
        self._credentials: Credentials | None = None
        self._signer: ContentSigner | None = None

    @property
    def trust_anchors_pem(self) -> str | None:
        """The PEM of the CA that issued the signing certificate (the dev CA unless one is configured)."""
        ca_pem = self._ensure()[0].ca_pem
        return ca_pem.decode() if ca_pem is not None else None

    def stamp_image(
        self, image: Image.Image, *, mime: str = "image/png", quality: int | None = None, model: str = ""
    ) -> bytes:
        """Watermark `image`, encode it as `mime` (JPEG at `quality`, 0-100, default 75) and sign it with C2PA."""
        from genserve.provenance import watermark

        encoding = _IMAGE_FORMATS.get(mime)
        if encoding is None:
            raise ValueError(f"cannot stamp images as {mime!r}: supported types are {', '.join(_IMAGE_FORMATS)}")
        if quality is not None and not (isinstance(quality, int) and 0 <= quality <= 100):
            raise ValueError(f"JPEG quality must be an integer from 0 to 100, got {quality!r}")
        signer = self._ensure()[1]
        marked = watermark.embed(image)
        buffer = io.BytesIO()
        if encoding == "JPEG":
            # JPEG has no alpha; the colour under transparent pixels is kept as it is.
            quality = DEFAULT_JPEG_QUALITY if quality is None else quality
            marked.convert("RGB").save(buffer, "JPEG", quality=quality)
        else:
            marked.save(buffer, "PNG")
        return signer.sign(buffer.getvalue(), mime, model=model)

    def stamp_video(
        self,
        frames: list[Image.Image],
        fps: int,
        audio: np.ndarray | None = None,
        sample_rate: int | None = None,
        *,
        model: str = "",
    ) -> bytes:
        """Watermark every frame, encode the MP4 (see `encode_mp4` for the audio) and sign it with C2PA."""
        from genserve.media.mp4 import encode_mp4
        from genserve.provenance.video_watermark import embed_frame

        signer = self._ensure()[1]
        data = encode_mp4([embed_frame(frame) for frame in frames], fps, audio, sample_rate)
        return signer.sign(data, "video/mp4", model=model)

    def sign(self, data: bytes, mime: str, model: str = "") -> bytes:
        """Sign already encoded media (image/png, image/jpeg, video/mp4) with C2PA only, no watermark."""
        return self._ensure()[1].sign(data, mime, model=model)

    def _ensure(self) -> tuple[Credentials, ContentSigner]:
        # Worker threads stamp concurrently; the first one creates the dev CA and the native signer, once.
        with self._lock:
            if self._credentials is None or self._signer is None:
                from genserve.provenance.c2pa_sign import ContentSigner
                from genserve.provenance.credentials import load_or_create

                credentials = load_or_create(self._directory, self._cert, self._key)
                self._signer = ContentSigner(credentials)
                self._credentials = credentials
            return self._credentials, self._signer
