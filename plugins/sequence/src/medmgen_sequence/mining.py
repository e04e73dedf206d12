"""Exact support counting and the accidental-pattern miner, over the final data."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numba
import numpy as np

from medmgen_sequence import _kernels as k
from medmgen_sequence.io import SequenceData
from medmgen_sequence.kinds import SequentialPattern

TILE_CELLS = 1 << 22  # pair counters per miner pass and lane (16 MiB)


def pattern_arrays(patterns: Sequence[SequentialPattern]) -> tuple[np.ndarray, ...]:
    """Patterns as CSR: ``pat_off`` -> itemsets, ``pat_set_off`` -> ``pat_items``, and gap arrays."""
    pat_off, pat_set_off, pat_items = [0], [0], []
    for p in patterns:
        for s in p.sequence:
            pat_items.extend(s)
            pat_set_off.append(len(pat_items))
        pat_off.append(len(pat_set_off) - 1)
    min_gap = np.array([p.min_gap for p in patterns], np.int64)
    max_gap = np.array([p.max_gap or k.UNBOUNDED for p in patterns], np.int64)
    window = np.array([-1 if p.max_window is None else p.max_window for p in patterns], np.int64)
    return (np.array(pat_off, np.int64), np.array(pat_set_off, np.int64), np.array(pat_items, np.int32),
            min_gap, max_gap, window)


def supports(data: SequenceData, patterns: Sequence[SequentialPattern], n_items: int,
             bins: Sequence[tuple[int, int]] | None = None) -> np.ndarray:
    """Sequences supporting each pattern (gaps and windows honoured), shape (patterns, 3):
    records before ``bins[j][0]``, before ``bins[j][1]``, and the rest."""
    if not patterns:
        return np.zeros((0, 3), np.int64)
    bins = bins or [(data.records, data.records)] * len(patterns)
    bin_a = np.array([a for a, _ in bins], np.int64)
    bin_b = np.array([b for _, b in bins], np.int64)
    return k.count_support(data.seq_off, data.set_off, data.items, data.times, n_items, *pattern_arrays(patterns),
                           bin_a, bin_b, numba.get_num_threads())


def implied_pairs(patterns: Sequence[SequentialPattern]) -> set[tuple[int, int]]:
    """Every ``<{a}, {b}>`` that is a sub-pattern of a planted pattern."""
    out = set()
    for p in patterns:
        for i, first in enumerate(p.sequence):
            for later in p.sequence[i + 1:]:
                out.update((a, b) for a in first for b in later)
    return out


def accidental(data: SequenceData, planted: Sequence[SequentialPattern], n_items: int,
               block: str) -> tuple[list[SequentialPattern], int]:
    """Unplanted 2-sequences ``<{a}, {b}>`` at or above the smallest planted target support.

    Covers every pair of single items in consecutive order (min_gap 1, no max_gap) that is
    not a sub-pattern of a planted pattern. Any longer unplanted frequent pattern has all
    its 2-sequences frequent, so it shows up here unless each of them is planted.
    Returns the patterns (most frequent first) and how many items were frequent.
    """
    targets = [p.target_support for p in planted if p.target_support is not None]
    if not targets or not data.records:
        return [], 0
    need = max(1, math.ceil(min(targets) * data.records - 1e-9))
    isup = k.item_supports(data.seq_off, data.set_off, data.items, n_items, numba.get_num_threads())
    isup[0] = 0
    freq = np.flatnonzero(isup >= need)
    index = np.full(n_items + 1, -1, np.int64)
    index[freq] = np.arange(freq.size)
    implied = implied_pairs(planted)
    found = []
    rows = max(1, TILE_CELLS // max(1, freq.size))
    for lo in range(0, freq.size, rows):
        hi = min(freq.size, lo + rows)
        counts = k.pair_supports(data.seq_off, data.set_off, data.items, index, lo, hi, freq.size,
                                  numba.get_num_threads())
        for r, c in zip(*np.nonzero(counts >= need)):
            a, b = int(freq[lo + r]), int(freq[c])
            if (a, b) not in implied:
                found.append((-int(counts[r, c]), a, b))
    found.sort()
    out = [SequentialPattern(id=f"{block}/accidental/{n}", block=block, sequence=[[a], [b]],
                             realized_support=-neg / data.records)
           for n, (neg, a, b) in enumerate(found)]
    return out, int(freq.size)
