"""Fixtures shared by the tabular plugin's tests."""

from __future__ import annotations

import pytest

import medmgen.builtins
import medmgen_tabular.plugin
from medmgen.plugins import Registry, load_registry


@pytest.fixture(scope="module")
def registry() -> Registry:
    """A fresh registry of the core and this plugin only (no other installed plugin)."""
    return load_registry(entry_points=False, extra=[("core", medmgen.builtins), ("tabular", medmgen_tabular.plugin)])
