"""Known answers of the intended-distribution evaluator (expectations from scipy.stats directly)."""

from __future__ import annotations

import os

import numpy as np
import scipy.stats as st

import medmgen
from medmgen.interfaces import Evaluation
from medmgen_transaction.intended import IntendedFit

os.environ.setdefault("OMP_NUM_THREADS", "1")


def _evaluate(block: dict, seed: int = 3) -> tuple[dict, np.ndarray, np.ndarray]:
    spec = {"dataset": {"name": "i", "seed": seed},
            "blocks": {"b": {"modality": "transaction", "records": 20_000, "items": 200, **block}}}
    ds = medmgen.generate(spec)
    table = ds.table("b")
    evaluation = Evaluation(spec=ds.spec, ledger=ds.ledger, tables={"b": {"": table}})
    assert IntendedFit().applies(evaluation)
    lengths = np.asarray([len(r) for r in table.column("items").to_pylist()])
    freq = np.bincount(np.concatenate(table.column("items").to_pylist()), minlength=201)
    return IntendedFit().evaluate(evaluation), lengths, freq


def _tvd_to_poisson(lengths: np.ndarray, mean: float) -> float:
    top = max(int(lengths.max()), 200)
    k = np.arange(top + 1)
    pmf = np.where(k >= 1, st.poisson.pmf(k - 1, mean - 1), 0.0)
    freq = np.bincount(lengths, minlength=top + 1) / lengths.size
    return 0.5 * float(np.abs(freq - pmf).sum() + (1 - pmf.sum()))


def test_poisson_length_and_uniform_items() -> None:
    metrics, lengths, _ = _evaluate({"length": {"mean": 10.0}})
    b = metrics["blocks"]["b"]
    assert abs(b["length_tvd"] - _tvd_to_poisson(lengths, 10.0)) < 1e-9
    assert b["length_tvd"] < 0.03
    assert _tvd_to_poisson(lengths, 5.0) > 0.5
    assert b["length_chi2_p"] > 1e-4
    assert abs(b["mean_length"] - 10.0) < 0.1
    assert b["item_tvd"] < 0.03 and b["item_tvd"] == b["item_tvd_unplanted"]


def test_geometric_length_zipf_items_with_planted_itemset() -> None:
    block = {"length": {"distribution": "geometric", "mean": 6.0},
             "popularity": {"distribution": "zipf", "exponent": 0.8},
             "itemsets": [{"items": [50, 60, 70], "support": 0.2}]}
    metrics, lengths, freq = _evaluate(block)
    b = metrics["blocks"]["b"]
    k = np.arange(1, int(lengths.max()) + 1)
    observed = np.bincount(lengths, minlength=k[-1] + 1)[1:] / lengths.size
    pmf = st.geom.pmf(k, 1 / 6.0)
    assert abs(b["length_tvd"] - 0.5 * float(np.abs(observed - pmf).sum() + (1 - pmf.sum()))) < 1e-9
    # planted items lengthen short records (a record keeps max(L, planted) items)
    assert b["length_tvd"] < 0.1 and b["mean_length"] > b["intended_mean_length"]
    assert b["unplanted_ids"] == 197
    # ids drawn distinct within a record flatten the skew a little; uniform is far off
    free = np.setdiff1d(np.arange(1, 201), [50, 60, 70])
    zipf = free ** -0.8 / (free ** -0.8).sum()
    share = freq[free] / freq[free].sum()
    assert abs(b["item_tvd_unplanted"] - 0.5 * float(np.abs(share - zipf).sum())) < 1e-9
    assert b["item_tvd_unplanted"] < 0.1
    assert 0.5 * float(np.abs(share - 1 / free.size).sum()) > 3 * b["item_tvd_unplanted"]
    assert b["item_tvd"] > b["item_tvd_unplanted"]
    assert metrics["length_tvd"] == b["length_tvd"]


def test_large_blocks_read_only_the_first_records(monkeypatch) -> None:
    from medmgen_transaction import intended

    monkeypatch.setattr(intended, "MAX_RECORDS", 5000)
    metrics, lengths, _ = _evaluate({"length": {"mean": 10.0}})
    b = metrics["blocks"]["b"]
    assert b["sampled_records"] == 5000
    assert abs(b["length_tvd"] - _tvd_to_poisson(lengths[:5000], 10.0)) < 1e-9
