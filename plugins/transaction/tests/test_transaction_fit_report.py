"""transaction_fit for blocks with a ``source``: in generate and evaluate, checked by plain counts and pyfim."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import fim
import numpy as np
import pytest

import medmgen
from medmgen import cli

SUPPORTS = (0.05, 0.02, 0.01, 0.005)


def read(path: Path, shift: int = 0) -> list[list[int]]:
    """FIMI lines as sorted distinct ids plus ``shift``, written apart from the plugin's reader."""
    return [sorted({int(t) + shift for t in line.split()}) for line in path.read_text().splitlines()]


def tvd(a: Counter, b: Counter) -> float:
    na, nb = sum(a.values()), sum(b.values())
    return 0.5 * sum(abs(a[key] / na - b[key] / nb) for key in set(a) | set(b))


def reference(real: list[list[int]], synthetic: list[list[int]]) -> dict[str, float]:
    """Every metric of one block: TVDs by counting, frequent itemsets (every size) by pyfim."""
    out = {"item_tvd": tvd(Counter(i for r in real for i in r), Counter(i for r in synthetic for i in r)),
           "length_tvd": tvd(Counter(map(len, real)), Counter(map(len, synthetic)))}
    for name, db in (("real", real), ("synthetic", synthetic)):
        for s in SUPPORTS:
            need = max(1, math.ceil(s * len(db) - 1e-9))
            out[f"frequent_itemsets@{s:g}.{name}"] = len(fim.fpgrowth(db, target="s", supp=-need, zmin=1))
    return out


def random_file(path: Path, seed: int, n: int, items: int, first_id: int = 1) -> Path:
    """Skewed baskets with two co-occurring groups (so itemsets of several sizes are frequent)."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, items + 1)
    lines = []
    for _ in range(n):
        row = {int(i) for i in rng.choice(items, int(rng.integers(1, 7)), p=weights / weights.sum())}
        for group in ((3, 4, 5), (7, 8)):
            if rng.random() < 0.15:
                row.update(group)
        lines.append(" ".join(str(i + first_id) for i in sorted(row)))
    path.write_text("\n".join(lines) + "\n")
    return path


def metrics_of(block: str, metrics: dict) -> dict:
    return {key[len(block) + 1:]: value for key, value in metrics.items() if key.startswith(block + ".")}


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """Block ``f`` fitted to a 0-based file (ids shifted to 1..) by a relative ``source``; ``p`` plain."""
    (tmp_path / "spec" / "in").mkdir(parents=True)
    random_file(tmp_path / "spec" / "in" / "real.dat", 1, 800, 30, first_id=0)
    (tmp_path / "spec" / "s.toml").write_text(
        '[dataset]\nseed = 4\n[blocks.f]\nmodality = "transaction"\nsource = "in/real.dat"\nrecords = 1000\n'
        '[blocks.p]\nmodality = "transaction"\nrecords = 500\nitems = 40\n')
    assert cli.main(["-q", "generate", str(tmp_path / "spec" / "s.toml"), "-o", str(tmp_path / "pkg")]) == 0
    return tmp_path / "pkg"


def test_generate_compares_a_source_block_with_its_file(package: Path, tmp_path: Path) -> None:
    report = json.loads((package / "report.json").read_text())["metrics"]
    got = report["transaction_fit"]
    want = reference(read(tmp_path / "spec" / "in" / "real.dat", shift=1), read(package / "data" / "f.txt"))
    assert metrics_of("f", got) == pytest.approx(want, abs=1e-12)
    assert want["item_tvd"] < 0.1 and want["frequent_itemsets@0.005.real"] > want["frequent_itemsets@0.05.real"]
    assert not metrics_of("p", got)  # no source and no --against: nothing to compare with
    assert report["transaction_intended"]["blocks"]["f"]["skipped"].endswith("(see transaction_fit)")


def test_evaluate_finds_the_source_from_anywhere(package: Path, capsys, monkeypatch) -> None:
    first = json.loads((package / "report.json").read_text())["metrics"]["transaction_fit"]
    monkeypatch.chdir(package / "data")
    capsys.readouterr()
    assert cli.main(["-q", "evaluate", str(package), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["metrics"]["transaction_fit"] == first


def test_against_stands_for_every_block(package: Path, tmp_path: Path, capsys) -> None:
    other = random_file(tmp_path / "other.dat", 2, 400, 40)
    capsys.readouterr()
    assert cli.main(["-q", "evaluate", str(package), "--against", str(other), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)["metrics"]["transaction_fit"]
    for block in ("f", "p"):
        assert metrics_of(block, got) == pytest.approx(reference(read(other), read(package / "data" / f"{block}.txt")),
                                                       abs=1e-12)
    # A table is the tabular evaluators' reference; this package has none, so nothing takes it:
    # an input error naming the file and the option, not metrics that silently ignore it.
    (tmp_path / "t.csv").write_text("a\n1\n")
    assert cli.main(["-q", "evaluate", str(package), "--against", str(tmp_path / "t.csv"), "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"{tmp_path / 't.csv'}:--against: no evaluator compares")
    assert "got 'blocks of modality transaction'" in err


def test_a_missing_source_at_evaluate_is_an_input_error(package: Path, tmp_path: Path, capsys) -> None:
    (tmp_path / "spec" / "in" / "real.dat").unlink()
    assert cli.main(["-q", "evaluate", str(package)]) == 2
    err = capsys.readouterr().err
    assert "real.dat" in err and "compare block 'f'" in err and "blocks.f.source" in err


def test_report_is_deterministic(package: Path, tmp_path: Path) -> None:
    again = medmgen.generate(tmp_path / "spec" / "s.toml", out=tmp_path / "again", workers=2)
    first = json.loads((package / "report.json").read_text())["metrics"]["transaction_fit"]
    assert again.report["metrics"]["transaction_fit"] == first
    for name in ("manifest.json", "data/f.txt", "data/p.txt"):  # the manifest hashes report.json too
        assert (package / name).read_bytes() == (tmp_path / "again" / name).read_bytes(), name
