"""Fidelity against the spec's intended distributions (no real file needed).

Per transaction block, from the final data:

- ``length_tvd``: total variation distance between the realized transaction lengths and
  the spec's ``length`` law (scipy.stats: ``1 + Poisson(mean - 1)``, ``Geometric(1 / mean)``
  on 1, 2, ..., or the empirical weights), with a chi-square goodness-of-fit test
  (``length_chi2``, ``length_chi2_dof``, ``length_chi2_p``; bins merged until each expects
  at least 5 records). The table does not say which items were planted, so these are
  lengths *with* planted items: a record keeps ``max(L, planted)`` items, so planted
  load shows up as a deviation (``mean_length`` beside ``intended_mean_length``).
- ``item_tvd_unplanted``: item frequency against ``popularity`` restricted to the ids of
  no planted pattern (pure background occurrences), ``item_tvd`` the same over all ids
  (planted items raise it by design). Background ids are drawn distinct within a record,
  which flattens very skewed popularity in long records a little.

Blocks with a ``source`` file are skipped (their laws come from the file: use
``transaction_fit``). Above :data:`MAX_RECORDS` records only the first ones are read
(``sampled_records`` says how many).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from medmgen.interfaces import Evaluation, Evaluator
from medmgen_transaction.spec import DEFAULT_ITEMS, DEFAULT_ZIPF_EXPONENT, LengthSpec, PopularitySpec

MAX_RECORDS = 2_000_000
MIN_EXPECTED = 5.0
_TAIL = 1e-12


def length_pmf(spec: LengthSpec, top: int) -> np.ndarray:
    """Probabilities of lengths ``0..top`` (entry 0 is 0) under the spec's law."""
    import scipy.stats as st

    k = np.arange(top + 1)
    if spec.distribution == "empirical":
        pmf = np.zeros(top + 1)
        values = np.asarray(spec.values, dtype=np.int64)
        keep = values <= top
        np.add.at(pmf, values[keep], np.asarray(spec.weights, dtype=np.float64)[keep])
        return pmf / float(np.sum(spec.weights))
    mean = spec.mean_length()
    if spec.distribution == "poisson":
        pmf = st.poisson.pmf(k - 1, mean - 1.0) if mean > 1.0 else (k == 1).astype(np.float64)
    else:
        pmf = st.geom.pmf(k, 1.0 / mean)
    pmf[0] = 0.0
    return pmf


def length_top(spec: LengthSpec) -> int:
    """A length above which the spec's law has less than 1e-12 mass."""
    import scipy.stats as st

    if spec.distribution == "empirical":
        return int(max(spec.values))
    mean = spec.mean_length()
    if spec.distribution == "poisson":
        return 1 + int(st.poisson.ppf(1 - _TAIL, mean - 1.0)) if mean > 1.0 else 1
    return int(st.geom.ppf(1 - _TAIL, 1.0 / mean))


def popularity_pmf(spec: PopularitySpec, items: int) -> np.ndarray:
    """Probabilities of ids ``0..items`` (entry 0 is 0) under the spec's popularity."""
    w = np.zeros(items + 1)
    if spec.distribution == "uniform":
        w[1:] = 1.0
    elif spec.distribution == "zipf":
        exponent = DEFAULT_ZIPF_EXPONENT if spec.exponent is None else spec.exponent
        w[1:] = np.arange(1, items + 1, dtype=np.float64) ** -exponent
    else:
        given = np.asarray(spec.weights[:items], dtype=np.float64)
        w[1:1 + given.size] = given
    return w / w.sum()


def tvd(counts: np.ndarray, pmf: np.ndarray) -> float:
    """Total variation distance between ``counts`` (normalised) and ``pmf`` (same support)."""
    total = counts.sum()
    if total == 0 or pmf.sum() == 0:
        return float("nan")
    return float(0.5 * np.abs(counts / total - pmf / pmf.sum()).sum())


def chi_square(counts: np.ndarray, pmf: np.ndarray) -> tuple[float, int, float]:
    """Chi-square goodness of fit, adjacent bins merged until each expects >= MIN_EXPECTED."""
    import scipy.stats as st

    n = float(counts.sum())
    expected = pmf / pmf.sum() * n
    obs_bins, exp_bins = [], []
    o = e = 0.0
    for c, x in zip(counts, expected):
        o, e = o + c, e + x
        if e >= MIN_EXPECTED:
            obs_bins.append(o)
            exp_bins.append(e)
            o = e = 0.0
    if exp_bins:
        obs_bins[-1] += o
        exp_bins[-1] += e
    if len(exp_bins) < 2:
        return 0.0, 0, 1.0
    stat, p = st.chisquare(np.asarray(obs_bins), np.asarray(exp_bins))
    return float(stat), len(exp_bins) - 1, float(p)


def block_fidelity(offsets: np.ndarray, values: np.ndarray, length: LengthSpec, popularity: PopularitySpec,
                   items: int, planted: set[int]) -> dict[str, Any]:
    """The metrics of one block from its CSR arrays (``offsets`` from 0)."""
    lengths = np.diff(offsets)
    top = max(length_top(length), int(lengths.max(initial=0)))
    pmf = length_pmf(length, top)
    counts = np.bincount(lengths, minlength=top + 1).astype(np.float64)
    stat, dof, p = chi_square(counts[1:], pmf[1:])
    freq = np.bincount(values, minlength=items + 1).astype(np.float64)[: items + 1]
    pop = popularity_pmf(popularity, items)
    free = np.ones(items + 1, dtype=bool)
    free[0] = False
    free[[i for i in planted if i <= items]] = False
    return {
        "length_tvd": tvd(counts, pmf),
        "length_chi2": stat,
        "length_chi2_dof": dof,
        "length_chi2_p": p,
        "mean_length": float(lengths.mean()) if lengths.size else 0.0,
        "intended_mean_length": float(np.dot(np.arange(top + 1), pmf) / pmf.sum()),
        "item_tvd": tvd(freq, pop),
        "item_tvd_unplanted": tvd(freq[free], pop[free]),
        "unplanted_ids": int(free.sum()),
    }


def planted_ids(evaluation: Evaluation, block: str) -> set[int]:
    """Ids of every planted pattern of ``block`` in the ledger."""
    out: set[int] = set()
    for p in evaluation.ledger.for_block(block):
        for key in ("items", "antecedent", "consequent"):
            out.update(getattr(p, key, ()) or ())
    return out


class IntendedFit(Evaluator):
    """Each transaction block against its own spec's length and popularity laws."""

    name = "transaction_intended"

    def applies(self, evaluation: Evaluation) -> bool:
        return bool(evaluation.tables) and any(
            getattr(b, "modality", None) == "transaction" for b in evaluation.spec.blocks.values())

    def evaluate(self, evaluation: Evaluation) -> dict[str, Any]:
        blocks: dict[str, Any] = {}
        for name, block in evaluation.spec.blocks.items():
            table = evaluation.tables.get(name, {}).get("")
            if block.modality != "transaction" or table is None:
                continue
            if block.source is not None:
                blocks[name] = {"skipped": "laws come from the source file (see transaction_fit)"}
                continue
            column = table.column("items").slice(0, MAX_RECORDS).combine_chunks()
            offsets = np.asarray(column.offsets, dtype=np.int64)
            values = np.asarray(column.values, dtype=np.int64)[offsets[0]:offsets[-1]]
            items = DEFAULT_ITEMS if block.items is None else block.items
            metrics = block_fidelity(offsets - offsets[0], values, block.length, block.popularity, items,
                                     planted_ids(evaluation, name))
            if table.num_rows > MAX_RECORDS:
                metrics["sampled_records"] = MAX_RECORDS
            blocks[name] = metrics
        out: dict[str, Any] = {"blocks": blocks}
        scored = [b for b in blocks.values() if "length_tvd" in b]
        if scored:
            out["length_tvd"] = max(b["length_tvd"] for b in scored)
            out["item_tvd_unplanted"] = max(b["item_tvd_unplanted"] for b in scored)
        return out
