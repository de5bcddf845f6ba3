"""The rings of docs/architecture.md, read from every module's imports: a violation fails here, not in review.

An import inside a function (or under `if TYPE_CHECKING:`) is lazy: it runs only when that code does, so a module
may name a heavy optional library that way without making it a requirement of everything that imports the module.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import genserve

SRC = Path(genserve.__file__).parent

WEB = {"fastapi", "starlette", "uvicorn", "httptools", "uvloop"}
ML = {
    "torch", "transformers", "diffusers", "accelerate", "safetensors", "tokenizers", "llama_cpp", "llguidance",
    "xgrammar", "gguf",
}  # fmt: skip
PICTURES = {"PIL", "av", "pillow_heif", "cv2"}
STORAGE = {"sqlalchemy", "alembic"}

# Which other genserve packages each ring may import (errors.py is open to all).
# The root modules (app.py, composition.py, operation_worker.py) and cli/ compose everything and may import any.
INNER: dict[str, set[str]] = {
    "schemas": set(),
    "media": set(),
    "constrain": {"core"},
    "core": {"media"},
    "convert": {"schemas", "core", "constrain", "media"},
    "storage": {"core"},
    "provenance": {"media"},
    "engines": {"core", "constrain", "media"},
    "demo": {"core"},
    "api": {"schemas", "convert", "core", "settings"},
}


@dataclass(frozen=True)
class Import:
    module: Path
    name: str  # the imported module, absolute
    lazy: bool  # inside a function or under TYPE_CHECKING

    @property
    def top(self) -> str:
        return self.name.split(".")[0]

    @property
    def ring(self) -> str:
        """The genserve package this import names ("" for outside genserve)."""
        parts = self.name.split(".")
        return parts[1] if parts[0] == "genserve" and len(parts) > 1 else ""

    def __str__(self) -> str:
        return f"{self.module.relative_to(SRC.parent)} imports {self.name}{' (lazily)' if self.lazy else ''}"


def imports(path: Path) -> list[Import]:
    found: list[Import] = []

    def visit(node: ast.AST, lazy: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = lazy or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                inner = True
            if isinstance(child, ast.Import):
                found.extend(Import(path, alias.name, lazy) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                found.append(Import(path, child.module, lazy))
            visit(child, inner)

    visit(ast.parse(path.read_text(), str(path)), False)
    return found


def ring_of(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


ALL = [i for path in sorted(SRC.rglob("*.py")) for i in imports(path)]


def assert_none(rule: Callable[[str, Import], bool]) -> None:
    found = [str(i) for i in ALL if rule(ring_of(i.module), i)]
    assert not found, "ring violations:\n" + "\n".join(found)


def test_the_walk_sees_imports_at_every_depth():
    found = {(i.name, i.lazy) for i in imports(SRC / "cli" / "serve.py")}
    assert ("uvicorn", True) in found and ("genserve.settings", False) in found


def test_only_api_and_the_root_import_a_web_framework():
    # cli/serve.py starts uvicorn, lazily: the other commands (verify, demo-models) need no web stack.
    allowed = {"api", "app"}
    assert_none(lambda ring, i: i.top in WEB and ring not in allowed and not (ring == "cli" and i.lazy))


def test_only_engines_import_the_ml_libraries():
    # demo/ builds the tiny checkpoints the engines load: writing a model takes the libraries that read it.
    assert_none(lambda ring, i: i.top in ML and ring not in {"engines", "demo"})


def test_pictures_and_video_libraries_stay_in_media_provenance_and_engines_or_load_lazily():
    assert_none(
        lambda ring, i: i.top in PICTURES and ring not in {"media", "provenance", "engines", "demo"} and not i.lazy
    )


def test_core_holds_no_wire_schema_storage_web_or_engine():
    banned = {"schemas", "storage", "api", "convert", "engines", "provenance", "app", "composition"}
    assert_none(lambda ring, i: ring == "core" and (i.ring in banned or i.top in WEB | ML | STORAGE))


def test_imports_point_inward():
    def outward(ring: str, i: Import) -> bool:
        if ring not in INNER or not i.ring or i.ring in {ring, "errors"}:
            return False
        return i.ring not in INNER[ring]

    assert_none(outward)


def test_storage_libraries_stay_in_storage_and_the_root():
    assert_none(lambda ring, i: i.top in STORAGE and ring not in {"storage", "composition"})


def test_the_operation_worker_loads_no_web_framework():
    """The worker process builds its services from composition.py: importing it must not load FastAPI & co."""
    code = "import sys, genserve.operation_worker; print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(done.stdout.split())
    assert "genserve" in loaded and not loaded & WEB
