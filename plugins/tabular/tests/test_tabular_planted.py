"""Planted class rules, clusters and anomalies, recovered by independent scikit-learn models."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.ensemble import IsolationForest
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture
from sklearn.tree import DecisionTreeClassifier

import medmgen
import medmgen.builtins
from medmgen.errors import InputError


def block(**extra) -> dict:
    return {"dataset": {"seed": 5}, "blocks": {"t": {"modality": "tabular", "generator": "planted", **extra}}}


def test_a_decision_tree_recovers_the_planted_rule(registry):
    rule = [{"column": "x1", "op": ">", "value": 0.5}, {"column": "c0", "op": "==", "value": 1}]
    ds = medmgen.generate(block(records=4000, numeric=3, categorical=[3], label_noise=0.05,
                                class_rules=[{"label": 1, "when": rule}]), registry=registry)
    df = ds.to_pandas("t")
    (p,) = ds.ledger.patterns
    covered = (df["x1"] > 0.5) & (df["c0"] == 1)
    assert p.rule == "x1 > 0.5 and c0 == 1" and p.rows_covered == int(covered.sum())
    assert p.realized_accuracy == pytest.approx((df.loc[covered, "label"] == 1).mean())
    assert p.realized_accuracy == pytest.approx(0.95, abs=0.005)
    tree = DecisionTreeClassifier(max_depth=3, min_samples_leaf=50, random_state=0)
    x = df[["x0", "x1", "x2", "c0"]]
    tree.fit(x, df["label"])
    importance = dict(zip(x.columns, tree.feature_importances_))
    assert importance["x1"] + importance["c0"] > 0.95
    x1_cuts = [t for f, t in zip(tree.tree_.feature, tree.tree_.threshold) if f >= 0 and x.columns[f] == "x1"]
    assert any(abs(t - 0.5) < 0.1 for t in x1_cuts)
    assert (tree.predict(x) == covered.astype(int)).mean() > 0.995
    # outside the planted rule the labels are noise only
    assert (df.loc[~covered, "label"] == 1).mean() == pytest.approx(0.05, abs=0.005)


def test_kmeans_and_gmm_recover_planted_clusters(registry):
    ds = medmgen.generate(block(records=3000, numeric=4, clusters={"count": 4, "columns": ["x0", "x1", "x2"],
                                                                   "sizes": [0.4, 0.3, 0.2, 0.1], "separation": 5}),
                          registry=registry)
    df = ds.to_pandas("t")
    truth = np.full(len(df), -1)
    for p in ds.ledger.patterns:
        truth[p.rows] = p.cluster
        assert p.realized_size == pytest.approx(len(p.rows) / len(df))
        assert np.allclose(p.realized_centre, df.loc[p.rows, p.columns].mean().to_numpy())
        assert np.linalg.norm(np.subtract(p.realized_centre, p.centre)) < 0.2
    assert (truth >= 0).all()
    x = df[["x0", "x1", "x2"]].to_numpy()
    km = KMeans(4, n_init=10, random_state=0).fit_predict(x)
    gm = GaussianMixture(4, n_init=5, random_state=0).fit(x).predict(x)
    assert adjusted_rand_score(truth, km) > 0.95
    assert adjusted_rand_score(truth, gm) > 0.95


def test_isolation_forest_ranks_planted_anomalies_on_top(registry):
    ds = medmgen.generate(block(records=4000, numeric=3, categorical=[3],
                                clusters={"count": 3, "separation": 6},
                                anomalies={"rate": 0.01, "types": ["global", "collective"], "group_size": 5}),
                          registry=registry)
    df = ds.to_pandas("t")
    anomalies = [p for p in ds.ledger.patterns if p.kind == "anomaly"]
    rows = sorted({r for p in anomalies for r in p.rows})
    assert len(rows) == 40 and {p.anomaly for p in anomalies} == {"global", "collective"}
    forest = IsolationForest(random_state=0, n_jobs=1).fit(df[["x0", "x1", "x2"]])
    score = -forest.score_samples(df[["x0", "x1", "x2"]])
    rank = np.argsort(np.argsort(-score))  # 0 = most anomalous
    assert rank[rows].max() < 0.025 * len(df)  # every planted anomaly in the top 2.5%
    assert (rank[rows] < len(rows)).mean() > 0.6  # precision at the number planted
    # cluster rows exclude the anomalies
    members = {r for p in ds.ledger.patterns if p.kind == "cluster" for r in p.rows}
    assert not members & set(rows)


def test_contextual_anomalies_break_only_their_context(registry):
    ds = medmgen.generate(block(records=3000, numeric=2, categorical=[4],
                                anomalies={"rate": 0.02, "types": ["contextual"], "context": "c0",
                                           "context_shift": 5}), registry=registry)
    df = ds.to_pandas("t")
    (p,) = [q for q in ds.ledger.patterns if q.kind == "anomaly"]
    assert p.columns == ["x0", "c0"] and len(p.rows) == 60
    resid = (df["x0"] - 5 * df["c0"]).abs()
    assert (resid[p.rows] > 2.5).mean() > 0.95
    assert (resid.drop(index=p.rows) > 4.5).mean() < 0.001
    assert df["x0"][p.rows].between(df["x0"].min(), df["x0"].max()).all()


def test_missing_cells_avoid_pattern_columns_and_output_is_deterministic(registry, tmp_path):
    spec = block(records=2000, numeric=3, categorical=[2, 3], missing=0.1, chunk_rows=1024,
                 class_rules=[{"label": 1, "when": [{"column": "x0", "op": "<", "value": 0}]}])
    a = medmgen.generate(spec, out=tmp_path / "a", registry=registry)
    medmgen.generate(spec, out=tmp_path / "b", registry=registry, workers=2)
    df = a.to_pandas("t")
    assert df["x0"].notna().all() and df["label"].notna().all()
    assert 0.07 < df["x1"].isna().mean() < 0.13 and 0.07 < df["c1"].isna().mean() < 0.13
    files = ["data/t.parquet", "ledger.json"]
    digest = {d: [hashlib.sha256((tmp_path / d / f).read_bytes()).hexdigest() for f in files] for d in "ab"}
    assert digest["a"] == digest["b"]


def test_missing_with_every_column_used_by_a_pattern_says_so(registry):
    spec = block(records=500, numeric=2, missing=0.1, clusters={"count": 2})
    with pytest.warns(UserWarning, match="every column is used by a planted pattern"):
        ds = medmgen.generate(spec, registry=registry)
    assert not ds.to_pandas("t")[["x0", "x1"]].isna().any().any()


def test_planted_spec_problems_have_key_paths(registry):
    bad = block(numeric=2, categorical=[3], label="x0",
                class_rules=[{"label": 1, "when": [{"column": "x9", "op": "~", "value": 1}]}],
                clusters={"count": 2, "columns": ["c0"], "sizes": [0.5, 0.6]},
                anomalies={"rate": 0.1, "types": ["contextual", "odd"], "context": "c7"})
    with pytest.raises(InputError) as err:
        medmgen.generate(bad, registry=registry)
    paths = {p.path for p in err.value.problems}
    assert {"blocks.t.class_rules[0].when[0].column", "blocks.t.class_rules[0].when[0].op", "blocks.t.label",
            "blocks.t.clusters.columns[0]", "blocks.t.clusters.sizes", "blocks.t.anomalies.types[1]",
            "blocks.t.anomalies.context"} <= paths


def test_example_spec_runs(registry):
    from pathlib import Path

    example = Path(__file__).resolve().parents[3] / "examples" / "tabular.toml"
    ds = medmgen.generate(example, registry=registry, overrides=["blocks.customers.records=3000"])
    kinds = pd.Series([p.kind for p in ds.ledger.patterns]).value_counts().to_dict()
    assert kinds["class_rule"] == 2 and kinds["cluster"] == 4 and kinds["anomaly"] >= 3
    assert all(p.status == "kept" for p in ds.ledger.patterns)


@pytest.mark.parametrize("op", [">", "<="])
def test_coverage_sets_the_class_imbalance(registry, op):
    rules = [{"label": 1, "coverage": 0.07, "when": [{"column": "c0", "op": "==", "value": 0},
                                                      {"column": "x0", "op": op}]},
             {"label": 2, "coverage": 0.2, "when": [{"column": "x1", "op": ">"}]}]
    ds = medmgen.generate(block(records=5000, numeric=2, categorical=[2], class_rules=rules, label_noise=0.1),
                          registry=registry)
    df = ds.to_pandas("t")
    first, second = ds.ledger.patterns
    assert first.target_coverage == 0.07 and first.realized_coverage == pytest.approx(0.07, abs=1e-4)
    assert second.realized_coverage == pytest.approx(0.2, abs=1e-4)
    # the ledger's rule text carries the chosen threshold, and it reproduces the coverage
    column, got_op, value = first.rule.split(" and ")[1].split(" ")
    assert (column, got_op) == ("x0", op)
    cond = df["x0"] > float(value) if op == ">" else df["x0"] <= float(value)
    assert ((df["c0"] == 0) & cond).mean() == pytest.approx(0.07, abs=1e-4)
    assert (df["label"] == 1).mean() == pytest.approx(0.07 * 0.9 + 0.73 * 0.05 + 0.2 * 0.05, abs=0.002)


def test_coverage_needs_a_threshold_condition(registry):
    rules = [{"label": 1, "coverage": 0.1, "when": [{"column": "c0", "op": "==", "value": 0}]}]
    with pytest.raises(InputError, match="coverage"):
        medmgen.generate(block(numeric=1, categorical=[2], class_rules=rules), registry=registry)


def test_datetime_columns(registry):
    ds = medmgen.generate(block(records=3000, numeric=1, datetimes=2, start="2024-03-01", end="2024-04-01T12:00:00",
                                missing=0.05), registry=registry)
    df = ds.to_pandas("t")
    assert list(df.columns) == ["x0", "t0", "t1"]
    assert str(df["t0"].dtype).startswith("datetime64")
    present = df["t0"].dropna()
    assert present.between(pd.Timestamp("2024-03-01"), pd.Timestamp("2024-04-01T12:00:00")).all()
    assert 0.03 < df["t1"].isna().mean() < 0.07
    with pytest.raises(InputError, match="end must be after start"):
        medmgen.generate(block(datetimes=1, start="2024-05-01", end="2024-01-01"), registry=registry)
