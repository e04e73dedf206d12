"""Every example spec in examples/ validates, and the README's demo runs end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
SPECS = sorted((ROOT / "examples").glob("*.toml"))


def medmgen(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "medmgen.cli", *args], capture_output=True, text=True, timeout=600,
                          cwd=ROOT)


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_example_spec_validates(spec):
    out = medmgen("validate", str(spec))
    assert out.returncode == 0, out.stderr


def test_readme_opens_with_the_two_commands():
    lines = [line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("python3.11 -m venv")]
    assert len(lines) == 2
    assert lines[0].endswith("medmgen generate examples/retail.toml -o out/retail")
    assert "requirements-dev.txt" in lines[1] and lines[1].endswith("python -m pytest")
    assert lines[1].split(" && ")[-1] in (ROOT / ".ci" / "run").read_text()


def test_demo_spec_generates_and_its_ledger_holds(tmp_path):
    out = medmgen("generate", "examples/retail.toml", "-o", str(tmp_path / "retail"), "--set",
                  "blocks.baskets.records=20000")
    assert out.returncode == 0, out.stderr
    ledger = json.loads((tmp_path / "retail" / "ledger.json").read_text())
    lines = (tmp_path / "retail" / "data" / "baskets.txt").read_text().splitlines()
    baskets = [set(map(int, line.split())) for line in lines]
    for p in ledger["patterns"]:
        if p["kind"] == "itemset":
            count = sum(set(p["items"]) <= b for b in baskets)
            assert count / len(baskets) == p["realized_support"]


def test_loading_every_plugin_stays_cheap():
    """Style rule 9: heavy libraries are imported inside methods, never at plugin load."""
    code = ("import sys; from medmgen.plugins import load_registry; r = load_registry(); "
            "print(len(r.plugins), sorted(m for m in ('sklearn', 'scipy.stats', 'torch', 'matplotlib.pyplot') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    count, heavy = out.stdout.split(" ", 1)
    assert int(count) >= 6, out.stdout + out.stderr
    assert heavy.strip() == "[]"
