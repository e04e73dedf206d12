"""Test setup of the sequence plugin: one thread, helpers importable by name."""

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def registry():
    """A fresh registry per test, loaded from the installed entry points."""
    from medmgen.plugins import load_registry

    return load_registry()
