"""End to end: the ledger is the truth of the written files, recovered by independent tools."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import sequence_reference as ref
from prefixspan import PrefixSpan

import medmgen
from medmgen.package import verify_package


def spec(records: int = 10_000, items: int = 200, **block) -> dict:
    base = {
        "modality": "sequence", "records": records, "items": items, "chunk": 4096,
        "itemsets": {"distribution": "poisson", "mean": 6.0},
        "itemset_size": {"distribution": "poisson", "mean": 2.0},
        "sequential_patterns": [
            {"sequence": [[5], [8, 9], [2]], "support": 0.02, "max_gap": 3},
            {"sequence": [[11, 12], [13]], "support": 0.015, "min_gap": 2, "max_gap": 4},
            {"sequence": [[21], [22], [23], [24]], "support": 0.01, "min_gap": 1},
        ],
        "random_sequential_patterns": {"count": 3, "length": [2, 3], "itemset_size": [1, 2],
                                       "support": [0.005, 0.02], "max_gap": 5},
    }
    base.update(block)
    return {"dataset": {"name": "t", "seed": 11}, "blocks": {"clicks": base}}


def sequences(path: Path) -> list[list[list[int]]]:
    return pq.read_table(path / "data" / "clicks.parquet").column("itemsets").to_pylist()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("planted") / "pkg"
    medmgen.generate(spec(), out=out)
    return out


def test_realized_supports_are_exact_and_on_target(planted):
    db = sequences(planted)
    ledger = json.loads((planted / "ledger.json").read_text())
    report = json.loads((planted / "report.json").read_text())
    assert len(db) == 10_000
    assert len(ledger["patterns"]) == 6
    for p in ledger["patterns"]:
        count = ref.support_count(db, p["sequence"], p["min_gap"], p["max_gap"])
        assert p["realized_support"] == count / len(db)
        assert abs(p["realized_support"] - p["target_support"]) <= 0.001
        assert p["status"] == "kept"
    assert report["passed"]


def test_spmf_file_matches_parquet(planted):
    db = sequences(planted)
    assert (planted / "data" / "clicks.txt").read_text() == "".join(ref.spmf_line(seq) for seq in db)


def test_accidental_list_is_what_a_pair_count_finds(planted):
    db = sequences(planted)
    ledger = json.loads((planted / "ledger.json").read_text())
    need = math.ceil(min(p["target_support"] for p in ledger["patterns"]) * len(db) - 1e-9)
    implied = {(a, b) for p in ledger["patterns"] for i, s in enumerate(p["sequence"])
               for later in p["sequence"][i + 1:] for a in s for b in later}
    want = {pair: c for pair, c in ref.pair_counts(db).items() if c >= need and pair not in implied}
    got = {tuple(x[0] for x in p["sequence"]): p["realized_support"] * len(db) for p in ledger["accidental"]}
    assert got == pytest.approx(want)


def test_skewed_popularity_makes_accidental_patterns_visible(tmp_path):
    s = spec(records=2000, items=40, popularity={"distribution": "zipf", "exponent": 1.5},
             random_sequential_patterns={"count": 0})
    ds = medmgen.generate(s, out=tmp_path / "pkg")
    db = ds.table("clicks").column("itemsets").to_pylist()
    need = math.ceil(0.01 * len(db) - 1e-9)
    implied = {(5, 8), (5, 9), (5, 2), (8, 2), (9, 2), (11, 13), (12, 13), (21, 22), (21, 23), (21, 24), (22, 23),
               (22, 24), (23, 24)}
    want = {pair for pair, c in ref.pair_counts(db).items() if c >= need and pair not in implied}
    got = {tuple(x[0] for x in p.sequence) for p in ds.ledger.accidental}
    assert want and got == want
    assert ds.report["metrics"]["spec_error"]["accidental"] == len(want)
    assert medmgen.load(ds.path).ledger.accidental == ds.ledger.accidental


def test_prefixspan_recovers_planted_patterns_at_their_support(tmp_path):
    # prefixspan mines sequences of single items, so each sequence is flattened itemset
    # by itemset (items ascending). Planted items strictly decrease along each pattern,
    # so a flattened embedding can never take two items from one itemset: it exists
    # exactly when an itemset embedding does, and the counts must agree.
    planted_seqs = [[[11], [7], [3]], [[20], [4]], [[33], [32], [31], [30]]]
    s = spec(records=3000, items=1000,
             sequential_patterns=[{"sequence": p, "support": sup} for p, sup in zip(planted_seqs, [0.05, 0.03, 0.02])],
             random_sequential_patterns={"count": 0})
    ds = medmgen.generate(s, out=tmp_path / "pkg")
    db = [[x for itemset in seq for x in itemset] for seq in ds.table("clicks").column("itemsets").to_pylist()]
    minsup = round(0.02 * len(db)) - 5
    found = {tuple(pat): count for count, pat in PrefixSpan(db).frequent(minsup)}
    for p in ds.ledger.patterns:
        flat = tuple(x[0] for x in p.sequence)
        assert found[flat] == round(p.realized_support * len(db))
        assert abs(p.realized_support - p.target_support) <= 0.001
    planted_subs = set()
    for p in planted_seqs:
        flat = [x[0] for x in p]
        n = len(flat)
        planted_subs.update(tuple(flat[i] for i in range(n) if mask >> i & 1) for mask in range(1, 2**n))
    assert {pat for pat in found if len(pat) >= 2} <= planted_subs


def test_same_seed_same_bytes_whatever_workers_or_chunks(tmp_path):
    small = spec(records=9000, chunk=9000)  # one chunk of several PLANT_BLOCKs, then chunks of 97
    a = medmgen.generate(small, out=tmp_path / "a").path
    b = medmgen.generate(small, out=tmp_path / "b", workers=2).path
    assert (a / "manifest.json").read_text() == (b / "manifest.json").read_text()
    # the files were hashed as they were written ahead; the manifest holds what is on disk
    assert verify_package(a, json.loads((a / "manifest.json").read_text())) == []
    small["blocks"]["clicks"]["chunk"] = 97
    c = medmgen.generate(small, out=tmp_path / "c", workers=2).path
    for rel in ("data/clicks.txt", "data/clicks.parquet", "ledger.json"):
        assert digest(a / rel) == digest(c / rel), rel
    other = medmgen.generate(small, out=tmp_path / "d", seed=12).path
    assert digest(a / "data/clicks.txt") != digest(other / "data/clicks.txt")


def test_independent_generator_plants_nothing_but_counts_exactly(tmp_path):
    s = spec(records=3000)
    s["blocks"]["clicks"]["generator"] = "independent"
    ds = medmgen.generate(s, out=tmp_path / "pkg")
    db = ds.table("clicks").column("itemsets").to_pylist()
    assert ds.spec.blocks["clicks"].generator == "independent"
    for p in ds.ledger.patterns:
        assert p.planted == 0
        assert p.realized_support == ref.support_count(db, p.sequence, p.min_gap, p.max_gap) / len(db)
    assert not ds.passed
    assert len(ds.report["iterations"]) >= 1
