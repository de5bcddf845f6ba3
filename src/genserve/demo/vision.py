"""A tiny random vision-language checkpoint in the LLaVA layout, built offline like the demo text models.

LLaVA is the layout whose processor works without torchvision (its CLIP image processor has a Pillow
backend and it has no video processor), so the whole image path runs on a plain CPU install. The text
half matches the demo chat model; the vision half is a CLIP encoder on 56x56 images in 14-pixel patches,
so every image becomes (56 / 14)^2 = 16 `<image>` tokens in the prompt."""

from __future__ import annotations

import copy
from pathlib import Path

from genserve.demo.text import tiny_text_config

IMAGE_TOKEN = "<image>"
IMAGE_SIZE, PATCH_SIZE = 56, 14


def build_vlm(target: Path, tokenizer, chat_template: str) -> None:
    """Save a LLaVA model and its processor into `target`, loadable with AutoProcessor and
    AutoModelForImageTextToText.

    `tokenizer` is not modified (the demo shares one between checkpoints): a copy gains the `<image>`
    token. `chat_template` must write `<image>` for each `{"type": "image"}` content item."""
    import torch
    from transformers import (
        CLIPImageProcessorPil,
        CLIPVisionConfig,
        GenerationConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
    )

    tokenizer = copy.deepcopy(tokenizer)
    tokenizer.add_tokens([IMAGE_TOKEN], special_tokens=True)  # special: never split, skipped in replies
    tokenizer.chat_template = chat_template
    torch.manual_seed(2)
    text = tiny_text_config(tokenizer)
    vision = CLIPVisionConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=IMAGE_SIZE,
        patch_size=PATCH_SIZE,
    )
    config = LlavaConfig(
        vision_config=vision,
        text_config=text,
        image_token_index=tokenizer.convert_tokens_to_ids(IMAGE_TOKEN),
        # "default" drops CLIP's class token: one prompt token per patch.
        vision_feature_select_strategy="default",
        tie_word_embeddings=True,
    )
    model = LlavaForConditionalGeneration(config)
    model.generation_config = GenerationConfig(eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    model.save_pretrained(target)
    image_processor = CLIPImageProcessorPil(
        size={"shortest_edge": IMAGE_SIZE}, crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE}
    )
    processor = LlavaProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        patch_size=PATCH_SIZE,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,  # the class token the encoder adds (and "default" drops again)
        chat_template=chat_template,
    )
    processor.save_pretrained(target)
