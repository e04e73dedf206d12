"""Helpers shared by the core's tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


TOY_SPEC = """
[dataset]
name = "toy"
seed = 11

[blocks.flags]
modality = "toy"
records = 2000
rates = [0.25, 0.1]
"""


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The real ``medmgen`` command in a subprocess (exit codes, stderr, no traceback)."""
    return subprocess.run([sys.executable, "-m", "medmgen.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)
