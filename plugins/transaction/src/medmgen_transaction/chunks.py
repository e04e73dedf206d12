"""The recipe of a block: everything needed to regenerate any chunk, identically, on demand.

Generation never holds the whole block: the generator scans the chunks once to count
the ledger and keeps the first ones, up to ``CACHE_BYTES``, for the data object, which
regenerates the rest when it writes the files. A chunk depends only on its index (its
seeds) and the recipe, so every scan yields the same bytes, whatever the number of
workers or of chunks in flight or kept.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import attrs
import numpy as np
from attrs import frozen

from medmgen import seeds
from medmgen_transaction import _kernels as K
from medmgen_transaction.background import Background
from medmgen_transaction.planting import Units

T = TypeVar("T")

# Chunks the counting sweep hands to the writer instead of regenerating them: at most this
# many bytes of arrays per block (so small and medium blocks are generated once).
CACHE_BYTES = 64 << 20

# Sub-streams of the DATA stage: (DATA, kind, index).
BACKGROUND, SPLIT, PLACE, TIME, QUANTITY = 0, 1, 2, 3, 4


@frozen(kw_only=True)
class Chunk:
    """One chunk as CSR (``offsets`` from 0, ``items`` sorted per row), with its optional columns."""

    offsets: np.ndarray = attrs.field(eq=False)
    items: np.ndarray = attrs.field(eq=False)
    timestamps: np.ndarray | None = attrs.field(default=None, eq=False)
    quantities: np.ndarray | None = attrs.field(default=None, eq=False)

    @property
    def rows(self) -> int:
        return self.offsets.size - 1

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.offsets, self.items, self.timestamps, self.quantities) if a is not None)


@frozen(kw_only=True)
class Times:
    """Poisson arrivals: ``start + floor(T)``; ``clocks[c]`` is the arrival time before chunk ``c``."""

    start: int
    mean_gap: float
    clocks: np.ndarray = attrs.field(eq=False)


@frozen(kw_only=True)
class Quantities:
    """Per-occurrence quantities uniform in ``low..high``, boosted inside high-utility sets."""

    low: int
    high: int
    seeds: np.ndarray = attrs.field(eq=False)  # uint64 per chunk
    set_offsets: np.ndarray = attrs.field(eq=False)
    set_items: np.ndarray = attrs.field(eq=False)
    set_quantity: np.ndarray = attrs.field(eq=False)
    profits: np.ndarray = attrs.field(eq=False)  # index = id


@frozen(kw_only=True)
class Recipe:
    """Background, planting units split over chunks (``full``/``total``: chunks x units), chunk seeds."""

    root_seed: int
    block: str
    background: Background = attrs.field(eq=False)
    units: Units = attrs.field(eq=False)
    sizes: np.ndarray = attrs.field(eq=False)
    full: np.ndarray = attrs.field(eq=False)
    total: np.ndarray = attrs.field(eq=False)
    place: np.ndarray = attrs.field(eq=False)  # uint64 per chunk
    fill: np.ndarray = attrs.field(eq=False)  # uint64 per chunk
    times: Times | None = None
    quantities: Quantities | None = None
    workers: int = 1

    @property
    def records(self) -> int:
        return int(self.sizes.sum())

    @property
    def chunks(self) -> int:
        return int(self.sizes.size)

    def chunk(self, c: int) -> Chunk:
        """Chunk ``c``: plant, fill, then timestamps and quantities from its own streams."""
        bg, units, rows = self.background, self.units, int(self.sizes[c])
        p_off, p_items = K.plant_chunk(rows, units.offsets, units.items, units.head_len, self.full[c], self.total[c],
                                       self.place[c])
        offsets, items = K.fill_chunk(rows, self.fill[c], bg.len_prob, bg.len_alias, bg.len_values, bg.pop_prob,
                                      bg.pop_alias, bg.positive, p_off, p_items)
        stamps = None
        if self.times is not None:
            stamps = self.times.start + np.floor(self._arrivals(c)).astype(np.int64)
        quantities = None
        if self.quantities is not None:
            q = self.quantities
            quantities = K.quantities_chunk(offsets, items, q.seeds[c], q.low, q.high, bg.items, q.set_offsets,
                                            q.set_items, q.set_quantity)
        return Chunk(offsets=offsets, items=items, timestamps=stamps, quantities=quantities)

    def _arrivals(self, c: int) -> np.ndarray:
        assert self.times is not None
        gaps = seeds.rng(self.root_seed, self.block, seeds.DATA, TIME, c).exponential(self.times.mean_gap,
                                                                                     int(self.sizes[c]))
        return self.times.clocks[c] + np.cumsum(gaps)

    def scan(self, fn: Callable[[Chunk], T], kept: Sequence[Chunk] = ()) -> Iterator[T]:
        """``fn(chunk)`` of every chunk, in order; at most ``2 * workers`` chunks in flight.

        ``kept`` are the first chunks, already made (by an earlier scan of this recipe).
        """
        return ordered_map(lambda c: fn(kept[c] if c < len(kept) else self.chunk(c)), self.chunks, self.workers)


def ordered_map(fn: Callable[[int], T], n: int, workers: int) -> Iterator[T]:
    """``fn(0), ..., fn(n - 1)`` on a thread pool, yielded in order, with a bounded window."""
    if workers <= 1:
        yield from map(fn, range(n))
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        window: deque[Future[T]] = deque()
        for c in range(n):
            window.append(pool.submit(fn, c))
            if len(window) >= 2 * workers:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()


def chunk_sizes(records: int, chunk: int) -> np.ndarray:
    sizes = np.full((records + chunk - 1) // chunk, chunk, dtype=np.int64)
    sizes[-1] = records - chunk * (sizes.size - 1)
    return sizes


def arrival_clocks(root_seed: int, block: str, sizes: np.ndarray, mean_gap: float) -> np.ndarray:
    """The Poisson clock at the start of every chunk (one sequential sweep, a chunk at a time)."""
    clocks = np.zeros(sizes.size, dtype=np.float64)
    clock = 0.0
    for c, rows in enumerate(sizes.tolist()):
        clocks[c] = clock
        gaps = seeds.rng(root_seed, block, seeds.DATA, TIME, c).exponential(mean_gap, rows)
        clock = float((clock + np.cumsum(gaps))[-1])
    return clocks
