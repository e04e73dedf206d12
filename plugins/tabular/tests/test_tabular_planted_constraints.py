"""Constraints on ``planted`` blocks: every row complies and the ledger truth is counted again."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

import medmgen
import medmgen.builtins
from medmgen.errors import InputError


def planted(constraints, records=2000, **extra) -> dict:
    block = {"modality": "tabular", "generator": "planted", "records": records, "numeric": 4, "categorical": [4],
             "class_rules": [{"label": 1, "when": [{"column": "x3", "op": ">", "value": 0.5}]}],
             "clusters": {"count": 3, "columns": ["x0", "x1", "x2"]},
             "anomalies": {"rate": 0.02, "types": ["global", "collective"]},
             "constraints": constraints, **extra}
    return {"dataset": {"seed": 4}, "blocks": {"p": block}}


CONSTRAINTS = [
    {"kind": "range", "column": "x0", "low": -7, "high": 7},
    {"kind": "allowed_values", "column": "c0", "values": [0, 1, 2]},
    {"kind": "inequality", "left": "x3", "right": "x2", "action": "reject"},
]


@pytest.fixture(scope="module")
def run(registry):
    return medmgen.generate(planted(CONSTRAINTS), registry=registry)


def test_every_row_complies(run):
    df = run.to_pandas("p")
    assert len(df) == 2000
    assert df["x0"].between(-7, 7).all() and df["c0"].isin([0, 1, 2]).all() and (df["x3"] < df["x2"]).all()
    (report,) = run.report["metrics"]["blocks"]["p"]["repairs"]
    kinds = {s["kind"]: s for s in report["details"]["constraints"]}
    assert kinds["allowed_values"]["repaired"] > 0 and kinds["inequality"]["rejected"] > 0


def test_the_ledger_is_counted_from_the_repaired_table(run):
    df = run.to_pandas("p")
    by_kind = {}
    for p in run.ledger.patterns:
        by_kind.setdefault(p.kind, []).append(p)
    (rule,) = by_kind["class_rule"]
    hit = df.query(rule.rule)  # the rule text, evaluated by pandas
    assert rule.rows_covered == len(hit) and rule.realized_accuracy == pytest.approx((hit["label"] == 1).mean())
    touched = [p for p in by_kind["cluster"] + by_kind["anomaly"] if p.history]
    assert touched, "rejecting rows must cost some planted rows"
    for p in touched:
        assert p.status in ("weakened", "destroyed") and p.history[-1].stage == "repair"
        assert p.history[-1].after == len(p.rows)
    for c in by_kind["cluster"]:
        rows = df.iloc[c.rows]
        assert c.realized_size == pytest.approx(len(rows) / len(df))
        assert c.realized_centre == pytest.approx(rows[c.columns].mean().tolist())


def test_kmeans_still_recovers_the_surviving_cluster_rows(run):
    df = run.to_pandas("p")
    truth = np.full(len(df), -1)
    for p in run.ledger.patterns:
        if p.kind == "cluster":
            truth[p.rows] = p.cluster
    ok = truth >= 0
    assert ok.sum() > 0.3 * len(df)
    pred = KMeans(3, n_init=10, random_state=0).fit_predict(df.loc[ok, ["x0", "x1", "x2"]])
    assert adjusted_rand_score(truth[ok], pred) > 0.9


def test_a_repair_in_columns_no_pattern_uses_keeps_the_truth(registry):
    ds = medmgen.generate(planted([CONSTRAINTS[1]]), registry=registry)
    assert ds.to_pandas("p")["c0"].isin([0, 1, 2]).all()
    assert all(p.status == "kept" and not p.history for p in ds.ledger.patterns if p.kind != "class_rule")


def test_same_bytes_with_constraints(registry, tmp_path):
    digests = []
    for k in (1, 2):
        medmgen.generate(planted(CONSTRAINTS, records=3000, chunk_rows=1024), out=tmp_path / str(k),
                         registry=registry, workers=k)
        files = [tmp_path / str(k) / "data" / "p.parquet", tmp_path / str(k) / "ledger.json"]
        digests.append([hashlib.sha256(f.read_bytes()).hexdigest() for f in files])
    assert digests[0] == digests[1]


def test_bad_constraints_on_planted_blocks_are_spec_errors(registry, tmp_path):
    bad = [{"kind": "range", "column": "x9", "low": 0}, {"kind": "fixed_combinations", "columns": ["c0", "x0"]},
           {"kind": "inequality", "left": "x0", "right": "label2"}]
    with pytest.raises(InputError) as err:
        medmgen.generate(planted(bad), registry=registry, out=tmp_path / "o")
    assert {p.path for p in err.value.problems} == {"blocks.p.constraints[0].column", "blocks.p.constraints[1].kind",
                                                   "blocks.p.constraints[2].right"}
    assert not (tmp_path / "o").exists()
