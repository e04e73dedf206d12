"""Known-answer tests of every metric, each beside a plain twin computed another way."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from medmgen.errors import InputError
from medmgen_metrics import fidelity, privacy, utility
from medmgen_metrics.neighbours import nearest
from medmgen_metrics.spec import EvaluationSection
from medmgen_metrics.tables import make_pair, read_table

CFG = EvaluationSection(max_rows=2000, mmd_rows=300, attacks=200)


def mixed(n: int, seed: int, shift: float = 0.0, cats: tuple[str, ...] = ("a", "b", "c")) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(shift, 1.0, n)
    return pd.DataFrame({"x": x, "y": 2 * x + rng.normal(0, 0.5, n), "c": rng.choice(list(cats), n),
                         "k": rng.integers(0, 4, n)})


def test_identical_tables_are_at_distance_zero():
    real = mixed(1200, 1)
    m, _ = fidelity.block_metrics(make_pair(real, real.copy(), None, CFG))
    assert m["tvd_mean"] == 0 and m["tvd_max"] == 0 and m["tvd_2way_max"] == 0
    assert m["ks_max"] == 0 and m["corr_diff_max"] == 0 and m["mmd"] == 0
    assert m["category_coverage"] == 1 and m["range_coverage"] == 1 and m["distinct_rows_ratio"] == 1
    assert abs(m["propensity_auc"] - 0.5) < 0.1
    assert m["chi2_pvalue_min"] == pytest.approx(1.0)


def test_disjoint_supports_are_at_distance_one():
    real = mixed(800, 2, cats=("a", "b"))
    synth = mixed(800, 3, shift=50.0, cats=("p", "q"))
    synth["k"] += 10
    m, _ = fidelity.block_metrics(make_pair(real, synth, None, CFG))
    assert m["tvd_max"] == pytest.approx(1.0) and m["tvd_mean"] == pytest.approx(1.0)
    assert m["tvd_2way_mean"] == pytest.approx(1.0)
    assert m["ks_max"] == pytest.approx(1.0)
    assert m["category_coverage"] == 0 and m["range_coverage"] == 0
    assert m["propensity_auc"] > 0.99 and m["propensity_pmse"] > 0.2


def test_classifier_on_pure_noise_is_at_chance():
    m, _ = fidelity.block_metrics(make_pair(mixed(2000, 4), mixed(2000, 5), None, CFG))
    assert abs(m["propensity_auc"] - 0.5) < 0.06
    assert m["propensity_pmse"] < 0.01
    assert m["tvd_mean"] < 0.05 and m["corr_diff_max"] < 0.1


def test_tvd_twin():
    rng = np.random.default_rng(6)
    a, b = rng.integers(0, 5, 300), rng.integers(0, 7, 200)
    pa_ = pd.Series(a).value_counts(normalize=True)
    pb = pd.Series(b).value_counts(normalize=True)
    twin = 0.5 * pa_.sub(pb, fill_value=0).abs().sum()
    assert fidelity.tvd(a, b, 7) == pytest.approx(twin)
    assert fidelity.tvd(a * 300_000, b * 300_000, 2_000_000) == pytest.approx(twin)  # compacted large domain
    pairs = fidelity.tvd_2way(np.column_stack([a[:200], a[100:]]), np.column_stack([b, b[::-1]]), [7, 7])
    ja = pd.Series(list(zip(a[:200], a[100:]))).value_counts(normalize=True)
    jb = pd.Series(list(zip(b, b[::-1]))).value_counts(normalize=True)
    assert pairs[(0, 1)] == pytest.approx(0.5 * ja.sub(jb, fill_value=0).abs().sum())


def test_association_twins():
    rng = np.random.default_rng(8)
    a = rng.integers(0, 3, 500)
    b = (a + (rng.random(500) < 0.3)) % 3
    table = pd.crosstab(a, b).to_numpy()
    chi2 = stats.chi2_contingency(table, correction=False).statistic
    assert fidelity.cramers_v(a, b, 3, 3) == pytest.approx(np.sqrt(chi2 / (500 * 2)))
    assert fidelity.cramers_v(a, a, 3, 3) == pytest.approx(1.0)
    v = rng.normal(size=500) + a
    groups = pd.Series(v).groupby(a)
    between = sum(len(g) * (g.mean() - v.mean()) ** 2 for _, g in groups)
    assert fidelity.correlation_ratio(a, v, 3) == pytest.approx(np.sqrt(between / ((v - v.mean()) ** 2).sum()))
    assert fidelity.correlation_ratio(a, a.astype(float), 3) == pytest.approx(1.0)


def test_mmd_twin():
    rng = np.random.default_rng(9)
    x, y = rng.normal(size=(40, 3)), rng.normal(0.5, 1, size=(30, 3))
    pooled = np.vstack([x, y])
    d2 = ((pooled[:, None] - pooled[None]) ** 2).sum(-1)
    gamma = 1 / np.median(d2[np.triu_indices(70, 1)])
    k = np.exp(-gamma * d2)
    twin = np.sqrt(k[:40, :40].mean() + k[40:, 40:].mean() - 2 * k[:40, 40:].mean())
    assert fidelity.mmd_rbf(x, y) == pytest.approx(twin)
    assert fidelity.mmd_rbf(x, x) == 0


def test_nearest_twin_and_exact_zero():
    rng = np.random.default_rng(10)
    index, queries = rng.random((60, 4)), rng.random((25, 4))
    queries[:5] = index[10:15]
    d, i = nearest(index, queries, 2)
    full = np.sqrt(((queries[:, None] - index[None]) ** 2).sum(-1))
    np.testing.assert_allclose(d, np.sort(full, axis=1)[:, :2])
    assert np.all(d[:5, 0] == 0) and list(i[:5, 0]) == [10, 11, 12, 13, 14]


def test_copying_generator_is_exposed():
    real = mixed(1000, 11)
    holdout = mixed(1000, 12)
    m, extra = privacy.block_metrics(make_pair(real, real.copy(), holdout, CFG))
    assert m["exact_copy_rate"] == 1 and m["exact_copy_baseline"] == 0 and m["exact_copy_excess"] == 1
    assert m["dcr_median"] == 0 and m["dcr_zero_share"] == 1 and m["dcr_baseline_median"] > 0
    assert m["mia_auc"] > 0.99 and m["mia_advantage"] > 0.99 and m["mia_tpr_at_fpr_1pct"] > 0.99
    assert m["dcr_train_share"] > 0.99
    assert m["singling_out_risk"] > 0.3 and m["linkability_risk"] > 0.3
    assert len(m["most_exposed"]) == 10 and all(r["distance"] == 0 for r in m["most_exposed"])
    rec = extra["records"]
    q = m["rows"]["mia_members"]
    assert len(rec["row"]) == 2 * q and list(rec["set"]).count("train") == q
    train = rec["set"] == "train"
    assert rec["exact_copy"][train].all() and rec["exposed"][train].all() and (rec["dcr"][train] == 0).all()
    assert not rec["exact_copy"][~train].any() and m["records_exposed"]["train"] == q
    assert set(rec["row"][train]) <= set(real.index) and set(rec["row"][~train]) <= set(holdout.index)


def test_fresh_sample_is_not_exposed():
    m, extra = privacy.block_metrics(make_pair(mixed(1000, 13), mixed(1000, 14), mixed(1000, 15), CFG))
    exposed = extra["records"]["exposed"]
    assert exposed.mean() < 0.05 and not extra["records"]["exact_copy"].any()
    assert m["exact_copy_rate"] == 0
    assert abs(m["mia_auc"] - 0.5) < 0.06 and abs(m["dcr_train_share"] - 0.5) < 0.06
    assert m["singling_out"]["ci"][0] <= 0.05 and m["linkability"]["ci"][0] <= 0.05
    assert m["dcr_median"] == pytest.approx(m["dcr_baseline_median"], rel=0.3)


def test_membership_attack_twin():
    rng = np.random.default_rng(16)
    a, b = rng.random(200), rng.random(150) + 0.2
    out = privacy.membership_attack(a, b)
    labels = np.r_[np.ones(200), np.zeros(150)]
    assert out["auc"] == pytest.approx(roc_auc_score(labels, -np.r_[a, b]))
    twin = max(np.mean(a <= t) - np.mean(b <= t) for t in np.r_[a, b])
    assert out["advantage"] == pytest.approx(twin)


def test_membership_score_twin():
    rng = np.random.default_rng(23)
    baseline = np.round(rng.random(300), 2)
    dcr = np.r_[np.round(rng.random(100), 2), 0.0, 2.0]
    twin = [np.mean(baseline > d) + 0.5 * np.mean(baseline == d) for d in dcr]
    np.testing.assert_allclose(privacy.membership_score(dcr, baseline), twin)
    assert privacy.membership_score(np.array([0.0]), baseline + 0.01)[0] == 1


def test_records_table_stacks_blocks():
    rec = {"set": np.array(["train", "holdout"], dtype=object), "row": np.array([4, 2]), "dcr": np.array([0.0, 1.0]),
           "membership_score": np.array([1.0, 0.5]), "exact_copy": np.array([True, False]),
           "exposed": np.array([True, False])}
    table = privacy.records_table({"a": rec, "b": rec})
    assert table.column_names == ["block", "set", "row", "dcr", "membership_score", "exact_copy", "exposed"]
    assert table.column("block").to_pylist() == ["a", "a", "b", "b"] and table.column("row").to_pylist() == [4, 2] * 2


def test_risk_scaling():
    assert privacy.risk(50, 50, 100)["risk"] == 0
    assert privacy.risk(100, 0, 100)["risk"] == 1
    r = privacy.risk(60, 20, 100)
    assert r["risk"] == pytest.approx(0.5)
    assert r["ci"][0] < 0.5 < r["ci"][1]


def test_tstr_on_pure_noise_labels_is_at_chance():
    real = mixed(10000, 17)
    real["t"] = (real["x"] + real["k"] > 1.5).map({True: "yes", False: "no"})
    good = mixed(3000, 18)
    good["t"] = (good["x"] + good["k"] > 1.5).map({True: "yes", False: "no"})
    noise = good.copy()
    noise["t"] = np.random.default_rng(19).permutation(noise["t"].to_numpy())
    m_good = utility.block_metrics(make_pair(real, good, None, CFG, target="t"))
    m_noise = utility.block_metrics(make_pair(real, noise, None, CFG, target="t"))
    assert m_good["tstr_f1_ratio"] > 0.95 and m_good["trtr_roc_auc"] > 0.95
    assert abs(m_noise["tstr_roc_auc"] - 0.5) < 0.08
    assert m_noise["tstr_f1_ratio"] < 0.8
    assert set(m_good["tstr"]["f1_per_class"]) == {"no", "yes"}


def test_regression_target():
    real = mixed(2000, 20)
    m = utility.block_metrics(make_pair(real, mixed(2000, 21), None, CFG, target="y"))
    assert m["task"] == "regression" and m["tstr_r2"] > 0.7 and m["tstr_r2_ratio"] > 0.9
    assert m["tstr_mae"] == pytest.approx(m["trtr_mae"], rel=0.2)


def test_empty_synthetic_table_is_skipped_not_crashed():
    real = mixed(300, 22)
    m, _ = fidelity.block_metrics(make_pair(real, real.iloc[:0], None, CFG))
    assert "skipped" in m
    assert "skipped" in utility.block_metrics(make_pair(real, real.iloc[:0], None, CFG, target="c"))
    assert "skipped" in privacy.block_metrics(make_pair(real, real.iloc[:1], None, CFG))[0]


def test_unreadable_real_tables_raise_input_errors(tmp_path):
    (tmp_path / "t.txt").write_text("1 2 3\n")
    (tmp_path / "e.csv").write_text("")
    for name, message in (("t.txt", "unknown table format"), ("e.csv", "cannot read"), ("no.csv", "not found")):
        with pytest.raises(InputError, match=message) as err:
            read_table(tmp_path / name)
        assert err.value.source == str(tmp_path / name)
