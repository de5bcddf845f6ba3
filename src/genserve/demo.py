"""Tiny random checkpoints in the standard Hugging Face layout, built offline, and the demo catalog.

Nothing is downloaded: the tokenizer is a real byte-level BPE trained on the Python standard library's
own source, the models are randomly initialised, and everything is saved with `save_pretrained` so the
server loads it through the same `from_pretrained` path as a real checkpoint. The output is random text."""

from __future__ import annotations

import json
import sysconfig
from pathlib import Path

from genserve.core.catalog import Catalog, ModelEntry
from genserve.demo_image import build_sd_pipeline
from genserve.demo_video import build_ltx_pipeline, build_stable_audio_pipeline
from genserve.demo_vlm import build_vlm

DEMO_VERSION = "4"
CHAT_DIR, VISION_DIR, EMBEDDING_DIR, IMAGE_DIR = "chat", "vision", "embedding", "image"
VIDEO_DIR, AUDIO_DIR = "video", "audio"

# ChatML as Qwen3-style instruct models write it, with their conventions for tools (declarations as JSON in
# the system turn, calls in <tool_call> tags, results in <tool_response> tags), reasoning (the reply opens
# with <think>; with enable_thinking false the thought is given empty) and image placeholders.
CHAT_TEMPLATE = (
    "{%- macro content(c) -%}"
    "{%- if c is string -%}{{ c }}{%- else -%}"
    "{%- for item in c -%}{%- if item.type == 'text' -%}{{ item.text }}"
    "{%- elif item.type == 'image' -%}<image>{%- endif -%}{%- endfor -%}"
    "{%- endif -%}"
    "{%- endmacro -%}"
    "{%- if tools or messages[0].role == 'system' -%}"
    "<|im_start|>system\n"
    "{%- if messages[0].role == 'system' -%}{{ content(messages[0].content) }}{%- endif -%}"
    "{%- if tools -%}"
    "{%- if messages[0].role == 'system' -%}{{ '\n\n' }}{%- endif -%}"
    "# Tools\n\nYou may call one or more functions. The function signatures are in <tools></tools>:\n<tools>"
    "{%- for tool in tools -%}\n{{ tool | tojson }}{%- endfor -%}"
    "\n</tools>\n\nFor each call, return a JSON object with the function name and arguments in "
    '<tool_call></tool_call> tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}'
    "\n</tool_call>"
    "{%- endif -%}"
    "<|im_end|>\n"
    "{%- endif -%}"
    "{%- for message in messages -%}"
    "{%- if message.role == 'tool' -%}"
    "{%- if loop.first or loop.previtem.role != 'tool' -%}<|im_start|>user{%- endif -%}"
    "\n<tool_response>\n{{ message.content }}\n</tool_response>"
    "{%- if loop.last or loop.nextitem.role != 'tool' -%}<|im_end|>\n{%- endif -%}"
    "{%- elif message.role != 'system' or not loop.first -%}"
    "<|im_start|>{{ message.role }}\n{{ content(message.content) }}"
    "{%- for call in message.tool_calls or [] -%}"
    "{%- if loop.first and message.content -%}{{ '\n' }}{%- endif -%}"
    "<tool_call>\n{{ {'name': call.function.name, 'arguments': call.function.arguments} | tojson }}\n</tool_call>"
    "{%- endfor -%}"
    "{%- if not (loop.last and continue_final_message) -%}<|im_end|>\n{%- endif -%}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}<|im_start|>assistant\n"
    "{%- if enable_thinking is defined and not enable_thinking -%}<think>\n\n</think>\n\n"
    "{%- else -%}<think>\n{%- endif -%}"
    "{%- endif -%}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
# Ordinary (not special) added tokens, as in Qwen3: they survive decoding, so replies can be parsed.
TAG_TOKENS = ["<think>", "</think>", "<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>"]

# Google's documented names, so code copied from the docs runs unchanged against the demo.
CHAT_ALIASES = ["gemini-2.0-flash-lite", "gemini-1.5-flash", "gemini-1.5-pro"]
VISION_ALIASES = ["gemini-2.0-flash", "gemini-2.0-flash-001"]
THINKING_ALIASES = [
    "gemini-2.5-flash",
    "gemini-2.5-flash-lite",
    "gemini-flash-latest",
    "gemini-flash-lite-latest",
    "gemini-3-flash-preview",
    # The names Gemini CLI 0.61 routes between (docs/gemini-cli.md), so it runs against the demo as installed.
    "gemini-3.5-flash-lite",
    "gemini-3.8-flash",
]
THINKING_PRO_ALIASES = [
    "gemini-2.5-pro",
    "gemini-pro-latest",
    "gemini-3-pro-preview",
    "gemini-3.1-pro-preview",
    "gemini-3.1-pro-preview-customtools",
]
EMBEDDING_ALIASES = ["gemini-embedding-001", "text-embedding-004", "embedding-001"]
IMAGEN_ALIASES = [
    "imagen-3.0-generate-002",
    "imagen-3.0-generate-001",
    "imagen-3.0-fast-generate-001",
    "imagen-4.0-generate-preview-06-06",
    "imagen-4.0-generate-001",
    "imagen-4.0-fast-generate-001",
    "imagen-3.0-capability-001",  # edit_image (Vertex)
    "imagen-4.0-upscale-preview",  # upscale_image (Vertex)
]
# Veo 2: silent, image-to-video (and a last frame), 16:9 or 9:16, 5 to 8 seconds.
VEO2_ALIASES = ["veo-2.0-generate-001", "veo-2.0-generate-exp"]
# Veo 3: audio always on, 16:9, 8 seconds, 720p or 1080p; 3.0 takes a prompt only, 3.1 an image too.
VEO3_ALIASES = ["veo-3.0-generate-preview", "veo-3.0-generate-001", "veo-3.0-fast-generate-001"]
VEO31_ALIASES = ["veo-3.1-generate-preview", "veo-3.1-fast-generate-preview"]
IMAGEN_ULTRA_ALIASES = ["imagen-4.0-ultra-generate-preview-06-06", "imagen-4.0-ultra-generate-001"]
# Gemini-native image output; the first model family cannot answer with images alone, the second can.
IMAGE_CHAT_ALIASES = ["gemini-2.0-flash-preview-image-generation", "gemini-2.0-flash-exp-image-generation"]
IMAGE_CHAT_ONLY_ALIASES = ["gemini-2.5-flash-image", "gemini-2.5-flash-image-preview", "gemini-3-pro-image-preview"]


def _training_text(limit_bytes: int = 3_000_000) -> list[str]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    texts, total = [], 0
    for path in sorted(stdlib.glob("*.py")):
        text = path.read_text(encoding="utf-8", errors="ignore")
        texts.append(text)
        total += len(text)
        if total > limit_bytes:
            break
    return texts


def build_tokenizer(vocab_size: int = 2048):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    bpe.train_from_iterator(_training_text(), trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        padding_side="left",
        additional_special_tokens=["<|im_start|>"],
    )
    tokenizer.add_tokens(TAG_TOKENS)
    return tokenizer


def tiny_text_config(tokenizer):
    """The demo's language model: Qwen3 layout, 2 layers of width 64 (the vision model's text side too)."""
    from transformers import Qwen3Config

    return Qwen3Config(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
        max_position_embeddings=8192,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )


def build_chat_model(target: Path, tokenizer) -> None:
    import torch
    from transformers import GenerationConfig, Qwen3ForCausalLM

    torch.manual_seed(0)
    model = Qwen3ForCausalLM(tiny_text_config(tokenizer))
    model.generation_config = GenerationConfig(eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    model.save_pretrained(target)
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(target)


def build_embedding_model(target: Path, tokenizer) -> None:
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(1)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=128,
        max_position_embeddings=512,
        pad_token_id=tokenizer.pad_token_id,
    )
    BertModel(config).save_pretrained(target)
    tokenizer.save_pretrained(target)
    # Declare mean pooling the way sentence-transformers checkpoints do.
    (target / "1_Pooling").mkdir(exist_ok=True)
    (target / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_mean_tokens": True}))


def write_demo_models(target: Path) -> Path:
    """Build the demo checkpoints into `target` unless this version is already there."""
    marker = target / "genserve-demo.json"
    if marker.exists() and json.loads(marker.read_text()).get("version") == DEMO_VERSION:
        return target
    target.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer()
    build_chat_model(target / CHAT_DIR, tokenizer)
    build_vlm(target / VISION_DIR, tokenizer, CHAT_TEMPLATE)
    build_embedding_model(target / EMBEDDING_DIR, tokenizer)
    build_sd_pipeline(target / IMAGE_DIR)
    build_ltx_pipeline(target / VIDEO_DIR)
    build_stable_audio_pipeline(target / AUDIO_DIR)
    marker.write_text(json.dumps({"version": DEMO_VERSION}))
    return target


def demo_catalog(models_dir: Path) -> Catalog:
    chat = {
        "input_token_limit": 6144,
        "output_token_limit": 1024,
        "function_calling": True,
        "structured_output": True,
        "options": {"dtype": "float32"},
    }
    vision = {**chat, "engine": "transformers-vision", "path": str(models_dir / VISION_DIR)}
    vision["input_modalities"] = ["text", "image"]
    # A random model rarely closes its thought by itself: a small default budget leaves room for an answer.
    thinking = {"thinking": True, "default_thinking_budget": 32, "max_thinking_budget": 24576}
    # Imagen's documented sizes at 1/8 (1:1 is 128x128) and two denoising steps: a request takes well under a second.
    imagen = {
        "engine": "diffusers",
        "path": str(models_dir / IMAGE_DIR),
        "input_token_limit": 480,
        "output_token_limit": 1,
        "image_scale": 0.125,
        "input_modalities": ["text", "image"],
        "output_modalities": ["image"],
        "options": {"steps": 2, "dtype": "float32"},
    }
    # Veo's sizes at 1/8 (720p 16:9 is 160x90), 24 fps, two denoising steps: an 8 s clip renders in about a second.
    veo = {
        "engine": "diffusers-video",
        "path": str(models_dir / VIDEO_DIR),
        "input_token_limit": 1024,
        "output_token_limit": 1,
        "video_scale": 0.125,
        "max_sample_count": 2,
        "default_sample_count": 1,
        "input_modalities": ["text", "image"],
        "output_modalities": ["video"],
        "options": {"steps": 2, "dtype": "float32"},
    }
    veo3 = {**veo, "audio": "always", "audio_model": "genserve-demo-audio", "video_durations": [8]}
    veo3["output_modalities"] = ["video", "audio"]
    # The vision model plans text and pictures (short passages: its output is random); the Imagen model draws.
    image_chat = {
        **vision,
        "output_modalities": ["text", "image"],
        "image_model": "genserve-demo-imagen",
        "options": {**chat["options"], "image_plan": {"max_images": 3, "text_chars": 80, "image_chars": 60}},
    }
    return Catalog(
        [
            ModelEntry(
                name="genserve-demo-chat",
                engine="transformers",
                path=str(models_dir / CHAT_DIR),
                aliases=CHAT_ALIASES,
                display_name="genserve demo chat (random weights)",
                description="A tiny randomly initialised Qwen3-architecture model: proves the path, answers gibberish.",
                **chat,
            ),
            ModelEntry(
                name="genserve-demo-vision",
                aliases=VISION_ALIASES,
                display_name="genserve demo vision (random weights)",
                description="A tiny randomly initialised LLaVA-architecture model that reads images.",
                **vision,
            ),
            ModelEntry(
                name="genserve-demo-thinking",
                aliases=THINKING_ALIASES,
                display_name="genserve demo thinking (random weights)",
                description="The demo vision model as a reasoning model: thoughts in <think> tags, a thinking budget.",
                **vision,
                **thinking,
            ),
            ModelEntry(
                name="genserve-demo-thinking-pro",
                aliases=THINKING_PRO_ALIASES,
                display_name="genserve demo thinking, always on (random weights)",
                description="As genserve-demo-thinking, but thinking cannot be turned off (budget 128 to 32768).",
                **vision,
                **{
                    **thinking,
                    "min_thinking_budget": 128,
                    "default_thinking_budget": 128,
                    "max_thinking_budget": 32768,
                },
            ),
            ModelEntry(
                name="genserve-demo-imagen",
                aliases=IMAGEN_ALIASES,
                display_name="genserve demo Imagen (random weights)",
                description="A tiny randomly initialised Stable Diffusion pipeline: draws noise at Imagen's sizes / 8.",
                **imagen,
            ),
            ModelEntry(
                name="genserve-demo-imagen-ultra",
                aliases=IMAGEN_ULTRA_ALIASES,
                display_name="genserve demo Imagen Ultra (random weights)",
                description="The demo Imagen model as a single-image tier.",
                max_sample_count=1,
                default_sample_count=1,
                **imagen,
            ),
            ModelEntry(
                name="genserve-demo-image-chat",
                aliases=IMAGE_CHAT_ALIASES,
                display_name="genserve demo image generation (random weights)",
                description="Answers with text and images: the demo vision model plans, the demo Imagen model draws.",
                **image_chat,
            ),
            ModelEntry(
                name="genserve-demo-image-chat-only",
                aliases=IMAGE_CHAT_ONLY_ALIASES,
                display_name="genserve demo image generation, image-only allowed (random weights)",
                description="As genserve-demo-image-chat, and responseModalities may be IMAGE alone.",
                image_only_output=True,
                **image_chat,
            ),
            ModelEntry(
                name="genserve-demo-veo2",
                aliases=VEO2_ALIASES,
                display_name="genserve demo Veo 2 (random weights)",
                description="A tiny randomly initialised LTX-Video pipeline: silent noise videos, image-to-video.",
                video_inputs=["image", "lastFrame"],
                **veo,
            ),
            ModelEntry(
                name="genserve-demo-veo3",
                aliases=VEO3_ALIASES,
                display_name="genserve demo Veo 3 (random weights)",
                description="The demo video model with a soundtrack from the demo audio model, always.",
                video_aspect_ratios=["16:9"],
                video_resolutions=["720p", "1080p"],
                default_video_duration=8,
                **veo3,
            ),
            ModelEntry(
                name="genserve-demo-veo31",
                aliases=VEO31_ALIASES,
                display_name="genserve demo Veo 3.1 (random weights)",
                description="As genserve-demo-veo3, and an image can be the first frame (and a last frame).",
                video_resolutions=["720p", "1080p"],
                default_video_duration=8,
                video_inputs=["image", "lastFrame"],
                **veo3,
            ),
            ModelEntry(
                name="genserve-demo-audio",
                engine="diffusers-audio",
                path=str(models_dir / AUDIO_DIR),
                display_name="genserve demo audio (random weights)",
                description="A tiny randomly initialised Stable Audio pipeline: the Veo 3 models' soundtracks (noise).",
                output_modalities=["audio"],
                options={"steps": 2, "dtype": "float32"},
            ),
            ModelEntry(
                name="genserve-demo-embedding",
                engine="transformers-embedding",
                path=str(models_dir / EMBEDDING_DIR),
                aliases=EMBEDDING_ALIASES,
                display_name="genserve demo embedding (random weights)",
                description="A tiny randomly initialised BERT encoder with mean pooling.",
                input_token_limit=512,
                output_token_limit=1,
                options={"dtype": "float32"},
            ),
        ]
    )
