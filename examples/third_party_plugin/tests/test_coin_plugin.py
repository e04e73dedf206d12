"""The example third-party plugin, installed like any user's: found, validated, generated, compared."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

SPEC = Path(__file__).parents[1] / "coin.toml"


def medmgen(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "medmgen.cli", *args], capture_output=True, text=True, timeout=300)


def test_listed_by_medmgen_plugins():
    listed = {p["name"]: p for p in json.loads(medmgen("plugins", "--json").stdout)}
    coin = listed["coin"]
    assert coin["ok"] and coin["distribution"] == "medmgen-coin"
    assert coin["registers"] == {"ledger_kinds": ["heads_rate"], "generators": ["coin/biased"]}


def test_its_section_validates_with_key_paths():
    out = medmgen("validate", str(SPEC), "--set", "blocks.flips.heads=2", "--set", "blocks.flips.record=5")
    assert out.returncode == 2
    assert f"{SPEC}:blocks.flips.heads: out of range (expected > 0 and <= 1, got 2.0)" in out.stderr
    assert f"{SPEC}:blocks.flips.record: unknown key" in out.stderr


def test_generate_plants_the_exact_rate(tmp_path):
    out = medmgen("generate", str(SPEC), "-o", str(tmp_path / "pkg"))
    assert out.returncode == 0, out.stderr
    heads = pq.read_table(tmp_path / "pkg" / "data" / "flips.parquet").column("heads").to_numpy()
    ledger = json.loads((tmp_path / "pkg" / "ledger.json").read_text())
    assert ledger["patterns"][0]["realized_support"] == heads.mean() == 0.3


def test_compare_uses_it(tmp_path):
    out = medmgen("compare", str(SPEC), "--generators", "biased", "-o", str(tmp_path / "cmp"))
    assert out.returncode == 0, out.stderr
    assert "| biased | True |" in (tmp_path / "cmp" / "compare.md").read_text()
