"""Plugin discovery: entry points, broken plugins reported by name, every hook documented."""

from __future__ import annotations

import json
import sys
import types

import pytest
from coretest import run_cli
from toy_plugin import Exact, Rate

from medmgen import builtins, hookimpl, hookspecs
from medmgen.errors import PluginError
from medmgen.plugins import load_registry


def plugin(**hooks):
    """A plugin object with the given hook functions (marked like a real plugin's)."""
    mod = types.ModuleType("p")
    for name, fn in hooks.items():
        setattr(mod, name, hookimpl(fn))
    return mod


def test_installed_plugins_are_found_through_entry_points(registry):
    names = {p.name: p for p in registry.plugins}
    assert names["core"].distribution == "medmgen"
    assert names["toy"].registers["generators"] == ["toy/exact", "toy/noisy", "toy/frozen"]
    assert ("toy", "noisy") in registry.generators
    assert registry.kinds["rate"] is Rate
    assert "toy_cap" in registry.repairers and "toy_noise" in registry.mechanisms
    assert "spec_error" in registry.evaluators
    assert {"dataset", "feedback", "privacy"} <= set(registry.sections)


def test_each_kind_of_broken_plugin_is_reported_and_skipped():
    class Other(Exact):
        name = "other"

    broken = [
        ("misspelt", plugin(medmgen_generator=lambda: [Other])),
        ("bad_signature", plugin(medmgen_generators=lambda verbose: [Other])),
        ("raises", plugin(medmgen_generators=lambda: 1 / 0)),
        ("not_a_class", plugin(medmgen_generators=lambda: ["nope"])),
        ("duplicate", plugin(medmgen_generators=lambda: [Exact])),
        ("good", plugin(medmgen_generators=lambda: [Other])),
    ]
    with pytest.warns(UserWarning, match="failed to load"):
        reg = load_registry([("core", builtins), ("toy", sys.modules["toy_plugin"]), *broken], entry_points=False)
    info = {p.name: p for p in reg.plugins}
    assert "unknown hook 'medmgen_generator'" in info["misspelt"].error
    assert "verbose" in info["bad_signature"].error
    assert "ZeroDivisionError" in info["raises"].error
    assert "expected a Generator" in info["not_a_class"].error
    assert "already registered" in info["duplicate"].error
    assert info["good"].ok and ("toy", "other") in reg.generators
    with pytest.raises(PluginError, match="raises"):
        load_registry([("core", builtins), ("raises", broken[2][1])], entry_points=False, strict=True)


def test_a_plugin_that_fails_to_import_is_listed_by_the_cli(tmp_path, monkeypatch, toy_spec):
    info = tmp_path / "medmgen_broken-0.2.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: medmgen-broken\nVersion: 0.2\n")
    (info / "entry_points.txt").write_text("[medmgen]\nbroken = broken_plugin_mod\n")
    (tmp_path / "broken_plugin_mod.py").write_text("raise ImportError('needs a missing library')\n")
    monkeypatch.setenv("PYTHONPATH", f"{tmp_path}:{__import__('os').environ['PYTHONPATH']}")
    out = run_cli("plugins", "--json")
    assert out.returncode == 0, out.stderr
    listed = {p["name"]: p for p in json.loads(out.stdout)}
    assert listed["broken"]["ok"] is False
    assert listed["broken"]["distribution"] == "medmgen-broken"
    assert "needs a missing library" in listed["broken"]["error"]
    assert listed["toy"]["ok"] is True
    text = run_cli("plugins")
    assert "broken (medmgen-broken 0.2): FAILED: ImportError: needs a missing library" in text.stdout
    strict = run_cli("--strict", "validate", "nothing.toml")
    assert strict.returncode == 2 and "broken" in strict.stderr
    lenient = run_cli("validate", str(toy_spec))  # a warning is one plain line, not Python's file:line form
    assert lenient.returncode == 0
    assert lenient.stderr.startswith("warning: medmgen: plugins failed to load and were skipped: broken")
    assert "plugins.py" not in lenient.stderr and "warnings.warn" not in lenient.stderr


def test_plugin_filter_env_var(monkeypatch):
    monkeypatch.setenv("MEDMGEN_PLUGINS", "nothing-else")
    reg = load_registry()
    assert [p.name for p in reg.plugins] == ["core"]


@pytest.mark.parametrize("hook", hookspecs.HOOKS)
def test_every_hook_is_documented(hook):
    doc = getattr(hookspecs, hook).__doc__
    assert ":return:" in doc and "Since" in doc and "Called" in doc
    with open(__import__("pathlib").Path(__file__).parents[2] / "docs" / "plugins.md") as f:
        assert hook in f.read(), f"{hook} missing from docs/plugins.md"
