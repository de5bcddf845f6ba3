"""Vision-language models with Hugging Face transformers: images in the prompt, text out.

Everything after prompt preparation is the text engine's: the processor's extra inputs (pixel values)
ride along to generate(). The continuous batcher has no place for them, so every request takes the
plain generate() path (`supports_batching = False`)."""

from __future__ import annotations

from typing import Any

import torch
from transformers import AutoModelForImageTextToText, AutoProcessor

from genserve.core.types import Media, TextRequest
from genserve.engines.hf_transformers import PreparedPrompt, TransformersTextEngine
from genserve.errors import Internal, InvalidArgument
from genserve.media.images import MAX_PIXELS, decode_image

# Processor outputs the text engine builds itself from PreparedPrompt.ids.
_TEXT_INPUTS = frozenset({"input_ids", "attention_mask"})


class TransformersVisionEngine(TransformersTextEngine):
    supports_batching = False

    def __init__(self, path: str, options: dict[str, Any]) -> None:
        # Catalog option: the largest image (in pixels) decoded for this model.
        self._max_pixels = int(options.get("max_image_pixels", MAX_PIXELS))
        super().__init__(path, options)

    def _load(self, path: str, model_kwargs: dict[str, Any]) -> None:
        self.processor = AutoProcessor.from_pretrained(path)
        self.tokenizer = self.processor.tokenizer
        if not self.tokenizer.chat_template and getattr(self.processor, "chat_template", None):
            self.tokenizer.chat_template = self.processor.chat_template  # prompt_text() renders with the tokenizer
        self.model = AutoModelForImageTextToText.from_pretrained(path, **model_kwargs).eval()
        # What the chat template writes per image: Gemma-style processors expand a begin-of-image marker,
        # LLaVA/Qwen-style ones the image token itself.
        self._placeholder: str = getattr(self.processor, "boi_token", None) or self.processor.image_token
        self._image_token_id: int = _image_token_id(self.processor, self.model.config)

    def prepare(self, request: TextRequest) -> PreparedPrompt:
        self._refuse_placeholders(request)
        located = [
            (f"contents[{i}].parts[{j}]", part)
            for i, turn in enumerate(request.prompt.turns)
            for j, part in enumerate(turn.parts)
            if isinstance(part, Media)
        ]
        if not located:
            return super().prepare(request)
        images = [self._image(part, where) for where, part in located]
        text = self.prompt_text(request)
        if text.count(self._placeholder) != len(images):
            # A checkpoint problem, not the client's: its template drops {"type": "image"} items.
            raise Internal(
                f"The model's chat template wrote {text.count(self._placeholder)} '{self._placeholder}' "
                f"placeholders for {len(images)} images; it must write one per image content item."
            )
        encoded = self.processor(
            text=text, images=images, return_tensors="pt", add_special_tokens=not self.tokenizer.chat_template
        )
        ids: list[int] = encoded["input_ids"][0].tolist()
        image_tokens = ids.count(self._image_token_id)
        return PreparedPrompt(
            ids,
            model_inputs={k: self._on_model(v) for k, v in encoded.items() if k not in _TEXT_INPUTS},
            modality_tokens={"TEXT": len(ids) - image_tokens, "IMAGE": image_tokens},
            in_thought=text.rstrip().endswith(self.format.think_open),
        )

    def _image(self, media: Media, where: str) -> Any:
        # The API refuses other modalities from catalog data first; this guards direct engine use.
        if media.modality != "image":
            raise InvalidArgument(f"{where}: this model accepts images only, not {media.mime_type}.")
        return decode_image(media.data, media.mime_type, where, max_pixels=self._max_pixels)

    def _refuse_placeholders(self, request: TextRequest) -> None:
        """Text holding the image placeholder would be read as an image slot with no image behind it,
        which fails inside generate(); it is the client's text, so it gets a 400 instead."""
        markers = {m for m in (self._placeholder, self.processor.image_token) if m}
        prompt = request.prompt
        texts = [prompt.system or ""] + [p for t in prompt.turns for p in t.parts if isinstance(p, str)]
        for marker in markers:
            if any(marker in text for text in texts):
                raise InvalidArgument(
                    f"The prompt text contains '{marker}', this model's image placeholder; "
                    "send images as inlineData or fileData parts and remove the placeholder from the text."
                )

    def _on_model(self, value: Any) -> Any:
        if not isinstance(value, torch.Tensor):
            return value
        if value.is_floating_point():
            return value.to(device=self.device, dtype=self.model.dtype)
        return value.to(self.device)


def _image_token_id(processor: Any, config: Any) -> int:
    """The id the model swaps for image features (newer configs call it image_token_id, older ones index)."""
    for value in (getattr(config, "image_token_id", None), getattr(config, "image_token_index", None)):
        if value is not None:
            return int(value)
    return int(processor.tokenizer.convert_tokens_to_ids(processor.image_token))
