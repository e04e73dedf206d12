"""Fidelity against the spec's intended distributions (no real file needed).

Per sequence block, from the final data, as total variation distances (TVD):

- ``itemsets_tvd``: itemsets per sequence against ``itemsets`` (``1 + Poisson(mean - 1)``
  cut at ``max`` and renormalised, via scipy.stats, or the empirical weights);
- ``itemset_size_tvd``: items per itemset against ``itemset_size`` (also cut at ``items``);
- ``item_tvd_unplanted``: item frequency against ``popularity`` over the ids of no planted
  pattern (pure background occurrences); ``item_tvd`` the same over every id.

The table does not say which items were planted, so the counts include planted items:
a host sequence is lengthened to fit its pattern and planted items join itemsets, which
the TVDs show as a deviation (means are reported beside the intended ones). Background
ids are drawn distinct within an itemset, which flattens a very skewed popularity a little.
Blocks with a ``source`` file are skipped (their laws come from the file).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pyarrow as pa

from medmgen.interfaces import Evaluation, Evaluator
from medmgen_sequence import _kernels as k
from medmgen_sequence.kinds import SequentialPattern
from medmgen_sequence.spec import CountDist, Popularity


def count_pmf(dist: CountDist, top: int, limit: int | None = None) -> np.ndarray:
    """Probabilities of counts ``0..top`` (entry 0 is 0) under ``dist``, cut at ``limit``."""
    import scipy.stats as st

    longest = dist.longest() if limit is None else min(dist.longest(), limit)
    pmf = np.zeros(max(top, longest) + 1)
    if dist.distribution == "empirical":
        pmf[1:longest + 1] = np.asarray(dist.weights[:longest], dtype=np.float64)
    else:
        ks = np.arange(1, longest + 1)
        pmf[1:longest + 1] = st.poisson.pmf(ks - 1, dist.mean - 1.0) if dist.mean > 1.0 else (ks == 1)
    return pmf / pmf.sum()


def popularity_pmf(pop: Popularity, items: int) -> np.ndarray:
    """Probabilities of ids ``0..items`` (entry 0 is 0) under ``pop``."""
    w = np.zeros(items + 1)
    if pop.distribution == "uniform":
        w[1:] = 1.0
    elif pop.distribution == "zipf":
        w[1:] = np.arange(1, items + 1, dtype=np.float64) ** -pop.exponent
    else:
        given = np.asarray(pop.weights[:items], dtype=np.float64)
        w[1:1 + given.size] = given
    return w / w.sum()


def tvd(counts: np.ndarray, pmf: np.ndarray) -> float | None:
    """Total variation distance between ``counts`` (normalised) and ``pmf`` (same length)."""
    n = np.zeros(max(counts.size, pmf.size))
    p = np.zeros_like(n)
    n[: counts.size] = counts
    p[: pmf.size] = pmf
    if n.sum() == 0 or p.sum() == 0:
        return None  # nothing to compare (e.g. no unplanted id ever drawn)
    return float(0.5 * np.abs(n / n.sum() - p / p.sum()).sum())


def block_fidelity(seq_hist: np.ndarray, set_hist: np.ndarray, freq: np.ndarray, block: Any,
                   planted: set[int]) -> dict[str, Any]:
    """The metrics of one block from its histograms: sequences by itemset count, itemsets by
    size, occurrences by item id (index ``0..items``)."""
    n_items = block.n_items()
    seq_pmf = count_pmf(block.itemsets, seq_hist.size - 1)
    set_pmf = count_pmf(block.itemset_size, set_hist.size - 1, n_items)
    pop = popularity_pmf(block.popularity, n_items)
    free = np.ones(n_items + 1, dtype=bool)
    free[0] = False
    free[[i for i in planted if i <= n_items]] = False
    return {
        "itemsets_tvd": tvd(seq_hist.astype(np.float64), seq_pmf),
        "mean_itemsets": _mean(seq_hist),
        "intended_mean_itemsets": float(np.dot(np.arange(seq_pmf.size), seq_pmf)),
        "itemset_size_tvd": tvd(set_hist.astype(np.float64), set_pmf),
        "mean_itemset_size": _mean(set_hist),
        "intended_mean_itemset_size": float(np.dot(np.arange(set_pmf.size), set_pmf)),
        "item_tvd": tvd(freq.astype(np.float64), pop),
        "item_tvd_unplanted": tvd(freq[free].astype(np.float64), pop[free]),
        "unplanted_ids": int(free.sum()),
    }


def histograms(batches: Iterable[pa.RecordBatch], n_items: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Itemsets per sequence, items per itemset and item occurrences (ids ``0..n_items``) of an
    ``itemsets`` column, a batch at a time."""
    seq_hist = np.zeros(1, np.int64)
    set_hist = np.zeros(1, np.int64)
    freq = np.zeros(n_items + 1, np.int64)
    for batch in batches:
        seq_off, sets = _offsets(batch.column(0))
        set_off, values = _offsets(sets)
        seq_hist = k.add_lengths(seq_off, seq_hist)
        set_hist = k.add_lengths(set_off, set_hist)
        k.add_items(np.asarray(values), freq)
    return seq_hist, set_hist, freq


def _mean(hist: np.ndarray) -> float:
    total = int(hist.sum())
    return int(np.dot(np.arange(hist.size), hist)) / total if total else 0.0


def _offsets(column: Any) -> tuple[np.ndarray, Any]:
    offsets = np.asarray(column.offsets, dtype=np.int64)
    return offsets, column.values.slice(int(offsets[0]), int(offsets[-1] - offsets[0]))


class IntendedFit(Evaluator):
    """Each sequence block against its own spec's count and popularity laws (read in batches)."""

    name = "sequence_intended"

    def applies(self, evaluation: Evaluation) -> bool:
        return bool(evaluation.tables) and any(
            getattr(b, "modality", None) == "sequence" for b in evaluation.spec.blocks.values())

    def evaluate(self, evaluation: Evaluation) -> dict[str, Any]:
        blocks: dict[str, Any] = {}
        for name, block in evaluation.spec.blocks.items():
            if block.modality != "sequence" or name not in evaluation.tables or "" not in evaluation.tables[name]:
                continue
            if block.source is not None:
                blocks[name] = {"skipped": "laws come from the source file"}
                continue
            planted = {i for p in evaluation.ledger.for_block(name) if isinstance(p, SequentialPattern)
                       for s in p.sequence for i in s}
            hists = histograms(evaluation.tables[name].batches("", ["itemsets"]), block.n_items())
            blocks[name] = block_fidelity(*hists, block, planted)
        out: dict[str, Any] = {"blocks": blocks}
        scored = [b for b in blocks.values() if "itemsets_tvd" in b]
        for key in ("itemsets_tvd", "itemset_size_tvd", "item_tvd_unplanted"):
            if scored:
                out[key] = max((b[key] for b in scored if b[key] is not None), default=None)
        return out
