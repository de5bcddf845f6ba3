"""The transformers vision engine on a tiny random LLaVA checkpoint built here (no downloads)."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from PIL import Image

from genserve.core.types import (
    CandidateDone,
    Media,
    Prompt,
    PromptAccepted,
    SamplingParams,
    TextDelta,
    TextRequest,
    Turn,
)
from genserve.demo.text import build_tokenizer
from genserve.demo.vision import build_vlm
from genserve.engines.hf_vision import TransformersVisionEngine
from genserve.engines.registry import engine_class
from genserve.errors import InvalidArgument

# ChatML that renders content lists: `<image>` for each image item, the text of each text item.
TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' }}"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for item in message['content'] %}"
    "{% if item['type'] == 'image' %}{{ '<image>' }}{% elif item['type'] == 'text' %}{{ item['text'] }}{% endif %}"
    "{% endfor %}{% endif %}"
    "{% if not (loop.last and continue_final_message) %}{{ '<|im_end|>\\n' }}{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
IMAGE_TOKENS = 16  # (56 / 14)^2 patches, the class token dropped
LIMIT = 4096


@pytest.fixture(scope="module")
def vlm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tokenizer = build_tokenizer()
    target = tmp_path_factory.mktemp("vlm")
    started = time.monotonic()
    build_vlm(target, tokenizer, TEMPLATE)
    assert time.monotonic() - started < 30  # about 1 s; the bound only catches something gone badly wrong
    assert "<image>" not in tokenizer.get_vocab()  # the caller's tokenizer is left alone
    return target


@pytest.fixture(scope="module")
def engine(vlm_dir: Path) -> Iterator[TransformersVisionEngine]:
    engine = TransformersVisionEngine(str(vlm_dir), {"dtype": "float32"})
    yield engine
    engine.close()


def png(colour: tuple[int, int, int], size: tuple[int, int] = (80, 60)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def request(*parts: object, candidates: int = 1, system: str | None = None) -> TextRequest:
    sampling = SamplingParams(temperature=0.0, top_p=None, top_k=None, max_output_tokens=8, candidate_count=candidates)
    return TextRequest("vlm", Prompt(system, (Turn("user", tuple(parts)),)), sampling)


async def events_of(engine: TransformersVisionEngine, req: TextRequest) -> list[object]:
    return [event async for event in engine.generate(req, LIMIT)]


def test_registered_as_transformers_vision() -> None:
    from genserve.core.catalog import ModelEntry

    assert engine_class("transformers-vision") is TransformersVisionEngine
    assert ModelEntry(name="v", engine="transformers-vision", path="-").task == "text"


def test_checkpoint_reloads_with_auto_classes(vlm_dir: Path) -> None:
    from transformers import AutoModelForImageTextToText, AutoProcessor

    processor = AutoProcessor.from_pretrained(vlm_dir)
    model = AutoModelForImageTextToText.from_pretrained(vlm_dir)
    assert type(model).__name__ == "LlavaForConditionalGeneration"
    assert processor.image_token == "<image>"
    assert processor.tokenizer.chat_template == TEMPLATE


async def test_image_prompt_generates(engine: TransformersVisionEngine) -> None:
    events = await events_of(engine, request(Media("image/png", png((200, 30, 30))), "What is in this picture?"))
    accepted = events[0]
    assert isinstance(accepted, PromptAccepted)
    assert accepted.modality_tokens["IMAGE"] == IMAGE_TOKENS
    assert accepted.modality_tokens["TEXT"] > 0
    assert accepted.prompt_tokens == accepted.modality_tokens["IMAGE"] + accepted.modality_tokens["TEXT"]
    assert all(isinstance(e, TextDelta) for e in events[1:-1])
    done = events[-1]
    assert isinstance(done, CandidateDone) and done.index == 0 and done.token_count > 0
    assert "<image>" not in "".join(e.text for e in events[1:] if isinstance(e, (TextDelta, CandidateDone)))


def test_prepare_feeds_the_pixels_of_each_image(engine: TransformersVisionEngine) -> None:
    red = engine.prepare(request(Media("image/png", png((255, 0, 0))), "Describe."))
    blue = engine.prepare(request(Media("image/png", png((0, 0, 255))), "Describe."))
    assert red.ids == blue.ids  # same text, same placeholder count
    assert set(red.model_inputs) == {"pixel_values"}
    assert red.model_inputs["pixel_values"].shape == (1, 3, 56, 56)
    assert red.model_inputs["pixel_values"].dtype == torch.float32
    assert not torch.equal(red.model_inputs["pixel_values"], blue.model_inputs["pixel_values"])


def test_images_follow_part_order(engine: TransformersVisionEngine) -> None:
    prepared = engine.prepare(
        request("First:", Media("image/png", png((255, 0, 0))), "then:", Media("image/jpeg", _jpeg()), "?")
    )
    assert prepared.modality_tokens["IMAGE"] == 2 * IMAGE_TOKENS
    assert prepared.model_inputs["pixel_values"].shape[0] == 2
    text = engine.tokenizer.decode(prepared.ids)
    assert text.index("First:") < text.index("<image>") < text.index("then:")


async def test_text_only_prompt_works(engine: TransformersVisionEngine) -> None:
    events = await events_of(engine, request("Hello there", system="Be brief."))
    accepted = events[0]
    assert isinstance(accepted, PromptAccepted)
    assert accepted.prompt_tokens > 0 and not accepted.modality_tokens.get("IMAGE")
    assert isinstance(events[-1], CandidateDone)


async def test_several_candidates_share_the_image(engine: TransformersVisionEngine) -> None:
    events = await events_of(engine, request(Media("image/png", png((0, 255, 0))), "Hi", candidates=2))
    done = [e for e in events if isinstance(e, CandidateDone)]
    assert sorted(d.index for d in done) == [0, 1]


async def test_count_tokens_counts_image_tokens(engine: TransformersVisionEngine) -> None:
    with_image = Prompt(None, (Turn("user", (Media("image/png", png((1, 2, 3))), "Count me")),))
    text_only = Prompt(None, (Turn("user", ("Count me",)),))
    counted, text = await engine.count_tokens(with_image), await engine.count_tokens(text_only)
    assert counted["IMAGE"] == IMAGE_TOKENS and sum(counted.values()) == text["TEXT"] + IMAGE_TOKENS


async def test_bad_image_is_a_400_naming_the_part(engine: TransformersVisionEngine) -> None:
    with pytest.raises(InvalidArgument, match=r"contents\[0\]\.parts\[1\]: mimeType is image/png"):
        await events_of(engine, request("Look:", Media("image/png", _jpeg())))
    with pytest.raises(InvalidArgument, match=r"contents\[0\]\.parts\[0\]"):
        await events_of(engine, request(Media("image/png", b"\x89PNG broken"), "Look"))


async def test_other_modalities_are_refused(engine: TransformersVisionEngine) -> None:
    with pytest.raises(InvalidArgument, match="accepts images only, not audio/wav"):
        await events_of(engine, request(Media("audio/wav", b"RIFF...."), "Listen"))


@pytest.mark.parametrize("with_image", [True, False])
async def test_placeholder_typed_in_text_is_a_400(engine: TransformersVisionEngine, with_image: bool) -> None:
    parts = (Media("image/png", png((9, 9, 9))),) if with_image else ()
    with pytest.raises(InvalidArgument, match="image placeholder"):
        await events_of(engine, request(*parts, "What is <image> here?"))


def test_pixel_cap_is_a_catalog_option(vlm_dir: Path) -> None:
    engine = TransformersVisionEngine(str(vlm_dir), {"dtype": "float32", "max_image_pixels": 1000})
    try:
        with pytest.raises(InvalidArgument, match="80x60 pixels"):
            engine.prepare(request(Media("image/png", png((0, 0, 0))), "Hi"))
    finally:
        engine.close()


async def test_pixel_values_take_the_model_dtype(vlm_dir: Path) -> None:
    engine = TransformersVisionEngine(str(vlm_dir), {"dtype": "bfloat16"})
    try:
        req = request(Media("image/png", png((0, 0, 0))), "Hi")
        assert engine.prepare(req).model_inputs["pixel_values"].dtype == torch.bfloat16
        assert isinstance((await events_of(engine, req))[-1], CandidateDone)
    finally:
        engine.close()


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (30, 30), (10, 200, 10)).save(out, "JPEG")
    return out.getvalue()
