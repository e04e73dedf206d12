"""Exact support counting and the accidental-pattern miner, over the final data."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numba
import numpy as np
from attrs import frozen

from medmgen_sequence import _kernels as k
from medmgen_sequence import _ledger_kernels as lk
from medmgen_sequence.io import SequenceData
from medmgen_sequence.kinds import SequentialPattern

TILE_CELLS = 1 << 22  # pair counters per miner pass and lane (int32, 16 MiB, and a 16-bit tile of 8 MiB)
# Above this many frequent items the pairs are not counted (f * f counters): the search stops and says so.
MAX_FREQUENT_ITEMS = 4096
# At most this many accidental patterns are listed (the most frequent, with exact supports); the rest are counted.
MAX_ACCIDENTAL = 10_000


@frozen(kw_only=True)
class Search:
    """How the accidental search went: items frequent on their own, unplanted frequent
    2-sequences found (all counted, at most :data:`MAX_ACCIDENTAL` listed), whether the list
    holds every one, and why not."""

    frequent_items: int = 0
    found: int = 0
    complete: bool = True
    note: str = ""

    def metrics(self) -> dict[str, Any]:
        """The block metrics: ``miner_frequent_items``, ``accidental_found``,
        ``accidental_search_complete`` and, when incomplete, ``accidental_search_note``."""
        out: dict[str, Any] = {"miner_frequent_items": self.frequent_items, "accidental_found": self.found,
                               "accidental_search_complete": self.complete}
        if self.note:
            out["accidental_search_note"] = self.note
        return out


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
    return lk.count_support(data.seq_off, data.set_off, data.items, data.times, n_items,
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
               block: str, tile_cells: int = TILE_CELLS, max_listed: int = MAX_ACCIDENTAL,
               max_items: int = MAX_FREQUENT_ITEMS) -> tuple[list[SequentialPattern], Search]:
    """Unplanted 2-sequences ``<{a}, {b}>`` at or above the smallest planted target support.

    Covers every pair of single items in consecutive order (min_gap 1, no max_gap) that is
    not a sub-pattern of a planted pattern. Any longer unplanted frequent pattern has all
    its 2-sequences frequent, so it shows up here unless each of them is planted.
    Returns the patterns (most frequent first, at most ``max_listed``) and the :class:`Search`;
    with more than ``max_items`` frequent items no pair is counted (none listed).
    """
    _, found, search = ledger(data, planted, n_items, None, block, count=False, tile_cells=tile_cells,
                              max_listed=max_listed, max_items=max_items)
    return found, search


def ledger(data: SequenceData, plan: Sequence[SequentialPattern], n_items: int,
           bins: Sequence[tuple[int, int]] | None, block: str, *, count: bool = True,
           tile_cells: int = TILE_CELLS, max_listed: int = MAX_ACCIDENTAL,
           max_items: int = MAX_FREQUENT_ITEMS) -> tuple[np.ndarray, list[SequentialPattern], Search]:
    """:func:`supports` of ``plan`` (when ``count``, else an empty array) and its
    :func:`accidental` patterns, from one pass over the data for both (the pairs of more
    than ``tile_cells`` counters per lane take more passes). At most ``max_listed`` patterns
    are listed (the most frequent; all are counted); with more than ``max_items`` frequent
    items no pair is counted."""
    lanes = numba.get_num_threads()
    count_args = _count_args(data, plan, bins) if count and plan else None
    counted = np.zeros((0, 3), np.int64)
    targets = [p.target_support for p in plan if p.target_support is not None]
    need = max(1, math.ceil(min(targets) * data.records - 1e-9)) if targets and data.records else 0
    if not need:
        if count_args is not None:
            counted = lk.count_support(data.seq_off, data.set_off, data.items, data.times, n_items, *count_args, lanes)
        return counted, [], Search()
    # an item seen fewer than ``need`` times is not frequent, nor is any pair holding it;
    # the pass counts the pairs and supports of the others
    seen = lk.item_counts(data.items, n_items, lanes)
    seen[0] = 0
    cand = np.flatnonzero(seen >= need)
    if cand.size > max_items:  # too many candidates: only the items frequent in sequences
        isup = lk.item_supports(data.seq_off, data.set_off, data.items, n_items, lanes)
        isup[0] = 0
        cand = np.flatnonzero(isup >= need)
        if cand.size > max_items:
            if count_args is not None:
                counted = lk.count_support(data.seq_off, data.set_off, data.items, data.times, n_items, *count_args,
                                          lanes)
            return counted, [], Search(frequent_items=int(cand.size), complete=False,
                                       note=f"not searched: {cand.size:,} items are frequent (more than "
                                            f"{max_items:,}); no accidental pattern listed")
    index = np.full(n_items + 1, -1, np.int64)
    index[cand] = np.arange(cand.size)
    implied = np.array(sorted(a * (n_items + 1) + b for a, b in implied_pairs(plan)), np.int64)
    kept = (np.empty(0, np.int64),) * 3  # (-support, a, b) of the most frequent found so far
    n_found = 0
    n_frequent = 0
    rows = max(1, tile_cells // max(1, cand.size))
    # passes over tiles of pair rows; the first also counts the supports (even with no rows)
    for lo in range(0, max(cand.size, 1 if count_args is not None else 0), rows):
        hi = min(cand.size, lo + rows)
        if lo == 0 and count_args is not None:
            counted, pairs, isup = lk.ledger_counts(data.seq_off, data.set_off, data.items, data.times, n_items,
                                                   *count_args, index, lo, hi, cand.size, lanes)
        else:
            pairs, isup = lk.pair_item_supports(data.seq_off, data.set_off, data.items, index, lo, hi, cand.size,
                                               lanes)
        n_frequent = int(np.count_nonzero(isup >= need))
        r, c = np.nonzero(pairs >= need)
        a, b = cand[lo + r], cand[c]
        new = ~np.isin(a * (n_items + 1) + b, implied)
        n_found += int(np.count_nonzero(new))
        found = (-(pairs[r, c][new].astype(np.int64)), a[new], b[new])
        both = [np.concatenate(x) for x in zip(kept, found)]
        order = np.lexsort(both[::-1])[:max_listed]  # by support (descending), then a, then b
        kept = tuple(x[order] for x in both)
    out = [SequentialPattern(id=f"{block}/accidental/{n}", block=block, sequence=[[int(a)], [int(b)]],
                             realized_support=-int(neg) / data.records)
           for n, (neg, a, b) in enumerate(zip(*kept))]
    note = f"{n_found:,} found; only the {max_listed:,} most frequent are listed" if n_found > max_listed else ""
    return counted, out, Search(frequent_items=n_frequent, found=n_found, complete=not note, note=note)
