"""The TOML catalog: entries, aliases, server settings, clear errors."""

import pytest

from genserve.core.catalog import Catalog, ModelEntry, load_catalog_file
from genserve.errors import NotFound


def test_catalog_file_with_aliases_and_server_table(tmp_path):
    (tmp_path / "weights").mkdir()
    path = tmp_path / "genserve.toml"
    path.write_text(
        """
[server]
port = 9000
api_keys = ["k1"]

[[models]]
name = "qwen3-4b"
engine = "transformers"
path = "weights"
aliases = ["gemini-2.5-flash"]
input_token_limit = 32768

[models.options]
dtype = "bfloat16"
"""
    )
    catalog, server = load_catalog_file(path)
    entry = catalog.get("models/gemini-2.5-flash")
    assert entry.name == "qwen3-4b" and entry.task == "text"
    assert entry.path == str((tmp_path / "weights").resolve())  # relative to the catalog file
    assert entry.options == {"dtype": "bfloat16"} and entry.input_token_limit == 32768
    assert server == {"port": 9000, "api_keys": ["k1"]}


def test_unknown_engine_and_typos_are_reported(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[[models]]\nname = "a"\nengine = "nope"\npath = "x"\n')
    with pytest.raises(ValueError, match="unknown engine 'nope'"):
        load_catalog_file(path)
    path.write_text('[[models]]\nname = "a"\nengine = "transformers"\npath = "x"\ninput_limit = 3\n')
    with pytest.raises(ValueError, match="input_limit"):
        load_catalog_file(path)


def test_duplicate_names_are_refused_and_unknown_names_are_not_found():
    a = ModelEntry(name="a", engine="transformers", path="x", aliases=["b"])
    with pytest.raises(ValueError, match="'b' is used twice"):
        Catalog([a, ModelEntry(name="b", engine="transformers", path="y")])
    with pytest.raises(NotFound):
        Catalog([a]).get("c")
