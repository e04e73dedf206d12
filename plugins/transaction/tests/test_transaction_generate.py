"""End to end: generate packages, then check the ledger with independent miners and counts."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import fim
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from mlxtend.frequent_patterns import fpgrowth
from mlxtend.preprocessing import TransactionEncoder

import medmgen
from medmgen.cli import main
from medmgen.package import verify_package
from medmgen_transaction.kinds import Itemset, Rule


def default_design(records: int = 20_000, **extra: Any) -> dict[str, Any]:
    block = {
        "modality": "transaction", "records": records, "items": 1_000, "chunk": 4_096,
        "itemsets": [{"items": [3, 17, 42], "support": 0.02}, {"items": [3, 17], "support": 0.025}],
        "random_itemsets": {"count": 30, "size": [2, 5], "support": [0.005, 0.03]},
        "rules": [{"antecedent": [5, 6], "consequent": [9], "support": 0.01, "confidence": 0.6}],
    }
    return {"dataset": {"name": "t", "seed": 11}, "blocks": {"baskets": block | extra}}


def read_txt(path: Path) -> list[list[int]]:
    return [[int(x) for x in line.split()] for line in path.read_text().splitlines()]


def planted_sets(ledger: list[Any]) -> list[frozenset[int]]:
    out = []
    for p in ledger:
        out.append(frozenset(p.items) if isinstance(p, Itemset) else frozenset(p.antecedent + p.consequent))
    return out


def digest(directory: Path) -> dict[str, str]:
    names = ["ledger.json", "spec.toml", *(f"data/{p.name}" for p in sorted((directory / "data").iterdir()))]
    return {n: hashlib.sha256((directory / n).read_bytes()).hexdigest() for n in names}


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> tuple[medmgen.Dataset, list[list[int]]]:
    out = tmp_path_factory.mktemp("pkg") / "retail"
    ds = medmgen.generate(default_design(), out=out)
    return ds, read_txt(out / "data" / "baskets.txt")


def test_default_design_meets_its_thresholds_without_accidental_itemsets(package: Any) -> None:
    ds, db = package
    assert ds.passed
    assert len(db) == 20_000
    assert ds.ledger.accidental == []
    metrics = ds.report["metrics"]["blocks"]["baskets"]
    assert metrics["accidental_search_complete"] is True
    assert metrics["accidental_search_sweeps"] == 0  # pairs counted in the generator's own sweep
    for p in ds.ledger.patterns:
        assert p.deviation() <= (0.001 if isinstance(p, Itemset) else 0.01)


def test_fpgrowth_finds_every_planted_set_at_its_realized_support(package: Any) -> None:
    ds, db = package
    n = len(db)
    min_count = math.floor(min(p.target_support for p in ds.ledger.patterns) * n * 0.8)
    mined = {frozenset(s): c for s, c in fim.fpgrowth(db, target="s", supp=-min_count, zmin=2, report="a")}
    for p in ds.ledger.patterns:
        if isinstance(p, Itemset):
            assert mined[frozenset(p.items)] == round(p.realized_support * n)
        else:
            both = mined[frozenset(p.antecedent + p.consequent)]
            assert both == round(p.realized_support * n)
            head = sum(set(p.antecedent) <= set(t) for t in db)
            assert p.realized_confidence == both / head


def test_maximal_itemsets_at_smallest_target_are_planted(package: Any) -> None:
    ds, db = package
    min_count = math.ceil(min(p.target_support for p in ds.ledger.patterns) * len(db) - 1e-9)
    maximal = [frozenset(s) for s, _ in fim.fpgrowth(db, target="m", supp=-min_count, zmin=2, report="a")]
    planted = planted_sets(ds.ledger.patterns)
    hits = [m for m in maximal if any(m <= p for p in planted)]
    precision = len(hits) / len(maximal)
    assert maximal and precision == 1.0


def test_mlxtend_fpgrowth_agrees_on_a_small_block(tmp_path: Path) -> None:
    spec = default_design(records=3_000)
    spec["blocks"]["baskets"] |= {"items": 200, "random_itemsets": {"count": 5, "size": [2, 3],
                                                                   "support": [0.05, 0.1]}}
    ds = medmgen.generate(spec, out=tmp_path / "p")
    db = read_txt(tmp_path / "p" / "data" / "baskets.txt")
    enc = TransactionEncoder()
    frame = pd.DataFrame(enc.fit(db).transform(db), columns=enc.columns_)
    found = fpgrowth(frame, min_support=0.009, use_colnames=True)
    support = {frozenset(s): v for s, v in zip(found["itemsets"], found["support"], strict=True)}
    for p in ds.ledger.patterns:
        items = p.items if isinstance(p, Itemset) else p.antecedent + p.consequent
        assert support[frozenset(items)] == pytest.approx(p.realized_support, abs=1e-12)


def test_parquet_holds_the_same_transactions_as_the_text(package: Any) -> None:
    ds, db = package
    table = pq.read_table(ds.path / "data" / "baskets.parquet")
    kind = table.schema.field("items").type
    assert pa.types.is_list(kind) and kind.value_type == pa.int32()
    assert table.column("items").to_pylist() == db
    assert all(t == sorted(set(t)) and t for t in db)


def test_same_seed_same_bytes_whatever_the_workers(tmp_path: Path) -> None:
    spec = default_design(records=6_000, chunk=1_000, timestamps={"start": 100, "mean_gap": 2.5},
                          utility={"profit": [1, 9], "quantity": [1, 3]},
                          high_utility=[{"items": [600, 601], "support": 0.01, "quantity": 7}])
    runs = {}
    for name, workers in (("a", 1), ("b", 1), ("c", 2)):
        medmgen.generate(spec, out=tmp_path / name, workers=workers)
        runs[name] = digest(tmp_path / name)
    assert runs["a"] == runs["b"] == runs["c"]
    # the files were hashed as they were written ahead; the manifest holds what is on disk
    assert verify_package(tmp_path / "a", json.loads((tmp_path / "a" / "manifest.json").read_text())) == []
    medmgen.generate(spec, out=tmp_path / "d", seed=12)
    assert digest(tmp_path / "d")["data/baskets.txt"] != runs["a"]["data/baskets.txt"]


def test_timestamps_are_poisson_arrivals(tmp_path: Path) -> None:
    spec = default_design(records=8_000, chunk=1_000, timestamps={"start": 1_000, "mean_gap": 4.0})
    ds = medmgen.generate(spec, out=tmp_path / "p")
    ts = np.asarray(ds.table("baskets").column("timestamp").to_numpy())
    assert ts.dtype == np.int64 and ts[0] >= 1_000
    gaps = np.diff(ts)
    assert (gaps >= 0).all()
    assert abs((ts[-1] - 1_000) / len(ts) - 4.0) < 0.2


def test_feedback_needs_several_passes_on_heavy_overlap(tmp_path: Path) -> None:
    spec = {"dataset": {"seed": 5}, "blocks": {"b": {
        "modality": "transaction", "records": 2_000, "items": 200, "chunk": 512,
        "itemsets": [{"items": [1, 2], "support": 0.3}, {"items": [1, 2, 3], "support": 0.2},
                     {"items": [2, 3, 4], "support": 0.15}],
        "random_itemsets": {"count": 10, "size": [2, 4], "support": [0.02, 0.1], "overlap": 0.5}}}}
    ds = medmgen.generate(spec, out=tmp_path / "p")
    iterations = json.loads((tmp_path / "p" / "report.json").read_text())["iterations"]
    assert len(iterations) > 1
    assert iterations[0]["max_deviation"]["support"] > 0.001
    assert iterations[-1]["held"] and ds.passed
    assert iterations[-1]["max_deviation"]["support"] <= 0.001


def test_independent_generator_plants_nothing(tmp_path: Path) -> None:
    spec = default_design(records=5_000, generator="independent")
    ds = medmgen.generate(spec, out=tmp_path / "p")
    db = read_txt(tmp_path / "p" / "data" / "baskets.txt")
    assert {p.status for p in ds.ledger.patterns} <= {"weakened", "destroyed"}
    for p in ds.ledger.patterns:
        items = set(p.items if isinstance(p, Itemset) else p.antecedent + p.consequent)
        assert p.realized_support == sum(items <= set(t) for t in db) / len(db)
    assert not ds.passed


def test_accidental_itemsets_match_an_independent_miner(tmp_path: Path) -> None:
    spec = default_design(records=4_000, items=60, popularity={"distribution": "zipf", "exponent": 1.0},
                          random_itemsets={"count": 3, "size": [2, 4], "support": [0.04, 0.06]})
    spec["blocks"]["baskets"]["itemsets"] = [{"items": [3, 17, 42], "support": 0.05}]
    spec["blocks"]["baskets"]["rules"] = []
    ds = medmgen.generate(spec, out=tmp_path / "p")
    db = read_txt(tmp_path / "p" / "data" / "baskets.txt")
    min_count = math.ceil(min(p.target_support for p in ds.ledger.patterns) * len(db) - 1e-9)
    planted = planted_sets(ds.ledger.patterns)
    expected = {frozenset(s): c for s, c in fim.fpgrowth(db, target="s", supp=-min_count, zmin=2, report="a")
                if not any(frozenset(s) <= p for p in planted)}
    got = {frozenset(a.items): round(a.realized_support * len(db)) for a in ds.ledger.accidental}
    assert expected and got == expected
    assert all(a.target_support == 0.0 and isinstance(a, Itemset) for a in ds.ledger.accidental)


def test_source_file_supplies_records_items_and_background(tmp_path: Path) -> None:
    real = tmp_path / "real.dat"
    rng = np.random.default_rng(0)
    lines = [" ".join(map(str, sorted(rng.choice(np.arange(1, 51), rng.integers(1, 8), replace=False))))
             for _ in range(700)]
    real.write_text("\n".join(lines) + "\n")
    spec = {"dataset": {"seed": 1}, "blocks": {"b": {"modality": "transaction", "source": str(real),
                                                     "itemsets": [{"items": [1, 2], "support": 0.1}]}}}
    ds = medmgen.generate(spec, out=tmp_path / "p")
    db = read_txt(tmp_path / "p" / "data" / "b.txt")
    assert len(db) == 700 and max(max(t) for t in db) <= 50
    assert ds.report["metrics"]["blocks"]["b"]["items"] == max(int(x) for ln in lines for x in ln.split())
    assert isinstance(ds.ledger.patterns[0], Itemset) and not isinstance(ds.ledger.patterns[0], Rule)


class CsrChunks:
    """An in-memory database as consecutive chunks of ``size`` transactions."""

    def __init__(self, db: list[list[int]], size: int) -> None:
        self.parts = [db[i:i + size] for i in range(0, len(db), size)]

    def scan(self, fn: Any) -> Any:
        from medmgen_transaction.chunks import Chunk

        for part in self.parts:
            offsets = np.zeros(len(part) + 1, dtype=np.int64)
            offsets[1:] = np.cumsum([len(t) for t in part])
            yield fn(Chunk(offsets=offsets, items=np.array([i for t in part for i in t], dtype=np.int32)))


@pytest.mark.parametrize(("chunk", "precounted"), [(800, None), (97, None), (97, [1, 2, 3, 5]), (250, "all")])
def test_miner_matches_pyfim_outside_planted_sets(chunk: int, precounted: Any) -> None:
    from medmgen_transaction.counting import PairCounter, mine_unplanted

    rng = np.random.default_rng(3)
    db = [sorted(rng.choice(np.arange(1, 16), size=rng.integers(1, 9), replace=False).tolist()) for _ in range(800)]
    chunks = CsrChunks(db, chunk)
    counts = np.bincount([i for t in db for i in t], minlength=16)
    pairs = None
    if precounted is not None:
        ids = np.arange(1, 16) if precounted == "all" else np.array(precounted)
        counter = PairCounter.of(ids, 15)
        pairs = (counter, np.sum(list(chunks.scan(counter.count)), axis=0))
    planted = [frozenset({1, 2, 3, 4}), frozenset({5, 6})]
    mined = mine_unplanted(chunks, len(db), 15, counts, 0.06, planted, pairs)
    expected = {frozenset(s): c for s, c in fim.fpgrowth(db, target="s", supp=-mined.min_count, zmin=2, report="a")
                if not any(frozenset(s) <= p for p in planted)}
    assert mined.complete and len(expected) > 20
    assert {frozenset(s): c for s, c in mined.found} == expected


def test_single_item_antecedents_reach_high_confidence_at_low_support(tmp_path: Path) -> None:
    """The background alone would put id 150 in ~2% of baskets (confidence <= 0.5 for a 2% rule);
    antecedent ids are kept out of the background, so the confidence is planted exactly."""
    rules = [{"antecedent": [150], "consequent": [151, 152], "support": 0.02, "confidence": 0.8},
             {"antecedent": [7], "consequent": [8], "support": 0.005, "confidence": 0.9}]
    spec = {"dataset": {"seed": 77}, "blocks": {"hu": {
        "modality": "transaction", "records": 20_000, "items": 300, "length": {"distribution": "poisson", "mean": 6.0},
        "rules": rules, "random_itemsets": {"count": 10, "size": [2, 4], "support": [0.005, 0.04]}}}}
    ds = medmgen.generate(spec, out=tmp_path / "p")
    db = [set(t) for t in read_txt(tmp_path / "p" / "data" / "hu.txt")]
    assert ds.passed
    for rule, p in zip(rules, [q for q in ds.ledger.patterns if isinstance(q, Rule)], strict=True):
        head = sum(set(rule["antecedent"]) <= t for t in db)
        both = sum(set(rule["antecedent"] + rule["consequent"]) <= t for t in db)
        assert abs(both / len(db) - rule["support"]) <= 0.001
        assert abs(both / head - rule["confidence"]) <= 0.01
        assert p.realized_confidence == both / head


def test_rule_support_is_steered_where_the_background_often_draws_the_consequent(tmp_path: Path) -> None:
    """20 ids, 5 a basket: the background puts the consequent in about a quarter of the
    antecedent-only baskets, which the model only estimates. The support of A ∪ C is judged
    (``max_support_deviation``) and steered like the confidence, so both end within tolerance."""
    rules = [{"antecedent": [1], "consequent": [2], "support": 0.05, "confidence": 0.3},
             {"antecedent": [3, 4], "consequent": [5], "support": 0.04, "confidence": 0.8}]
    spec = {"dataset": {"seed": 1}, "blocks": {"r": {
        "modality": "transaction", "records": 20_000, "items": 20, "length": {"distribution": "poisson", "mean": 5.0},
        "rules": rules}}}
    ds = medmgen.generate(spec, out=tmp_path / "p")
    db = [set(t) for t in read_txt(tmp_path / "p" / "data" / "r.txt")]
    assert ds.passed
    assert "max_support_deviation" in ds.report["metrics"]["spec_error"]
    support_curve = [it["max_deviation"]["support"] for it in ds.report["iterations"]]
    assert support_curve[0] > 0.001 >= support_curve[-1]  # the first pass misses: the loop corrects the support
    for rule, p in zip(rules, [q for q in ds.ledger.patterns if isinstance(q, Rule)], strict=True):
        head = sum(set(rule["antecedent"]) <= t for t in db)
        both = sum(set(rule["antecedent"] + rule["consequent"]) <= t for t in db)
        assert p.realized_support == both / len(db) and p.realized_confidence == both / head
        assert abs(both / len(db) - rule["support"]) <= 0.001
        assert abs(both / head - rule["confidence"]) <= 0.01
        assert p.status == "kept"


def test_a_block_of_planted_ids_only_has_no_background_distance(tmp_path: Path) -> None:
    """Every basket is exactly the planted pair: no unplanted id occurs, so the background's
    item distance is undefined; it is null in report.json (JSON has no NaN), not a crash."""
    spec = {"dataset": {"seed": 1}, "blocks": {"pairs": {
        "modality": "transaction", "records": 200, "items": 10,
        "length": {"distribution": "empirical", "values": [2], "weights": [1]},
        "itemsets": [{"items": [1, 2], "support": 1.0}]}}}
    ds = medmgen.generate(spec, out=tmp_path / "p")
    report = json.loads((tmp_path / "p" / "report.json").read_text())
    assert report["metrics"]["transaction_intended"]["blocks"]["pairs"]["item_tvd_unplanted"] is None
    assert report["metrics"]["transaction_intended"]["item_tvd_unplanted"] is None
    assert read_txt(tmp_path / "p" / "data" / "pairs.txt") == [[1, 2]] * 200
    assert ds.passed


def test_the_terminal_summary_says_when_the_accidental_search_gave_up(tmp_path: Path, capsys) -> None:
    """6,000 ids at a 0.1% smallest target: more frequent ids than the miner takes on. The list
    is empty because the search stopped, and the summary says so (not just "0 accidental")."""
    spec = tmp_path / "s.toml"
    spec.write_text('[dataset]\nseed = 1\n[blocks.k]\nmodality = "transaction"\nrecords = 20000\nitems = 6000\n'
                    '[[blocks.k.itemsets]]\nitems = [1, 2]\nsupport = 0.001\n')
    assert main(["generate", str(spec), "-o", str(tmp_path / "p")]) == 0
    out = capsys.readouterr().out
    assert "accidental search incomplete in k" in out
    report = json.loads((tmp_path / "p" / "report.json").read_text())
    assert report["metrics"]["blocks"]["k"]["accidental_search_complete"] is False
