"""Timestamps with time windows, and support drift: counted exactly, per segment."""

from __future__ import annotations

import itertools
import json

import pyarrow.parquet as pq
import pytest
import sequence_reference as ref

import medmgen


def block(**extra) -> dict:
    base = {"modality": "sequence", "records": 10_000, "items": 300, "chunk": 3000,
            "itemsets": {"distribution": "poisson", "mean": 7.0},
            "itemset_size": {"distribution": "poisson", "mean": 2.0}}
    base.update(extra)
    return {"dataset": {"name": "t", "seed": 3}, "blocks": {"s": base}}


@pytest.mark.parametrize("timestamps", [{"kind": "regular", "interval": 2},
                                        {"kind": "poisson", "interval": 5},
                                        {"kind": "bursty", "burst": 3.0, "pause": 60}])
def test_windows_are_honoured_and_counted_exactly(tmp_path, timestamps):
    spec = block(timestamps=timestamps, sequential_patterns=[
        {"sequence": [[4], [9, 10], [2]], "support": 0.02, "max_window": 12},
        {"sequence": [[30], [31]], "support": 0.015, "max_gap": 2, "max_window": 6},
        {"sequence": [[50], [51], [52]], "support": 0.01},
    ])
    out = medmgen.generate(spec, out=tmp_path / "pkg").path
    table = pq.read_table(out / "data" / "s.parquet")
    db, times = table.column("itemsets").to_pylist(), table.column("timestamps").to_pylist()
    assert all(len(t) == len(s) and t[0] == 0 and t == sorted(t) for s, t in zip(db, times))
    assert (out / "data" / "s.timestamped.txt").read_text() == "".join(ref.spmf_line(s, t) for s, t in zip(db, times))
    assert (out / "data" / "s.txt").read_text() == "".join(ref.spmf_line(s) for s in db)
    ledger = json.loads((out / "ledger.json").read_text())
    for p in ledger["patterns"]:
        count = ref.support_count(db, p["sequence"], p["min_gap"], p["max_gap"], p["max_window"], times)
        assert p["realized_support"] == count / len(db)
        assert abs(p["realized_support"] - p["target_support"]) <= 0.001


@pytest.mark.parametrize(("drift", "target"), [
    ({"at": 4000, "support": 0.04}, 0.4 * 0.01 + 0.6 * 0.04),
    ({"at": 3000, "support": 0.03, "kind": "gradual", "width": 4000}, 0.3 * 0.01 + 0.4 * 0.02 + 0.3 * 0.03),
])
def test_drift_changes_support_where_asked(tmp_path, drift, target):
    spec = block(sequential_patterns=[
        {"sequence": [[7], [8], [9]], "support": 0.01, "max_gap": 4, "drift": drift},
        {"sequence": [[20, 21], [22]], "support": 0.02},
    ])
    ds = medmgen.generate(spec, out=tmp_path / "pkg")
    db = ds.table("s").column("itemsets").to_pylist()
    pattern = ds.ledger.patterns[0]
    assert pattern.target_support == pytest.approx(target)
    assert abs(pattern.realized_support - target) <= 0.001
    (record,) = [p for p in ds.ledger.patterns if p.kind == "drift"]
    assert (record.pattern, record.at, record.width, record.shape) == (
        pattern.id, drift["at"], drift.get("width", 0), drift.get("kind", "abrupt"))
    assert (record.target_before, record.target_after) == (0.01, drift["support"])
    at, end = drift["at"], drift["at"] + drift.get("width", 0)
    before = ref.support_count(db[:at], pattern.sequence, pattern.min_gap, pattern.max_gap)
    after = ref.support_count(db[end:], pattern.sequence, pattern.min_gap, pattern.max_gap)
    assert record.realized_before == before / at
    assert record.realized_after == after / (len(db) - end)
    assert abs(record.realized_before - 0.01) < 0.003
    assert abs(record.realized_after - drift["support"]) < 0.003
    if end > at:
        during = ref.support_count(db[at:end], pattern.sequence, pattern.min_gap, pattern.max_gap)
        assert record.realized_during == during / (end - at)
        assert abs(record.realized_during - (0.01 + drift["support"]) / 2) < 0.004
    else:
        assert record.realized_during is None
    reread = medmgen.load(ds.path)
    assert [p.id for p in reread.ledger.patterns] == [p.id for p in ds.ledger.patterns]


def test_drift_at_a_time_starts_at_the_first_later_sequence(tmp_path):
    spec = block(timestamps={"kind": "regular", "interval": 2, "arrival": 10}, sequential_patterns=[
        {"sequence": [[7], [8]], "support": 0.01, "drift": {"at_time": 50_000, "support": 0.03}},
    ])
    ds = medmgen.generate(spec, out=tmp_path / "pkg")
    table = ds.table("s")
    starts = [t[0] for t in table.column("timestamps").to_pylist()]
    assert starts[0] == 0 and all(b > a for a, b in itertools.pairwise(starts))
    assert abs(starts[-1] / (len(starts) - 1) - 10) < 0.5
    (record,) = [p for p in ds.ledger.patterns if p.kind == "drift"]
    assert record.at_time == 50_000
    assert starts[record.at - 1] < 50_000 <= starts[record.at]
    db = table.column("itemsets").to_pylist()
    p = ds.ledger.patterns[0]
    assert record.realized_after == ref.support_count(db[record.at:], p.sequence) / (len(db) - record.at)
    assert abs(record.realized_after - 0.03) < 0.003 and abs(record.realized_before - 0.01) < 0.003
