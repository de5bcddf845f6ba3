"""Writes a GGUF file from a Hugging Face Qwen2/Qwen3 checkpoint, for tests and benchmarks of the llama.cpp engine.

It covers the checkpoints this project builds itself (`genserve demo-models`: byte-level BPE tokenizer, safetensors
weights) without torch or transformers. Real hub checkpoints are better converted with llama.cpp's own
`convert_hf_to_gguf.py`, which knows every architecture and tokenizer."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np

# HF architecture -> llama.cpp architecture. Both use NEOX rope, so no q/k permutation is needed (LLaMA would).
_ARCHITECTURES = {"Qwen3ForCausalLM": "qwen3", "Qwen2ForCausalLM": "qwen2"}
_SAFETENSORS_DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16}


def write_gguf(hf_dir: Path, out: Path, dtype: str = "f16") -> Path:
    """Convert `hf_dir` into the GGUF file `out`. dtype: f32, f16, bf16 or q8_0 (norms and 1-D tensors stay f32)."""
    import gguf

    qtypes = {
        "f32": (gguf.GGMLQuantizationType.F32, gguf.LlamaFileType.ALL_F32),
        "f16": (gguf.GGMLQuantizationType.F16, gguf.LlamaFileType.MOSTLY_F16),
        "bf16": (gguf.GGMLQuantizationType.BF16, gguf.LlamaFileType.MOSTLY_BF16),
        "q8_0": (gguf.GGMLQuantizationType.Q8_0, gguf.LlamaFileType.MOSTLY_Q8_0),
    }
    if dtype not in qtypes:
        raise ValueError(f"dtype must be one of {', '.join(qtypes)}, not {dtype!r}")
    qtype, file_type = qtypes[dtype]
    hf_dir = Path(hf_dir)
    config = json.loads((hf_dir / "config.json").read_text())
    arch = next((_ARCHITECTURES[a] for a in config.get("architectures", []) if a in _ARCHITECTURES), None)
    if arch is None:
        raise ValueError(
            f"{hf_dir}: architectures {config.get('architectures')} are not supported; use convert_hf_to_gguf.py"
        )

    out.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(out), arch)
    writer.add_name(hf_dir.name)
    _add_hyperparameters(writer, config, file_type)
    _add_vocabulary(writer, hf_dir, config["vocab_size"])
    if qtype == gguf.GGMLQuantizationType.Q8_0:
        writer.add_quantization_version(gguf.GGML_QUANT_VERSION)

    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH[arch.upper()], config["num_hidden_layers"])
    for hf_name, data in _read_safetensors(hf_dir):
        name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if name is None:
            raise ValueError(f"{hf_dir}: no GGUF name for tensor {hf_name}")
        if name == "output.weight" and config.get("tie_word_embeddings"):
            continue  # llama.cpp falls back to token_embd.weight
        tensor_type = qtype
        # llama.cpp expects norms and 1-D tensors in f32; Q8_0 needs rows that are whole 32-value blocks.
        if data.ndim <= 1 or name.endswith("_norm.weight"):
            tensor_type = gguf.GGMLQuantizationType.F32
        elif tensor_type == gguf.GGMLQuantizationType.Q8_0 and data.shape[-1] % 32:
            tensor_type = gguf.GGMLQuantizationType.F16
        writer.add_tensor(name, gguf.quants.quantize(data, tensor_type), raw_dtype=tensor_type)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out


def _add_hyperparameters(writer, config: dict, file_type: int) -> None:
    rope = config.get("rope_parameters") or {}
    head_dim = config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]
    writer.add_context_length(config.get("max_position_embeddings", 4096))
    writer.add_embedding_length(config["hidden_size"])
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(config["num_attention_heads"])
    writer.add_head_count_kv(config.get("num_key_value_heads", config["num_attention_heads"]))
    writer.add_key_length(head_dim)
    writer.add_value_length(head_dim)
    writer.add_rope_freq_base(float(rope.get("rope_theta", config.get("rope_theta", 10000.0))))
    writer.add_layer_norm_rms_eps(config.get("rms_norm_eps", 1e-6))
    writer.add_file_type(file_type)


def _add_vocabulary(writer, hf_dir: Path, vocab_size: int) -> None:
    import gguf

    tokenizer = json.loads((hf_dir / "tokenizer.json").read_text())
    pre = tokenizer.get("pre_tokenizer") or {}
    if tokenizer["model"]["type"] != "BPE" or pre.get("type") != "ByteLevel" or not pre.get("use_regex", True):
        raise ValueError(f"{hf_dir}: only plain byte-level BPE tokenizers are supported; use convert_hf_to_gguf.py")
    tokens = [f"[PAD{i}]" for i in range(vocab_size)]
    types = [gguf.TokenType.UNUSED] * vocab_size
    for token, i in tokenizer["model"]["vocab"].items():
        tokens[i], types[i] = token, gguf.TokenType.NORMAL
    for added in tokenizer.get("added_tokens", []):
        tokens[added["id"]] = added["content"]
        types[added["id"]] = gguf.TokenType.CONTROL if added["special"] else gguf.TokenType.USER_DEFINED
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("gpt-2")  # the GPT-2 split regex, which is what ByteLevel(use_regex=True) applies
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    # Merges, bos/eos/pad ids, add_bos and the chat template (chat_template.jinja or tokenizer_config.json).
    gguf.SpecialVocab(hf_dir, load_merges=True, n_vocab=vocab_size).add_to_gguf(writer)


def _read_safetensors(hf_dir: Path) -> Iterator[tuple[str, np.ndarray]]:
    """(name, float32 array) for every tensor, read directly (numpy has no bfloat16, so those are widened here)."""
    files = sorted(hf_dir.glob("*.safetensors"))
    if not files:
        raise ValueError(f"{hf_dir}: no *.safetensors weights")
    for file in files:
        with file.open("rb") as f:
            (header_len,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(header_len))
            base = 8 + header_len
        raw = np.memmap(file, dtype=np.uint8, mode="r")
        for name, info in header.items():
            if name == "__metadata__":
                continue
            if info["dtype"] not in _SAFETENSORS_DTYPES:
                raise ValueError(f"{file}: tensor {name} has unsupported dtype {info['dtype']}")
            start, end = info["data_offsets"]
            data = raw[base + start : base + end].view(_SAFETENSORS_DTYPES[info["dtype"]]).reshape(info["shape"])
            if info["dtype"] == "BF16":
                data = (data.astype(np.uint32) << 16).view(np.float32)
            yield name, data.astype(np.float32)
