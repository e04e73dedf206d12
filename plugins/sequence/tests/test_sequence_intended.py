"""Known answers of the intended-distribution evaluator (expectations from scipy.stats directly)."""

from __future__ import annotations

import os

import numpy as np
import scipy.stats as st

import medmgen
from medmgen.interfaces import Evaluation
from medmgen_sequence.intended import IntendedFit

os.environ.setdefault("OMP_NUM_THREADS", "1")


def _generate(block: dict) -> tuple[dict, list]:
    spec = {"dataset": {"name": "i", "seed": 5},
            "blocks": {"s": {"modality": "sequence", "records": 5000, "items": 100, **block}}}
    ds = medmgen.generate(spec)
    table = ds.table("s")
    evaluation = Evaluation(spec=ds.spec, ledger=ds.ledger, tables={"s": {"": table}})
    assert IntendedFit().applies(evaluation)
    return IntendedFit().evaluate(evaluation)["blocks"]["s"], table.column("itemsets").to_pylist()


def _tvd_to_poisson(counts: np.ndarray, mean: float, top: int) -> float:
    k = np.arange(1, top + 1)
    pmf = st.poisson.pmf(k - 1, mean - 1)
    pmf /= pmf.sum()
    freq = np.bincount(counts, minlength=top + 1)[1:] / counts.size
    return 0.5 * float(np.abs(freq - pmf).sum())


def test_counts_and_uniform_items_without_patterns() -> None:
    block = {"itemsets": {"mean": 5.0, "max": 30}, "itemset_size": {"mean": 2.0, "max": 10}}
    metrics, rows = _generate(block)
    per_seq = np.asarray([len(r) for r in rows])
    per_set = np.asarray([len(s) for r in rows for s in r])
    assert abs(metrics["itemsets_tvd"] - _tvd_to_poisson(per_seq, 5.0, 30)) < 1e-9
    assert abs(metrics["itemset_size_tvd"] - _tvd_to_poisson(per_set, 2.0, 10)) < 1e-9
    assert metrics["itemsets_tvd"] < 0.04 and metrics["itemset_size_tvd"] < 0.03
    assert _tvd_to_poisson(per_seq, 3.0, 30) > 0.3
    assert metrics["item_tvd"] < 0.05 and metrics["item_tvd"] == metrics["item_tvd_unplanted"]


def test_zipf_items_with_a_planted_drifting_pattern() -> None:
    block = {"itemsets": {"mean": 6.0}, "itemset_size": {"mean": 1.5},
             "popularity": {"distribution": "zipf", "exponent": 0.8},
             "sequential_patterns": [{"sequence": [[7], [9, 11]], "support": 0.2,
                                      "drift": {"at": 2500, "support": 0.1}}]}
    metrics, rows = _generate(block)
    freq = np.bincount([i for r in rows for s in r for i in s], minlength=101)
    free = np.setdiff1d(np.arange(1, 101), [7, 9, 11])
    share = freq[free] / freq[free].sum()
    zipf = free ** -0.8 / (free ** -0.8).sum()
    assert metrics["unplanted_ids"] == 97
    assert abs(metrics["item_tvd_unplanted"] - 0.5 * float(np.abs(share - zipf).sum())) < 1e-9
    assert metrics["item_tvd_unplanted"] < 0.06
    assert 0.5 * float(np.abs(share - 1 / free.size).sum()) > 3 * metrics["item_tvd_unplanted"]
    assert metrics["item_tvd"] > metrics["item_tvd_unplanted"]
