"""Exact support counting and the accidental-pattern miner, over the final data."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numba
import numpy as np

from medmgen_sequence import _kernels as k
from medmgen_sequence.io import SequenceData
from medmgen_sequence.kinds import SequentialPattern

TILE_CELLS = 1 << 22  # pair counters per miner pass and lane (int32, 16 MiB, and a 16-bit tile of 8 MiB)


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


def _count_args(data: SequenceData, patterns: Sequence[SequentialPattern],
                bins: Sequence[tuple[int, int]] | None) -> tuple[np.ndarray, ...]:
    """Pattern arrays and record bins as the counting kernels take them."""
    bins = bins or [(data.records, data.records)] * len(patterns)
    return (*pattern_arrays(patterns), np.array([a for a, _ in bins], np.int64),
            np.array([b for _, b in bins], np.int64))


def supports(data: SequenceData, patterns: Sequence[SequentialPattern], n_items: int,
             bins: Sequence[tuple[int, int]] | None = None) -> np.ndarray:
    """Sequences supporting each pattern (gaps and windows honoured), shape (patterns, 3):
    records before ``bins[j][0]``, before ``bins[j][1]``, and the rest."""
    if not patterns:
        return np.zeros((0, 3), np.int64)
    return k.count_support(data.seq_off, data.set_off, data.items, data.times, n_items,
                           *_count_args(data, patterns, bins), numba.get_num_threads())


def implied_pairs(patterns: Sequence[SequentialPattern]) -> set[tuple[int, int]]:
    """Every ``<{a}, {b}>`` that is a sub-pattern of a planted pattern."""
    out = set()
    for p in patterns:
        for i, first in enumerate(p.sequence):
            for later in p.sequence[i + 1:]:
                out.update((a, b) for a in first for b in later)
    return out


def accidental(data: SequenceData, planted: Sequence[SequentialPattern], n_items: int,
               block: str, tile_cells: int = TILE_CELLS) -> tuple[list[SequentialPattern], int]:
    """Unplanted 2-sequences ``<{a}, {b}>`` at or above the smallest planted target support.

    Covers every pair of single items in consecutive order (min_gap 1, no max_gap) that is
    not a sub-pattern of a planted pattern. Any longer unplanted frequent pattern has all
    its 2-sequences frequent, so it shows up here unless each of them is planted.
    Returns the patterns (most frequent first) and how many items were frequent.
    """
    _, found, n_frequent = ledger(data, planted, n_items, None, block, count=False, tile_cells=tile_cells)
    return found, n_frequent


def ledger(data: SequenceData, plan: Sequence[SequentialPattern], n_items: int,
           bins: Sequence[tuple[int, int]] | None, block: str, *, count: bool = True,
           tile_cells: int = TILE_CELLS) -> tuple[np.ndarray, list[SequentialPattern], int]:
    """:func:`supports` of ``plan`` (when ``count``, else an empty array) and its
    :func:`accidental` patterns, from one pass over the data for both (the pairs of more
    than ``tile_cells`` counters per lane take more passes)."""
    lanes = numba.get_num_threads()
    count_args = _count_args(data, plan, bins) if count and plan else None
    counted = np.zeros((0, 3), np.int64)
    targets = [p.target_support for p in plan if p.target_support is not None]
    need = max(1, math.ceil(min(targets) * data.records - 1e-9)) if targets and data.records else 0
    if not need:
        if count_args is not None:
            counted = k.count_support(data.seq_off, data.set_off, data.items, data.times, n_items, *count_args, lanes)
        return counted, [], 0
    # an item seen fewer than ``need`` times is not frequent, nor is any pair holding it;
    # the pass counts the pairs and supports of the others
    seen = k.item_counts(data.items, n_items, lanes)
    seen[0] = 0
    cand = np.flatnonzero(seen >= need)
    index = np.full(n_items + 1, -1, np.int64)
    index[cand] = np.arange(cand.size)
    implied = implied_pairs(plan)
    found = []
    n_frequent = 0
    rows = max(1, tile_cells // max(1, cand.size))
    # passes over tiles of pair rows; the first also counts the supports (even with no rows)
    for lo in range(0, max(cand.size, 1 if count_args is not None else 0), rows):
        hi = min(cand.size, lo + rows)
        if lo == 0 and count_args is not None:
            counted, pairs, isup = k.ledger_counts(data.seq_off, data.set_off, data.items, data.times, n_items,
                                                   *count_args, index, lo, hi, cand.size, lanes)
        else:
            pairs, isup = k.pair_item_supports(data.seq_off, data.set_off, data.items, index, lo, hi, cand.size,
                                               lanes)
        n_frequent = int(np.count_nonzero(isup >= need))
        for r, c in zip(*np.nonzero(pairs >= need)):
            a, b = int(cand[lo + r]), int(cand[c])
            if (a, b) not in implied:
                found.append((-int(pairs[r, c]), a, b))
    found.sort()
    out = [SequentialPattern(id=f"{block}/accidental/{n}", block=block, sequence=[[a], [b]],
                             realized_support=-neg / data.records)
           for n, (neg, a, b) in enumerate(found)]
    return counted, out, n_frequent
