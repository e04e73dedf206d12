"""Exact support counting and the accidental-itemset miner, over a block's chunks.

Both work on a chunk source (``scan(fn)`` yields ``fn(chunk)`` for every chunk, in
order): one sweep per Apriori level, a few chunks in memory at a time. Counts are
integers summed over chunks, so they do not depend on the number of workers.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, TypeVar

import numpy as np
from attrs import frozen

from medmgen_transaction import _kernels as K
from medmgen_transaction.chunks import Chunk

T = TypeVar("T")

# Pair counting uses an f x f matrix per chunk: above this many frequent items, the
# search for accidental itemsets stops and says so (fit.mine, for the real file, too).
MAX_FREQUENT_ITEMS = 4096
# Apriori stops (and says so) when one level has more candidates than this.
MAX_CANDIDATES = 200_000


class Chunks(Protocol):
    """A block's transactions, chunk by chunk."""

    def scan(self, fn: Callable[[Chunk], T]) -> Iterator[T]: ...


def csr(sets: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.fromiter((len(s) for s in sets), dtype=np.int64, count=len(sets))
    offsets = np.zeros(len(sets) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat = np.fromiter((i for s in sets for i in s), dtype=np.int32, count=int(offsets[-1]))
    return offsets, flat


@frozen(kw_only=True)
class SetCounter:
    """Counts transactions containing each set."""

    n_items: int
    offsets: np.ndarray
    items: np.ndarray

    @classmethod
    def of(cls, sets: Sequence[Sequence[int]], n_items: int) -> SetCounter:
        offsets, items = csr(sets)
        return cls(n_items=n_items, offsets=offsets, items=items)

    def count(self, ch: Chunk) -> np.ndarray:
        """Counts in one chunk."""
        return tally(ch, self.n_items, self, None).sets


def count_supports(chunks: Chunks, n_items: int, sets: Sequence[Sequence[int]]) -> np.ndarray:
    """Transactions containing each set (exact): one sweep over the chunks."""
    total = np.zeros(len(sets), dtype=np.int64)
    if not sets:
        return total
    counter = SetCounter.of(sets, n_items)
    for part in chunks.scan(counter.count):
        total += part
    return total


@frozen(kw_only=True)
class PairCounter:
    """Co-occurrence counts among ``ids`` (ascending), chunk by chunk, as upper triangles
    (see :func:`_kernels.tally`)."""

    ids: np.ndarray
    dense: np.ndarray  # index = id: position in ``ids`` or -1

    @classmethod
    def of(cls, ids: np.ndarray, n_items: int) -> PairCounter:
        dense = np.full(n_items + 1, -1, dtype=np.int64)
        dense[ids] = np.arange(ids.size)
        return cls(ids=ids, dense=dense)

    def count(self, ch: Chunk) -> np.ndarray:
        counts = tally(ch, self.dense.size - 1, None, self)
        assert counts.pairs is not None
        return counts.pairs

    def at_least(self, triangle: np.ndarray, min_count: int) -> dict[tuple[int, int], int]:
        """``{(id_a, id_b): count}`` of the pairs in ``triangle`` counted at least ``min_count`` times."""
        f = self.ids.size
        where = np.flatnonzero(triangle >= min_count)
        starts = np.arange(f) * (2 * f - np.arange(f) - 1) // 2  # index of pair (a, a + 1)
        a = np.searchsorted(starts, where, side="right") - 1
        b = where - starts[a] + a + 1
        return {(int(self.ids[x]), int(self.ids[y])): int(c) for x, y, c in zip(a, b, triangle[where], strict=True)}


@frozen(kw_only=True)
class Counts:
    """One chunk's counts: occurrences per id, transactions per set, pairs (a triangle)."""

    items: np.ndarray
    sets: np.ndarray
    pairs: np.ndarray | None


_NO_SETS = (np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32))


def tally(ch: Chunk, n_items: int, sets: SetCounter | None, pairs: PairCounter | None,
          pair_totals: PairTotals | None = None) -> Counts:
    """Item, set and pair counts of one chunk, in one pass (:func:`_kernels.tally`).

    With ``pair_totals`` the pairs are added to the calling thread's triangle there
    (``Counts.pairs`` is None) instead of a new triangle per chunk.
    """
    set_offsets, set_items = _NO_SETS if sets is None else (sets.offsets, sets.items)
    dense = pairs.dense if pairs is not None else np.full(n_items + 1, -1, dtype=np.int64)
    f = 0 if pairs is None else pairs.ids.size
    own = None if pairs is None or pair_totals is not None else np.zeros(f * (f - 1) // 2, dtype=np.int64)
    out = Counts(items=np.zeros(n_items + 1, dtype=np.int64), sets=np.zeros(set_offsets.size - 1, dtype=np.int64),
                 pairs=own)
    if own is not None:
        pair_out = own
    elif pairs is not None and pair_totals is not None:
        pair_out = pair_totals.mine()
    else:
        pair_out = np.zeros(0, dtype=np.int64)
    K.tally(ch.offsets, ch.items, 0, ch.rows, set_offsets, set_items, dense, out.items, out.sets, pair_out)
    return out


class PairTotals:
    """Pair counts summed over chunks into one triangle per thread, allocated once.

    The threads of a scan count different chunks at once, each into its own triangle;
    integer sums do not depend on which thread took which chunk.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._local = threading.local()
        self._lock = threading.Lock()
        self._triangles: list[np.ndarray] = []

    def mine(self) -> np.ndarray:
        """The calling thread's triangle."""
        triangle = getattr(self._local, "triangle", None)
        if triangle is None:
            triangle = self._local.triangle = np.zeros(self._size, dtype=np.int64)
            with self._lock:
                self._triangles.append(triangle)
        return triangle

    def total(self) -> np.ndarray:
        """The sum over threads (call once, when the scan is over: it is added into the first
        thread's triangle, so no fresh array is touched)."""
        if not self._triangles:
            return np.zeros(self._size, dtype=np.int64)
        out = self._triangles[0]
        for triangle in self._triangles[1:]:
            out += triangle
        return out


@frozen(kw_only=True)
class MinedItemsets:
    """Frequent itemsets of size >= 2 that no planted set contains, and how the search went."""

    found: list[tuple[tuple[int, ...], int]]
    min_count: int
    frequent_items: int
    levels: int
    complete: bool
    sweeps: int = 0  # passes over the chunks the search made (pair counts given by the caller are free)
    note: str = ""


def _covered(itemset: tuple[int, ...], planted_by_item: dict[int, list[frozenset[int]]]) -> bool:
    return any(set(itemset) <= p for p in planted_by_item.get(itemset[0], ()))


def mine_unplanted(
    chunks: Chunks, records: int, n_items: int, item_counts: np.ndarray, min_support: float,
    planted: Sequence[frozenset[int]], pairs: tuple[PairCounter, np.ndarray] | None = None,
) -> MinedItemsets:
    """Every itemset of size >= 2 with support >= ``min_support`` not inside a planted set.

    Frequent items, then pair counts over frequent items, then Apriori levels k >= 3
    (join on a common (k-2)-prefix, prune by (k-1)-subsets, count in one pass a chunk).
    ``pairs`` are counts already taken (by the generator's counting sweep) among some
    ids, as a triangle: when they cover every frequent item, the pair level needs no sweep
    of its own.
    """
    min_count = max(1, math.ceil(min_support * records - 1e-9))
    frequent = np.flatnonzero(item_counts >= min_count)
    frequent = frequent[frequent > 0]
    by_item: dict[int, list[frozenset[int]]] = {}
    for p in planted:
        for i in p:
            by_item.setdefault(i, []).append(p)
    if frequent.size > MAX_FREQUENT_ITEMS:
        return MinedItemsets(found=[], min_count=min_count, frequent_items=int(frequent.size), levels=1,
                             complete=False, note=f"more than {MAX_FREQUENT_ITEMS} frequent items")
    f = int(frequent.size)
    sweeps = 0
    if pairs is not None and np.isin(frequent, pairs[0].ids).all():
        # a pair counted min_count times has both ids frequent: the precounted pairs cover it
        level = pairs[0].at_least(pairs[1], min_count)
    elif f < 2:
        level = {}
    else:
        counter = PairCounter.of(frequent, n_items)
        triangle = np.zeros(f * (f - 1) // 2, dtype=np.int64)
        for part in chunks.scan(counter.count):
            triangle += part
        level = counter.at_least(triangle, min_count)
        sweeps += 1
    found = [(s, c) for s, c in level.items() if not _covered(s, by_item)]
    k = 2
    while level:
        candidates = _candidates(sorted(level), k + 1)
        if not candidates:
            break
        if len(candidates) > MAX_CANDIDATES:
            return MinedItemsets(found=sorted(found), min_count=min_count, frequent_items=f, levels=k,
                                 complete=False, sweeps=sweeps,
                                 note=f"more than {MAX_CANDIDATES} candidates of size {k + 1}")
        # Candidates inside a planted set are never reported: keep them as frequent without
        # counting (a superset of the true level, so no unplanted frequent itemset is missed).
        inside = [c for c in candidates if _covered(c, by_item)]
        outside = [c for c in candidates if not _covered(c, by_item)]
        counts = count_supports(chunks, n_items, outside)  # no sweep when there are none
        sweeps += bool(outside)
        new = [(c, int(m)) for c, m in zip(outside, counts, strict=True) if m >= min_count]
        found += new
        level = dict(new) | {c: -1 for c in inside}
        k += 1
    return MinedItemsets(found=sorted(found), min_count=min_count, frequent_items=f, levels=k, complete=True,
                         sweeps=sweeps)


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
