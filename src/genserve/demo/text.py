"""The demo's text side: a byte-level BPE tokenizer trained offline, the chat template, and the chat and
embedding checkpoints.

The tokenizer learns its merges from the Python standard library's own source, so nothing is downloaded; the
models are randomly initialised from a fixed seed and saved with `save_pretrained`, so the server loads them
through the same `from_pretrained` path as a real checkpoint."""

from __future__ import annotations

import json
import sysconfig
from pathlib import Path


def chatml_template(default_system: str) -> str:
    """ChatML as SmolLM2 and Qwen-style instruct models read it, with the Hermes conventions for tools (declarations
    as JSON in the system turn, calls in <tool_call> tags, results in <tool_response> tags). `default_system` is the
    system turn of a conversation that brings none (as the model was trained). No tag strips whitespace, and a
    newline right after a tag is written as an expression: transformers renders templates with trim_blocks, which
    would drop it."""
    return (
        "{% macro content(c) %}"
        "{% if c is string %}{{ c }}{% else %}"
        "{% for item in c %}{% if item.type == 'text' %}{{ item.text }}{% endif %}{% endfor %}"
        "{% endif %}"
        "{% endmacro %}"
        "<|im_start|>system\n"
        "{% if messages[0].role == 'system' %}{{ content(messages[0].content) }}"
        f"{{% else %}}{default_system}{{% endif %}}"
        "{% if tools %}"
        "{{ '\\n\\n' }}# Tools\n\nYou may call one or more functions. "
        "The function signatures are in <tools></tools>:\n<tools>"
        "{% for tool in tools %}{{ '\\n' }}{{ tool | tojson }}{% endfor %}"
        "{{ '\\n' }}</tools>\n\nFor each call, return a JSON object with the function name and arguments in "
        '<tool_call></tool_call> tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}'
        "\n</tool_call>"
        "{% endif %}"
        "<|im_end|>\n"
        "{% for message in messages %}"
        "{% if message.role == 'tool' %}"
        "{% if loop.first or loop.previtem.role != 'tool' %}<|im_start|>user{% endif %}"
        "{{ '\\n' }}<tool_response>\n{{ message.content }}\n</tool_response>"
        "{% if loop.last or loop.nextitem.role != 'tool' %}<|im_end|>\n{% endif %}"
        "{% elif message.role != 'system' or not loop.first %}"
        "<|im_start|>{{ message.role }}\n{{ content(message.content) }}"
        "{% for call in message.tool_calls or [] %}"
        "{% if loop.first and message.content %}{{ '\\n' }}{% endif %}"
        "<tool_call>\n{{ {'name': call.function.name, 'arguments': call.function.arguments} | tojson }}"
        "\n</tool_call>"
        "{% endfor %}"
        "{% if not (loop.last and continue_final_message) %}<|im_end|>\n{% endif %}"
        "{% endif %}"
        "{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )


# The demo's template: ChatML as Qwen3-style instruct models write it, with their conventions for tools
# (declarations as JSON in the system turn, calls in <tool_call> tags, results in <tool_response> tags),
# reasoning (the reply opens with <think>; with enable_thinking false the thought is given empty) and image
# placeholders.
# Its tags strip the newlines around them (a random model reads it the same either way; the demo's checkpoints
# and the tests' expectations were built on it). Real models get chatml_template()'s exact ChatML.
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
