"""C2PA content credentials: sign image and video bytes with a manifest that says genserve made them with AI."""

from __future__ import annotations

import io
import json
import threading
from typing import TYPE_CHECKING

from genserve import __version__

if TYPE_CHECKING:
    from genserve.provenance.credentials import Credentials

GENERATOR = "genserve"
TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
SIGNABLE = {"image/png": "image", "image/jpeg": "image", "video/mp4": "video"}

# No thumbnail: c2pa embeds a JPEG preview by default (+316 KB on a 512² PNG); ours would only repeat the asset.
_BUILDER_SETTINGS = {"builder": {"thumbnail": {"enabled": False}}}


def manifest(mime: str, model: str = "") -> dict:
    """The manifest definition: created by genserve from a trained model, no ingredients."""
    agent = {"name": GENERATOR, "version": __version__}
    action: dict = {"action": "c2pa.created", "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA, "softwareAgent": agent}
    if model:
        action["parameters"] = {"model": model}
    return {
        "claim_generator_info": [{"name": GENERATOR, "version": __version__}],
        "title": f"{GENERATOR} generated {SIGNABLE.get(mime, 'asset')}",
        "assertions": [{"label": "c2pa.actions", "data": {"actions": [action]}}],
    }


class ContentSigner:
    """Signs bytes with one identity. The native signer and context are made once and reused across calls."""

    def __init__(self, credentials: Credentials) -> None:
        import c2pa

        self._c2pa = c2pa
        info = c2pa.C2paSignerInfo(
            alg=c2pa.C2paSigningAlg.ES256,
            sign_cert=credentials.chain_pem,
            private_key=credentials.key_pem,
            ta_url=None,  # no timestamp authority: signing stays offline; the signature carries no trusted time
        )
        self._signer = c2pa.Signer.from_info(info)
        self._context = c2pa.Context.from_json(json.dumps(_BUILDER_SETTINGS))
        # The native signer is shared; c2pa does not document it as safe for concurrent signing, so take turns.
        self._lock = threading.Lock()

    def sign(self, data: bytes, mime: str, *, model: str = "") -> bytes:
        """Return `data` with an embedded, signed C2PA manifest."""
        if mime not in SIGNABLE:
            raise ValueError(f"cannot sign {mime!r}: supported types are {', '.join(sorted(SIGNABLE))}")
        out = io.BytesIO()
        try:
            with self._lock:
                builder = self._c2pa.Builder(manifest(mime, model), context=self._context)
                builder.sign(self._signer, mime, io.BytesIO(data), out)
        except self._c2pa.C2paError as exc:  # callers should not need to know c2pa's exception types
            raise RuntimeError(f"C2PA signing failed: {exc}") from exc
        return out.getvalue()
