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
``transaction_fit``). The ``items`` column is read a batch at a time (a chunk of a
generated block, a row group of a package): only two histograms are kept. Above
:data:`MAX_RECORDS` records only the first ones are read (``sampled_records`` says how many).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from medmgen.block_tables import BlockTables
from medmgen.interfaces import Evaluation, Evaluator
from medmgen_transaction import _kernels as K
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


def tvd(counts: np.ndarray, pmf: np.ndarray) -> float | None:
    """Total variation distance between ``counts`` (normalised) and ``pmf`` (same support)."""
    total = counts.sum()
    if total == 0 or pmf.sum() == 0:
        return None  # nothing to compare (e.g. no unplanted id ever drawn)
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


def histograms(tables: BlockTables, items: int, limit: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Transaction-length and id counts of the first ``limit`` records, and how many were read.

    Streams the ``items`` column batch by batch; the Arrow buffers are read in place.
    """
    lengths = np.zeros(1, dtype=np.int64)
    freq = np.zeros(items + 1, dtype=np.int64)
    read = 0
    for batch in tables.batches("", ["items"]):
        column = batch.column(0)
        if read + len(column) > limit:
            column = column.slice(0, limit - read)
        offsets = np.asarray(column.offsets)
        values = np.asarray(column.values)
        longest = int(np.diff(offsets).max(initial=0))
        largest = int(values[offsets[0]:offsets[-1]].max(initial=0))
        if longest >= lengths.size:
            lengths = np.concatenate([lengths, np.zeros(longest + 1 - lengths.size, dtype=np.int64)])
        if largest >= freq.size:
            freq = np.concatenate([freq, np.zeros(largest + 1 - freq.size, dtype=np.int64)])
        K.add_histograms(offsets, values, lengths, freq)
        read += len(column)
        if read >= limit:
            break
    return lengths, freq, read


def block_fidelity(lengths: np.ndarray, freq: np.ndarray, length: LengthSpec, popularity: PopularitySpec,
                   items: int, planted: set[int]) -> dict[str, Any]:
    """The metrics of one block from its histograms: ``lengths[k]`` records of length ``k``,
    ``freq[i]`` occurrences of id ``i``."""
    top = max(length_top(length), lengths.size - 1)
    pmf = length_pmf(length, top)
    counts = np.zeros(top + 1)
    counts[:lengths.size] = lengths
    stat, dof, p = chi_square(counts[1:], pmf[1:])
    freq = freq.astype(np.float64)[: items + 1]
    pop = popularity_pmf(popularity, items)
    free = np.ones(items + 1, dtype=bool)
    free[0] = False
    free[[i for i in planted if i <= items]] = False
    records = counts.sum()
    k = np.arange(top + 1)
    return {
        "length_tvd": tvd(counts, pmf),
        "length_chi2": stat,
        "length_chi2_dof": dof,
        "length_chi2_p": p,
        "mean_length": float(np.dot(k, counts) / records) if records else 0.0,
        "intended_mean_length": float(np.dot(k, pmf) / pmf.sum()),
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
            tables = evaluation.tables.get(name)
            if block.modality != "transaction" or tables is None or "" not in tables:
                continue
            if block.source is not None:
                blocks[name] = {"skipped": "laws come from the source file (see transaction_fit)"}
                continue
            items = DEFAULT_ITEMS if block.items is None else block.items
            lengths, freq, read = histograms(tables, items, MAX_RECORDS)
            metrics = block_fidelity(lengths, freq, block.length, block.popularity, items,
                                     planted_ids(evaluation, name))
            if tables.rows("") > read:
                metrics["sampled_records"] = read
            blocks[name] = metrics
        out: dict[str, Any] = {"blocks": blocks}
        scored = [b for b in blocks.values() if "length_tvd" in b]
        if scored:
            for key in ("length_tvd", "item_tvd_unplanted"):
                out[key] = max((b[key] for b in scored if b[key] is not None), default=None)
        return out
