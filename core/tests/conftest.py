"""Core test fixtures: the toy plugin installed through a real entry point."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))  # for coretest.py, the shared helpers

from coretest import TOY_SPEC, write  # noqa: E402


def _install_toy(site: Path) -> None:
    """A dist-info with an entry point, exactly what pip leaves behind for a plugin."""
    if site.exists():
        shutil.rmtree(site)
    info = site / "medmgen_toy-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: medmgen-toy\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[medmgen]\ntoy = toy_plugin\n")
    shutil.copy(HERE / "toy_plugin.py", site / "toy_plugin.py")


# Installed at import so test modules can import the toy plugin's classes too.
SITE = Path(tempfile.mkdtemp(prefix="medmgen-toy-site-"))
_install_toy(SITE)
sys.path.insert(0, str(SITE))
os.environ["PYTHONPATH"] = os.pathsep.join([str(SITE), os.environ.get("PYTHONPATH", "")])


def pytest_sessionfinish(session: pytest.Session) -> None:
    shutil.rmtree(SITE, ignore_errors=True)


@pytest.fixture
def registry():
    """A fresh registry per test, loaded from the installed entry points."""
    from medmgen.plugins import load_registry

    return load_registry()




@pytest.fixture
def toy_spec(tmp_path: Path) -> Path:
    return write(tmp_path / "toy.toml", TOY_SPEC)
