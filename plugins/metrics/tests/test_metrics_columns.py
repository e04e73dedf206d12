"""Which columns each metric uses: identifiers left out, wide columns never one-hot, datetimes binned."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from medmgen_metrics import fidelity, privacy, utility
from medmgen_metrics.spec import EvaluationSection
from medmgen_metrics.synthetic import Synthetic
from medmgen_metrics.tables import identifiers, kind_of, make_pair

CFG = EvaluationSection(max_rows=1500, mmd_rows=300, attacks=100)


def shop(n: int, seed: int, first_id: int = 1000) -> pd.DataFrame:
    """Orders: integer and text identifiers, a datetime with a distinct value per row, numbers, a category."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-01-01").value // 10**9
    when = pd.to_datetime(np.sort(rng.integers(start, start + 300 * 86_400, n)), unit="s")
    a = rng.integers(0, 8, n)
    return pd.DataFrame({"order_id": np.arange(first_id, first_id + n),
                         "code": [f"ORD-{i:06d}" for i in range(first_id, first_id + n)],
                         "when": when, "a": a, "total": a + rng.integers(0, 3, n),
                         "city": rng.choice(["Paris", "Lyon", "Nice"], n)})


def as_csv_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``when`` as text, as pandas reads it from a CSV file."""
    return frame.assign(when=frame["when"].dt.strftime("%Y-%m-%d %H:%M:%S"))


class Recorded(Synthetic):
    """A synthetic table read in batches that records which columns every pass asked for."""

    def __init__(self, frame: pd.DataFrame, size: int, asked: list[tuple[str, ...]]) -> None:
        def source(cols):
            asked.append(tuple(cols))
            return (frame[list(cols)].iloc[i:i + size].reset_index(drop=True) for i in range(0, len(frame), size))

        super().__init__(len(frame), source, list(frame.columns))


def test_kinds_and_identifier_rule():
    real = as_csv_text(shop(300, 1))
    kinds = {c: kind_of(real[c]) for c in real.columns}
    assert kinds == {"order_id": "number", "code": "text", "when": "datetime", "a": "number", "total": "number",
                     "city": "text"}
    assert kind_of(pd.Series(["1.5", "2", None])) == "number"  # numbers stored as text
    assert kind_of(pd.Series([True, False] * 30)) == "text"
    # all-distinct text and integers are identifiers; an all-distinct datetime or float is not
    assert identifiers(real.assign(f=np.arange(300) / 7), kinds | {"f": "number"}, None) == ["order_id", "code"]
    # below 50 rows nothing is an identifier by uniqueness; a text column beyond max_levels is one
    small = real.iloc[:40]
    assert identifiers(small, kinds, None) == []
    assert identifiers(small, kinds, 30) == ["code"]


def test_identifiers_are_never_read_and_do_not_decide_fidelity():
    real = as_csv_text(shop(2000, 2))
    synth = shop(2000, 3, first_id=900_000)  # fresh ids, the rest drawn like the real rows; `when` as timestamps
    asked: list[tuple[str, ...]] = []
    pair = make_pair(real, Recorded(synth, 300, asked), None, CFG, target="order_id")
    assert pair.identifiers == ["order_id", "code"] and pair.names == ["when", "a", "total", "city"]
    assert asked and all("order_id" not in cols and "code" not in cols for cols in asked)
    m, _ = fidelity.block_metrics(pair)
    assert m["identifiers"] == ["order_id", "code"]
    assert set(m["per_column"]) == {"when", "a", "total", "city"}
    when = m["per_column"]["when"]
    assert when["kind"] == "datetime" and when["binned"] and when["tvd"] < 0.1 and when["ks"] < 0.1
    # a faithful table passes the default thresholds: before, `when` was scored value by value (2-way TVD ~0.95)
    # and the identifiers had TVD 1 and made the synthetic rows trivially recognisable
    assert m["tvd_2way_mean"] < 0.15 and m["tvd_2way_max"] < 0.2
    assert m["propensity_auc"] < 0.7
    assert pair.target == ""  # the utility evaluator skips an identifier target


def test_copies_with_fresh_identifiers_are_exact_copies():
    real = shop(1500, 4)
    synth = real.iloc[:600].assign(order_id=np.arange(10**6, 10**6 + 600), code=[f"X{i}" for i in range(600)])
    m, _ = privacy.block_metrics(make_pair(real, synth, shop(500, 5, first_id=5000), CFG))
    assert m["exact_copy_rate"] == 1.0  # every synthetic row equals a real one on the compared columns
    assert m["identifiers"] == ["order_id", "code"]


def wide_table(n: int, seed: int, zips: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, n)
    return pd.DataFrame({"zip": [f"z{v}" for v in rng.integers(0, zips, n)], "c": rng.choice(["a", "b"], n),
                         "x": x, "y": x + rng.normal(0, 0.3, n)})


def test_high_cardinality_text_is_an_identifier_beyond_max_levels():
    real, synth = wide_table(3000, 6, 2500), wide_table(3000, 7, 2500)
    pair = make_pair(real, synth, None, CFG, max_levels=1000)
    assert pair.identifiers == ["zip"] and "zip" not in pair.synthetic.numbers
    assert pair.distance_matrix(synth).shape == (3000, 3 + 1 + 1)  # c one-hot (2 values, "other"), x, y
    m, _ = privacy.block_metrics(pair)
    assert "mia_auc" in m and m["identifiers"] == ["zip"]


def test_wide_columns_are_counted_but_never_one_hot():
    real, synth = wide_table(3000, 8, 400), wide_table(3000, 9, 400)
    synth.loc[:499, "zip"] = [f"new{i}" for i in range(500)]  # 500 values the real table never had
    pair = make_pair(real, synth, None, CFG)
    zip_ = pair.column("zip")
    assert zip_.wide and zip_.levels == len(np.unique(real["zip"])) + 1  # synthetic-only values share one code
    assert pair.distance_names == ["c", "x", "y"]
    assert pair.distance_matrix(real).shape[1] == 3 + 2
    m, extra = fidelity.block_metrics(pair)
    assert m["wide"] == ["zip"]
    # the TVD still counts zip value by value: a pandas twin
    rs = real["zip"].value_counts(normalize=True)
    ss = synth["zip"].value_counts(normalize=True)
    twin = 0.5 * rs.sub(ss, fill_value=0).abs().sum()
    assert m["per_column"]["zip"]["tvd"] == pytest.approx(twin, abs=1e-6)
    assert np.isnan(extra["association_real"][0, 1:]).all() and not np.isnan(extra["association_real"][1:, 1:]).any()
    assert "corr_diff_mean" in m and "mmd" in m
    p, _ = privacy.block_metrics(pair)
    assert p["wide"] == ["zip"] and set(p["inference"]) == {"zip", "c", "x", "y"}
    assert "zip" not in p["linkability"]["columns"][0] + p["linkability"]["columns"][1]


def test_utility_features_leave_identifiers_out():
    real = shop(800, 10)
    pair = make_pair(real, shop(800, 11, first_id=9000), None, CFG, target="city")
    x, _ = pair.model_matrix(pair.real, exclude="city")
    assert x.shape == (800, 3)  # when, a, total
    m = utility.block_metrics(pair)
    assert m["task"] == "classification" and 0 <= m["tstr_macro_f1"] <= 1
