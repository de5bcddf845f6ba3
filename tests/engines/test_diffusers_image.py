"""The diffusers image engine on tiny random Stable Diffusion, InstructPix2Pix and FLUX.1 Kontext pipelines built
here, offline."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from genserve.core.image_types import ImageRequest, ImageTask
from genserve.demo.image import (
    KONTEXT_DIR,
    PIX2PIX_DIR,
    SD_DIR,
    build_flux_kontext_pipeline,
    build_instruct_pix2pix_pipeline,
    build_sd_pipeline,
)
from genserve.engines.hf_diffusers_image import DiffusersImageEngine, Family, family_of, size_multiple_of
from genserve.errors import InvalidArgument

STEPS = 2


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("image-models")
    started = time.monotonic()
    build_sd_pipeline(target / SD_DIR)
    build_instruct_pix2pix_pipeline(target / PIX2PIX_DIR)
    build_flux_kontext_pipeline(target / KONTEXT_DIR)
    assert time.monotonic() - started < 30  # about 1.5 s; the bound only catches something gone badly wrong
    return target


@pytest.fixture(scope="module")
def engine(image_dir: Path) -> Iterator[DiffusersImageEngine]:
    engine = DiffusersImageEngine(str(image_dir / SD_DIR), {"dtype": "float32", "steps": STEPS})
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def pix2pix(image_dir: Path) -> Iterator[DiffusersImageEngine]:
    engine = DiffusersImageEngine(str(image_dir / PIX2PIX_DIR), {"dtype": "float32", "steps": STEPS})
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def kontext(image_dir: Path) -> Iterator[DiffusersImageEngine]:
    engine = DiffusersImageEngine(str(image_dir / KONTEXT_DIR), {"dtype": "float32", "steps": STEPS})
    yield engine
    engine.close()


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


def picture(width: int, height: int) -> Image.Image:
    """A smooth two-colour gradient: any change to it is easy to see."""
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :].repeat(height, 0)
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None].repeat(width, 1)
    return Image.fromarray(np.stack([x, y, 255 - x], axis=-1).astype(np.uint8), "RGB")


def test_checkpoint_is_a_standard_diffusers_layout(image_dir: Path) -> None:
    from diffusers import DiffusionPipeline

    index = json.loads((image_dir / SD_DIR / "model_index.json").read_text())
    assert index["_class_name"] == "StableDiffusionPipeline"
    assert {"unet", "vae", "text_encoder", "tokenizer", "scheduler"} <= set(index)
    assert DiffusionPipeline.from_pretrained(image_dir / PIX2PIX_DIR).unet.config.in_channels == 8
    size = sum(f.stat().st_size for f in image_dir.rglob("*") if f.is_file())
    assert size < 8_000_000  # all three pipelines together: small enough to build per test session


def test_builds_are_reproducible_and_leave_the_random_state_alone(image_dir: Path, tmp_path: Path) -> None:
    state = torch.random.get_rng_state()
    build_sd_pipeline(tmp_path / SD_DIR)
    assert torch.equal(torch.random.get_rng_state(), state)
    weights = sorted((image_dir / SD_DIR).rglob("*.safetensors"))
    assert len(weights) == 3
    for original in weights:
        assert (tmp_path / original.relative_to(image_dir)).read_bytes() == original.read_bytes()


def test_stable_diffusion_can_do_every_task(engine: DiffusersImageEngine) -> None:
    assert engine.family.name == "Stable Diffusion"
    assert engine.size_multiple == 8
    assert engine.tasks == set(ImageTask)


@pytest.mark.parametrize(
    ("name", "multiple"),
    [
        ("StableDiffusionPipeline", 8),
        ("StableDiffusionXLPipeline", 8),
        ("StableDiffusionInstructPix2PixPipeline", 8),
        ("StableDiffusion3Pipeline", 16),
        ("FluxPipeline", 16),
        ("FluxKontextPipeline", 16),
    ],
)
def test_size_multiple_follows_the_family(name: str, multiple: int) -> None:
    fake = type(name, (), {"vae_scale_factor": 8})()
    assert size_multiple_of(fake, family_of(fake)) == multiple


def test_unknown_pipelines_get_a_generic_family() -> None:
    fake = type("SomeNewPipeline", (), {})()
    assert family_of(fake) == Family("SomeNewPipeline")
    assert size_multiple_of(fake, family_of(fake)) == 8


@pytest.mark.parametrize("count", [1, 4])
@pytest.mark.parametrize(("width", "height"), [(128, 128), (112, 160), (176, 96)])
async def test_text_to_image_has_the_exact_size(
    engine: DiffusersImageEngine, width: int, height: int, count: int
) -> None:
    images = await engine.generate(ImageRequest("a red fox", width=width, height=height, count=count, seed=1))
    assert len(images) == count
    assert all(image.size == (width, height) and image.mode == "RGB" for image in images)
    distinct = {image.tobytes() for image in images}
    assert len(distinct) == count


async def test_a_seed_reproduces_the_images(engine: DiffusersImageEngine) -> None:
    def ask(seed: int, count: int = 2) -> ImageRequest:
        return ImageRequest("a lighthouse", width=64, height=64, count=count, seed=seed)

    first, again, other = await engine.generate(ask(7)), await engine.generate(ask(7)), await engine.generate(ask(8))
    assert [pixels(a).tolist() for a in first] == [pixels(b).tolist() for b in again]
    assert not np.array_equal(pixels(first[0]), pixels(other[0]))
    # Image i of a batch uses seed + i: the second image of seed 7 is, up to batched arithmetic, seed 8 alone.
    (alone,) = await engine.generate(ask(8, count=1))
    assert np.abs(pixels(first[1]) - pixels(alone)).max() <= 2


async def test_no_seed_gives_new_images(engine: DiffusersImageEngine) -> None:
    ask = ImageRequest("a lighthouse", width=64, height=64)
    (a,), (b,) = await engine.generate(ask), await engine.generate(ask)
    assert a.tobytes() != b.tobytes()


async def test_on_step_reports_every_step(engine: DiffusersImageEngine) -> None:
    seen: list[tuple[int, int]] = []
    await engine.generate(ImageRequest("steps", width=64, height=64, steps=3), on_step=lambda *s: seen.append(s))
    assert seen == [(1, 3), (2, 3), (3, 3)]


async def test_edit_is_image_to_image_at_the_requested_size(engine: DiffusersImageEngine) -> None:
    def edit(image: Image.Image, strength: float | None = None) -> ImageRequest:
        return ImageRequest(
            "make it blue", width=96, height=128, task=ImageTask.EDIT, image=image, seed=3, strength=strength, steps=4
        )

    seen: list[tuple[int, int]] = []
    (edited,) = await engine.generate(edit(picture(60, 80), strength=0.5), on_step=lambda *s: seen.append(s))
    assert edited.size == (96, 128) and edited.mode == "RGB"
    assert seen[-1] == (2, 2)  # image-to-image runs steps x strength of the schedule
    (from_other,) = await engine.generate(edit(Image.new("RGB", (60, 80), (250, 250, 0)), strength=0.5))
    assert edited.tobytes() != from_other.tobytes()  # the picture given is the starting point
    (low,) = await engine.generate(edit(picture(60, 80), strength=0.1))  # 4 x 0.1 < 1 step: at least one runs
    assert low.size == (96, 128)


async def test_inpaint_repaints_only_under_the_mask(engine: DiffusersImageEngine) -> None:
    source = picture(128, 96)
    mask = Image.new("L", (128, 96), 0)
    mask.paste(255, (32, 16, 96, 80))  # white: repaint
    images = await engine.generate(
        ImageRequest("a cat", width=128, height=96, count=2, task=ImageTask.INPAINT, image=source, mask=mask, seed=5)
    )
    inside = pixels(mask) == 255
    for image in images:
        assert image.size == (128, 96)
        difference = np.abs(pixels(image) - pixels(source)).max(axis=-1)
        assert difference[~inside].max() == 0  # the unmasked picture is kept pixel for pixel
        assert difference[inside].mean() > 10  # the masked area is new content
    assert images[0].tobytes() != images[1].tobytes()


async def test_instruct_pix2pix_only_edits(pix2pix: DiffusersImageEngine) -> None:
    assert pix2pix.family.name == "InstructPix2Pix"
    assert pix2pix.tasks == {ImageTask.EDIT}
    assert pix2pix.size_multiple == 8
    request = ImageRequest("into winter", width=112, height=80, count=2, task=ImageTask.EDIT, image=picture(50, 40))
    seen: list[tuple[int, int]] = []
    images = await pix2pix.generate(request, lambda *s: seen.append(s))
    assert [image.size for image in images] == [(112, 80)] * 2
    assert seen == [(1, STEPS), (2, STEPS)]
    with pytest.raises(InvalidArgument, match=r"InstructPix2Pix\) cannot generate images from text: it can only edit"):
        await pix2pix.generate(ImageRequest("a dog", width=64, height=64))


async def test_flux_kontext_draws_and_edits_at_multiples_of_16(kontext: DiffusersImageEngine) -> None:
    assert kontext.family.name == "FLUX.1 Kontext"
    assert kontext.size_multiple == 16
    assert kontext.tasks == {ImageTask.GENERATE, ImageTask.EDIT}
    drawn = await kontext.generate(ImageRequest("a red fox", width=112, height=160, count=2, seed=1))
    assert [image.size for image in drawn] == [(112, 160)] * 2 and drawn[0].tobytes() != drawn[1].tobytes()
    seen: list[tuple[int, int]] = []
    request = ImageRequest("make it night", width=176, height=96, task=ImageTask.EDIT, image=picture(90, 50), seed=2)
    (edited,) = await kontext.generate(request, lambda *s: seen.append(s))
    assert edited.size == (176, 96) and seen == [(1, STEPS), (2, STEPS)]
    mask = Image.new("L", (64, 64), 255)
    inpaint = ImageRequest("x", width=64, height=64, task=ImageTask.INPAINT, image=picture(64, 64), mask=mask)
    with pytest.raises(InvalidArgument, match=r"\(FLUX.1 Kontext\) cannot inpaint under a mask: it can only generate"):
        await kontext.generate(inpaint)


async def test_requests_the_model_cannot_serve_are_invalid(engine: DiffusersImageEngine) -> None:
    with pytest.raises(InvalidArgument, match="must include a mask"):
        await engine.generate(ImageRequest("x", width=64, height=64, task=ImageTask.INPAINT, image=picture(64, 64)))
    with pytest.raises(InvalidArgument, match="must include the image"):
        await engine.generate(ImageRequest("x", width=64, height=64, task=ImageTask.EDIT))


async def test_cancelling_stops_the_pipeline_and_frees_the_engine(engine: DiffusersImageEngine) -> None:
    loop = asyncio.get_running_loop()
    started = asyncio.Event()
    seen: list[tuple[int, int]] = []

    def on_step(done: int, total: int) -> None:
        seen.append((done, total))
        loop.call_soon_threadsafe(started.set)

    task = asyncio.create_task(engine.generate(ImageRequest("long", width=64, height=64, steps=500), on_step))
    await asyncio.wait_for(started.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    began = time.monotonic()
    after: list[tuple[int, int]] = []
    (image,) = await engine.generate(ImageRequest("next", width=64, height=64), lambda *s: after.append(s))
    assert time.monotonic() - began < 10  # the cancelled call left the engine's thread at its next step
    assert image.size == (64, 64) and after == [(1, STEPS), (2, STEPS)]
    assert seen[-1][1] == 500 and len(seen) < 500


async def test_count_tokens_is_untruncated_and_long_prompts_still_draw(engine: DiffusersImageEngine) -> None:
    long_prompt = "a very detailed painting of a quiet harbour at dawn with boats " * 20
    assert await engine.count_tokens("a cat") < 10
    assert await engine.count_tokens(long_prompt) > 77 * 3
    (image,) = await engine.generate(ImageRequest(long_prompt, width=64, height=64))  # CLIP truncates to 77
    assert image.size == (64, 64)


def test_memory_counts_every_weight_once(engine: DiffusersImageEngine) -> None:
    expected = sum(
        p.numel() * 4 for m in engine.pipe.components.values() if isinstance(m, torch.nn.Module) for p in m.parameters()
    )
    assert expected <= engine.memory_bytes() < expected * 1.1  # buffers add a little; the variants add nothing


async def test_bfloat16_weights_generate(image_dir: Path) -> None:
    engine = DiffusersImageEngine(str(image_dir / SD_DIR), {"dtype": "bfloat16", "steps": 1})
    try:
        assert engine.pipe.unet.dtype == torch.bfloat16
        (image,) = await engine.generate(ImageRequest("bf16", width=64, height=64, seed=0))
        assert image.size == (64, 64) and image.mode == "RGB"
    finally:
        engine.close()
