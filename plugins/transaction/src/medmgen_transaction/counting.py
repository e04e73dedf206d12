"""Exact support counting and the accidental-itemset miner, over CSR transactions.

Counting splits the transactions into one contiguous range per worker and runs the
ranges on a thread pool (the kernels release the GIL); counts are integers, so the
sums do not depend on the number of workers.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from attrs import frozen

from medmgen_transaction import _kernels as K

# Pair counting uses an f x f matrix per range: above this many frequent items, the
# search for accidental itemsets stops and says so.
MAX_FREQUENT_ITEMS = 4096
# Apriori stops (and says so) when one level has more candidates than this.
MAX_CANDIDATES = 200_000


def map_ranges(fn: Callable[[int, int], Any], n: int, workers: int) -> list[Any]:
    """``fn(start, stop)`` over ``workers`` contiguous ranges covering ``0..n``, in order."""
    cuts = np.linspace(0, n, max(1, min(workers, n)) + 1).astype(np.int64).tolist()
    parts = list(itertools.pairwise(cuts))
    if len(parts) == 1:
        return [fn(*parts[0])]
    with ThreadPoolExecutor(max_workers=len(parts)) as pool:
        return list(pool.map(lambda ab: fn(*ab), parts))


def csr(sets: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.fromiter((len(s) for s in sets), dtype=np.int64, count=len(sets))
    offsets = np.zeros(len(sets) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat = np.fromiter((i for s in sets for i in s), dtype=np.int32, count=int(offsets[-1]))
    return offsets, flat


def count_supports(
    offsets: np.ndarray, items: np.ndarray, n_items: int, item_counts: np.ndarray,
    sets: Sequence[Sequence[int]], workers: int,
) -> np.ndarray:
    """Transactions containing each set (exact); each set is anchored at its rarest item."""
    if not sets:
        return np.zeros(0, dtype=np.int64)
    set_offsets, set_items = csr(sets)
    anchors = np.array([min(s, key=lambda i: (item_counts[i], i)) for s in sets], dtype=np.int64)
    n = offsets.size - 1
    parts = map_ranges(lambda a, b: K.count_sets(offsets, items, a, b, n_items, set_offsets, set_items, anchors),
                       n, workers)
    return np.sum(parts, axis=0)


@frozen(kw_only=True)
class MinedItemsets:
    """Frequent itemsets of size >= 2 that no planted set contains, and how the search went."""

    found: list[tuple[tuple[int, ...], int]]
    min_count: int
    frequent_items: int
    levels: int
    complete: bool
    note: str = ""


def _covered(itemset: tuple[int, ...], planted_by_item: dict[int, list[frozenset[int]]]) -> bool:
    return any(set(itemset) <= p for p in planted_by_item.get(itemset[0], ()))


def mine_unplanted(
    offsets: np.ndarray, items: np.ndarray, n_items: int, item_counts: np.ndarray, min_support: float,
    planted: Sequence[frozenset[int]], workers: int,
) -> MinedItemsets:
    """Every itemset of size >= 2 with support >= ``min_support`` not inside a planted set.

    Frequent items, then pair counts over frequent items, then Apriori levels k >= 3
    (join on a common (k-2)-prefix, prune by (k-1)-subsets, count by anchored scan).
    """
    n = offsets.size - 1
    min_count = max(1, math.ceil(min_support * n - 1e-9))
    frequent = np.flatnonzero(item_counts >= min_count)
    frequent = frequent[frequent > 0]
    by_item: dict[int, list[frozenset[int]]] = {}
    for p in planted:
        for i in p:
            by_item.setdefault(i, []).append(p)
    if frequent.size > MAX_FREQUENT_ITEMS:
        return MinedItemsets(found=[], min_count=min_count, frequent_items=int(frequent.size), levels=1,
                             complete=False, note=f"more than {MAX_FREQUENT_ITEMS} frequent items")
    dense = np.full(n_items + 1, -1, dtype=np.int64)
    dense[frequent] = np.arange(frequent.size)
    f = int(frequent.size)
    dtype = np.int32 if n < 2**31 else np.int64

    def pairs_in(a: int, b: int) -> np.ndarray:
        out = np.zeros((f, f), dtype=dtype)
        K.pair_counts(offsets, items, a, b, dense, out)
        return out

    pairs = np.sum(map_ranges(pairs_in, n, workers), axis=0)
    ia, ib = np.nonzero(pairs >= min_count)
    level = {(int(frequent[a]), int(frequent[b])): int(pairs[a, b]) for a, b in zip(ia, ib, strict=True)}
    found = [(s, c) for s, c in level.items() if not _covered(s, by_item)]
    k = 2
    while level:
        candidates = _candidates(sorted(level), k + 1)
        if not candidates:
            break
        if len(candidates) > MAX_CANDIDATES:
            return MinedItemsets(found=sorted(found), min_count=min_count, frequent_items=f, levels=k,
                                 complete=False, note=f"more than {MAX_CANDIDATES} candidates of size {k + 1}")
        # Candidates inside a planted set are never reported: keep them as frequent without
        # counting (a superset of the true level, so no unplanted frequent itemset is missed).
        inside = [c for c in candidates if _covered(c, by_item)]
        outside = [c for c in candidates if not _covered(c, by_item)]
        counts = count_supports(offsets, items, n_items, item_counts, outside, workers)
        new = [(c, int(m)) for c, m in zip(outside, counts, strict=True) if m >= min_count]
        found += new
        level = dict(new) | {c: -1 for c in inside}
        k += 1
    return MinedItemsets(found=sorted(found), min_count=min_count, frequent_items=f, levels=k, complete=True)


def _candidates(prev: list[tuple[int, ...]], k: int) -> list[tuple[int, ...]]:
    """Apriori join of sorted (k-1)-itemsets sharing a (k-2)-prefix, pruned by subsets."""
    known = set(prev)
    out = []
    start = 0
    while start < len(prev):
        stop = start
        prefix = prev[start][:-1]
        while stop < len(prev) and prev[stop][:-1] == prefix:
            stop += 1
        for a in range(start, stop):
            for b in range(a + 1, stop):
                cand = (*prev[a], prev[b][-1])
                if all(cand[:j] + cand[j + 1:] in known for j in range(k - 2)):
                    out.append(cand)
        start = stop
    return out
