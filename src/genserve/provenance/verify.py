"""Check a file for genserve provenance: its C2PA manifest (validity, trust, AI origin) and the invisible watermark."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from genserve.provenance.c2pa_sign import GENERATOR, TRAINED_ALGORITHMIC_MEDIA

_IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")


@dataclass(frozen=True)
class VerifyReport:
    """What a file carries. `c2pa_valid` means intact and correctly signed; `c2pa_trusted` also a trusted CA."""

    c2pa_present: bool
    c2pa_valid: bool
    c2pa_trusted: bool
    ai_generated: bool
    genserve_signed: bool
    watermark: bool
    signer: str | None = None
    problems: list[str] = field(default_factory=list)
    model: str | None = None
    mime: str | None = None

    @property
    def carries_genserve_provenance(self) -> bool:
        return (self.c2pa_valid and self.genserve_signed) or self.watermark

    def lines(self) -> list[str]:
        """A short report for people."""
        if not self.c2pa_present:
            c2pa = "absent"
        elif not self.c2pa_valid:
            c2pa = "present but INVALID"
        else:
            c2pa = "valid, signer trusted" if self.c2pa_trusted else "valid, signer not trusted"
        out = [f"C2PA manifest: {c2pa}"]
        if self.c2pa_present:
            out.append(f"  signed by: {self.signer or 'unknown'}")
            out.append(f"  made by genserve: {_yes(self.genserve_signed)}")
            origin = "yes (trainedAlgorithmicMedia)" if self.ai_generated else "not declared"
            out.append(f"  AI-generated: {origin}" + (f", model {self.model}" if self.model else ""))
        out.append(f"genserve watermark: {'found' if self.watermark else 'not found'}")
        out.extend(f"problem: {problem}" for problem in self.problems)
        verdict = "carries genserve provenance" if self.carries_genserve_provenance else "no genserve provenance"
        out.append(f"verdict: {verdict}")
        return out


def sniff_mime(data: bytes) -> str:
    """The media type from the file's first bytes; ValueError when it is not a type we can check."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp":
        return "video/mp4"
    raise ValueError("not a PNG, JPEG, WebP or MP4 file")


def verify_file(path: str | Path, trust_anchors_pem: str | None = None) -> VerifyReport:
    """Verify a file on disk (OSError if unreadable, ValueError if of an unsupported type)."""
    data = Path(path).read_bytes()
    return verify_bytes(data, sniff_mime(data), trust_anchors_pem)


def verify_bytes(data: bytes, mime: str, trust_anchors_pem: str | None = None) -> VerifyReport:
    """Verify encoded media. With `trust_anchors_pem`, a signer chaining to one of those CAs is reported trusted."""
    problems: list[str] = []
    manifest_store = _read_manifest_store(data, mime, trust_anchors_pem, problems)
    fields = _c2pa_fields(manifest_store, bool(trust_anchors_pem), problems)
    watermark = _image_watermark(data, problems) if mime in _IMAGE_TYPES else _video_watermark(data, problems)
    return VerifyReport(watermark=watermark, problems=problems, mime=mime, **fields)


def _read_manifest_store(data: bytes, mime: str, anchors: str | None, problems: list[str]) -> dict | None:
    import c2pa

    settings: dict = {"verify": {"verify_trust": True}, "trust": {"trust_anchors": anchors}} if anchors else {}
    context = c2pa.Context.from_json(json.dumps(settings))
    try:
        with c2pa.Reader(mime, io.BytesIO(data), context=context) as reader:
            return json.loads(reader.json())
    except c2pa.C2paError.ManifestNotFound:
        problems.append("no C2PA manifest")
        return None
    except c2pa.C2paError as exc:
        # A damaged manifest is present and invalid, not absent; a damaged file without one is just unreadable.
        # Every embedded manifest store carries the JUMBF label "c2pa", which is what tells the two apart.
        if b"c2pa" in data:
            problems.append(f"C2PA manifest unreadable: {exc}")
            return {}
        problems.append(f"no C2PA manifest (file could not be parsed: {exc})")
        return None
    finally:
        context.close()


def _c2pa_fields(store: dict | None, trust_checked: bool, problems: list[str]) -> dict:
    if store is None:
        return dict(c2pa_present=False, c2pa_valid=False, c2pa_trusted=False, ai_generated=False, genserve_signed=False)
    state = store.get("validation_state")
    active = store.get("manifests", {}).get(store.get("active_manifest"), {})
    results = store.get("validation_results", {}).get("activeManifest", {})
    for failure in results.get("failure", []):
        code = failure.get("code", "")
        # Without trust anchors every signer is "untrusted": that is expected, not a problem with the file.
        if code == "signingCredential.untrusted" and not trust_checked:
            continue
        problems.append(f"C2PA {code}: {failure.get('explanation', '')}".rstrip(": "))
    signature = active.get("signature_info", {})
    signer = ", ".join(v for v in (signature.get("common_name"), signature.get("issuer")) if v) or None
    created = [a for a in _actions(active) if a.get("action") == "c2pa.created"]
    ai = [a for a in created if a.get("digitalSourceType") == TRAINED_ALGORITHMIC_MEDIA]
    models = [a["parameters"].get("model") for a in ai if isinstance(a.get("parameters"), dict)]
    model = next((m for m in models if isinstance(m, str)), None)
    return dict(
        c2pa_present=True,
        c2pa_valid=state in ("Valid", "Trusted"),
        c2pa_trusted=state == "Trusted",
        ai_generated=bool(ai),
        genserve_signed=any(info.get("name") == GENERATOR for info in active.get("claim_generator_info", [])),
        signer=signer,
        model=model,
    )


def _actions(manifest: dict) -> list[dict]:
    actions: list[dict] = []
    for assertion in manifest.get("assertions", []):
        # c2pa.actions, c2pa.actions.v2 and their multi-instance forms (c2pa.actions__1) all hold actions.
        if str(assertion.get("label", "")).startswith("c2pa.actions"):
            actions.extend(a for a in assertion.get("data", {}).get("actions", []) if isinstance(a, dict))
    return actions


def _image_watermark(data: bytes, problems: list[str]) -> bool:
    from PIL import Image, UnidentifiedImageError

    from genserve.provenance import watermark

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return watermark.detect(image)
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        problems.append(f"image could not be decoded for the watermark check: {exc}")
        return False


def _video_watermark(data: bytes, problems: list[str]) -> bool:
    from genserve.provenance import video_watermark

    try:
        return video_watermark.detect_mp4(data)
    except ImportError:
        problems.append("video watermark not checked: PyAV is missing (pip install 'genserve[video]')")
    except ValueError as exc:
        problems.append(f"video could not be decoded for the watermark check: {exc}")
    return False


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"
