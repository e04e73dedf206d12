"""``fidelity`` metrics: how closely a synthetic table follows the real one."""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats.contingency import association
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.model_selection import GroupKFold, cross_val_predict

from medmgen_metrics.synthetic import Tally
from medmgen_metrics.tables import Column, Pair, sample

# headline metrics: True when a higher value is worse
HEADLINE = {"tvd_mean": True, "tvd_2way_mean": True, "tvd_2way_max": True, "ks_mean": True,
            "corr_diff_mean": True, "corr_diff_max": True, "mmd": True, "propensity_pmse": True,
            "propensity_auc": True, "category_coverage": False, "range_coverage": False}


# ------------------------------------------------------------- statistics
def tvd(a: np.ndarray, b: np.ndarray, levels: int) -> float:
    """Total-variation distance of two code arrays' frequencies: half their L1 distance."""
    if levels > 1_000_000:  # a large joint domain: count only the codes that occur
        a, b = np.split(np.unique(np.r_[a, b], return_inverse=True)[1].ravel(), [len(a)])
        levels = int(max(a.max(initial=0), b.max(initial=0))) + 1
    pa_ = np.bincount(a, minlength=levels) / max(len(a), 1)
    pb = np.bincount(b, minlength=levels) / max(len(b), 1)
    return 0.5 * float(np.abs(pa_ - pb).sum())


def tvd_2way(real: np.ndarray, synth: np.ndarray, levels: list[int]) -> dict[tuple[int, int], float]:
    """TVD of every pair of columns' joint code frequencies."""
    out = {}
    for i, j in combinations(range(real.shape[1]), 2):
        size = levels[i] * levels[j]
        out[(i, j)] = tvd(real[:, i] * levels[j] + real[:, j], synth[:, i] * levels[j] + synth[:, j], size)
    return out


def cramers_v(a: np.ndarray, b: np.ndarray, la: int, lb: int) -> float:
    """Cramér's V of two code arrays (scipy), 0 when either is constant."""
    table = np.bincount(a * lb + b, minlength=la * lb).reshape(la, lb)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if min(table.shape) < 2:
        return 0.0
    return float(association(table, method="cramer"))


def correlation_ratio(codes: np.ndarray, values: np.ndarray, levels: int) -> float:
    """Correlation ratio eta: sqrt(between-group / total sum of squares) of values grouped by codes."""
    total = float(((values - values.mean()) ** 2).sum())
    if total == 0:
        return 0.0
    counts = np.bincount(codes, minlength=levels)
    means = np.bincount(codes, weights=values, minlength=levels) / np.maximum(counts, 1)
    between = float((counts * (means - values.mean()) ** 2).sum())
    return float(np.sqrt(min(between / total, 1.0)))


def association_matrix(pair: Pair, frame: pd.DataFrame) -> np.ndarray:
    """Pearson (numeric pairs), Cramér's V (categorical pairs), correlation ratio (mixed pairs)."""
    cols = pair.columns
    codes = pair.codes(frame)
    nums = {c.name: c.scaled(frame[c.name]) for c in cols if not c.categorical}
    m = np.eye(len(cols))
    for i, j in combinations(range(len(cols)), 2):
        a, b = cols[i], cols[j]
        if a.categorical and b.categorical:
            v = cramers_v(codes[:, i], codes[:, j], a.levels, b.levels)
        elif a.categorical or b.categorical:
            cat, num = (i, b) if a.categorical else (j, a)
            v = correlation_ratio(codes[:, cat], nums[num.name], cols[cat].levels)
        else:
            x, y = nums[a.name], nums[b.name]
            v = 0.0 if x.std() == 0 or y.std() == 0 else float(stats.pearsonr(x, y).statistic)
        m[i, j] = m[j, i] = v
    return m


def mmd_rbf(x: np.ndarray, y: np.ndarray) -> float:
    """Maximum mean discrepancy with an RBF kernel (median-distance bandwidth; biased estimate)."""
    pooled = np.vstack([x, y])
    k = euclidean_distances(pooled, squared=True)
    upper = [k[i, i + 1:] for i in range(len(pooled) - 1)]  # the upper triangle, row by row (no index arrays)
    med = float(np.median(np.concatenate(upper), overwrite_input=True)) if upper else 0.0
    gamma = 1.0 / med if med > 0 else 1.0
    k *= -gamma  # the RBF kernel, in place (as sklearn's rbf_kernel computes it)
    np.exp(k, out=k)
    n = len(x)
    value = k[:n, :n].mean() + k[n:, n:].mean() - 2 * k[:n, n:].mean()
    return float(np.sqrt(max(value, 0.0)))


def propensity(x: np.ndarray, labels: np.ndarray, mask: np.ndarray, folds: int, seed: int
               ) -> tuple[float, float, np.ndarray]:
    """pMSE and ROC-AUC of a cross-validated classifier telling synthetic (1) from real (0).

    Identical rows share a fold: otherwise a real row's synthetic copy, seen in training
    with the other label, would push its prediction the wrong way (AUC below 0.5).
    """
    model = HistGradientBoostingClassifier(categorical_features=mask if mask.any() else None,
                                           early_stopping=True, max_iter=100, random_state=seed)
    groups = np.unique(x, axis=0, return_inverse=True, equal_nan=True)[1].ravel()
    cv = GroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    p = cross_val_predict(model, x, labels, groups=groups, cv=cv, method="predict_proba")[:, 1]
    share = labels.mean()
    return float(np.mean((p - share) ** 2)), float(roc_auc_score(labels, p)), p


def coverage(col: Column, real: np.ndarray, synth: np.ndarray) -> float:
    """Categorical: share of real categories present in the synthetic column; numeric: share of the real range."""
    if col.categorical:
        have = np.unique(real)
        return float(np.isin(have, synth).mean()) if len(have) else 1.0
    r, s = real[~np.isnan(real)], synth[~np.isnan(synth)]
    if not len(r):
        return 1.0
    if not len(s):
        return 0.0
    lo, hi = r.min(), r.max()
    if hi == lo:
        return float(np.any(s == lo))
    return float(max(0.0, min(hi, s.max()) - max(lo, s.min())) / (hi - lo))


# ------------------------------------------------------------------ block
def tvd_counts(a: np.ndarray, b: np.ndarray) -> float:
    """:func:`tvd` from two count arrays over the same codes."""
    return 0.5 * float(np.abs(a / max(a.sum(), 1) - b / max(b.sum(), 1)).sum())


def tvd_pair(real: Tally, synth: Tally, i: int, j: int) -> float:
    """2-way TVD of columns ``i < j`` from two tallies (sparse counts aligned on the codes either has)."""
    (ra, rk), (sa, sk) = real.pair_counts(i, j), synth.pair_counts(i, j)
    if rk is None:
        return tvd_counts(ra, sa)
    keys = np.union1d(rk, sk)
    a, b = np.zeros(len(keys), dtype=np.int64), np.zeros(len(keys), dtype=np.int64)
    a[np.searchsorted(keys, rk)] = ra
    b[np.searchsorted(keys, sk)] = sa
    return tvd_counts(a, b)


def ks_counts(real: np.ndarray, values: np.ndarray, counts: np.ndarray) -> tuple[float, float]:
    """``scipy.stats.ks_2samp(real, synthetic)`` (statistic, p-value) with the synthetic sample given as counts."""
    n1, n2 = len(real), int(counts.sum())
    if max(n1, n2) <= 10_000:  # scipy's exact method: small enough to spell out
        ks = stats.ks_2samp(real, np.repeat(values, counts))
        return float(ks.statistic), float(ks.pvalue)
    data1 = np.sort(real)
    points = np.union1d(data1, values)
    cdf1 = np.searchsorted(data1, points, side="right") / n1
    cdf2 = np.r_[0, np.cumsum(counts)][np.searchsorted(values, points, side="right")] / n2
    diffs = cdf1 - cdf2
    d = max(float(np.clip(-diffs.min(), 0, 1)), float(diffs.max()))
    m, n = sorted([float(n1), float(n2)], reverse=True)
    return d, float(np.clip(stats.kstwo.sf(d, np.round(m * n / (m + n))), 0, 1))


def block_metrics(pair: Pair) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every fidelity metric of one block, and the arrays its figures need.

    Whole-table statistics of the synthetic rows come from one pass over its batches
    (:meth:`Pair.tally`); MMD, propensity and the distinct-rows ratio use seeded samples.
    """
    real, synth, cfg = pair.real, pair.synthetic, pair.cfg
    if not len(synth):
        return {"real_file": pair.real_file, "skipped": "the synthetic table has no rows"}, {}
    if not pair.columns:
        return {"real_file": pair.real_file, "identifiers": pair.identifiers,
                "skipped": "no column to compare but identifiers"}, {}
    rt, st = pair.tally(real), pair.tally()
    per_col: dict[str, dict[str, Any]] = {}
    for i, col in enumerate(pair.columns):
        entry: dict[str, Any] = {"kind": "categorical" if col.categorical else col.kind.replace("number", "numeric"),
                                 "binned": col.edges is not None, "tvd": round(tvd_counts(rt.ones[i], st.ones[i]), 6)}
        if col.categorical:
            table = np.vstack([rt.ones[i], st.ones[i]])
            table = table[:, table.sum(axis=0) > 0]
            if table.shape[1] > 1:
                chi = stats.chi2_contingency(table, correction=False)
                entry |= {"chi2": round(float(chi.statistic), 4), "chi2_pvalue": float(chi.pvalue)}
            else:
                entry |= {"chi2": 0.0, "chi2_pvalue": 1.0}
            entry["coverage"] = round(coverage(col, np.flatnonzero(rt.ones[i]), np.flatnonzero(st.ones[i])), 6)
        else:
            r = col.comparable(real[col.name])
            counted = synth.numbers[col.name]  # distinct non-missing synthetic values and their counts
            values = counted.values
            if (~np.isnan(r)).any() and len(values):
                ks, p = ks_counts(r[~np.isnan(r)], values, counted.counts)
                entry |= {"ks": round(ks, 6), "ks_pvalue": p}
            entry["coverage"] = round(coverage(col, r, values), 6)
        per_col[col.name] = entry
    out: dict[str, Any] = {"real_file": pair.real_file, "rows_real": len(real), "rows_synthetic": len(synth),
                           "columns": len(pair.columns), "identifiers": pair.identifiers,
                           "wide": [c.name for c in pair.columns if c.wide]}
    tvds = [e["tvd"] for e in per_col.values()]
    out |= {"tvd_mean": round(float(np.mean(tvds)), 6), "tvd_max": max(tvds)}
    ks = [e["ks"] for e in per_col.values() if "ks" in e]
    if ks:
        out |= {"ks_mean": round(float(np.mean(ks)), 6), "ks_max": max(ks)}
    chi = [e["chi2_pvalue"] for e in per_col.values() if "chi2_pvalue" in e]
    if chi:
        out["chi2_pvalue_min"] = min(chi)
    pairs = {(i, j): tvd_pair(rt, st, i, j) for i, j in combinations(range(len(pair.columns)), 2)}
    if pairs:
        vals = np.array(list(pairs.values()))
        out |= {"tvd_2way_pairs": len(pairs), "tvd_2way_mean": round(float(vals.mean()), 6),
                "tvd_2way_max": round(float(vals.max()), 6)}
        top = sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        out["tvd_2way_worst"] = {f"{pair.names[i]} x {pair.names[j]}": round(v, 6) for (i, j), v in top}
    a_real, a_synth = rt.association(), st.association()
    diff = np.abs(a_real - a_synth)[np.triu_indices(len(pair.columns), k=1)]
    diff = diff[~np.isnan(diff)]  # pairs with a wide column have none
    if len(diff):
        out |= {"corr_diff_mean": round(float(diff.mean()), 6), "corr_diff_max": round(float(diff.max()), 6)}
    if pair.distance_names:
        xr = pair.distance_matrix(sample(real, cfg.mmd_rows, pair.rng(2)))
        xs = pair.distance_matrix(pair.sample(cfg.mmd_rows, 2))
        out |= {"mmd": round(mmd_rbf(xr, xs), 6), "mmd_rows": [len(xr), len(xs)]}
    pr, ps = sample(real, cfg.max_rows, pair.rng(3)), pair.sample(cfg.max_rows, 3)
    mr, mask = pair.model_matrix(pr)
    ms, _ = pair.model_matrix(ps)
    labels = np.r_[np.zeros(len(mr), dtype=np.int64), np.ones(len(ms), dtype=np.int64)]
    if min(len(mr), len(ms)) >= cfg.folds:
        pmse, auc, _ = propensity(np.vstack([mr, ms]), labels, mask, cfg.folds, cfg.seed)
        out |= {"propensity_pmse": round(pmse, 6), "propensity_auc": round(auc, 6),
                "propensity_rows": [len(mr), len(ms)], "propensity_model": "HistGradientBoostingClassifier",
                "propensity_folds": cfg.folds}
    cat = [e["coverage"] for e in per_col.values() if e["kind"] == "categorical"]
    num = [e["coverage"] for e in per_col.values() if e["kind"] != "categorical"]
    if cat:
        out |= {"category_coverage": round(float(np.mean(cat)), 6), "category_coverage_min": min(cat)}
    if num:
        out |= {"range_coverage": round(float(np.mean(num)), 6), "range_coverage_min": min(num)}
    # on the propensity samples: a share of distinct rows falls with the number of rows, so compare like sizes
    out["distinct_rows_ratio"] = round(_distinct_share(pair.codes(ps)) / max(_distinct_share(pair.codes(pr)), 1e-12),
                                       6)
    out["per_column"] = per_col
    return out, {"association_real": a_real, "association_synthetic": a_synth}


def _distinct_share(codes: np.ndarray) -> float:
    return len(np.unique(codes, axis=0)) / max(len(codes), 1)
