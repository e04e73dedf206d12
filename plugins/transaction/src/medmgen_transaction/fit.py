"""Fit a transaction block to a real FIMI/SPMF database and compare real with synthetic.

- :func:`background_from_file`: records, items, empirical length and item popularity
  (the ``source = ...`` key of a block).
- :func:`fit_block`: that background plus the database's strongest co-occurrences
  (maximal frequent itemsets) as planted itemsets (``medmgen fit transaction FILE``).
- :func:`compare`: item-frequency and length total variation distance, and the number
  of frequent itemsets per support level, real against synthetic; the evaluator
  ``transaction_fit`` (:class:`RealFit`) runs it for every block with a ``source`` or an
  ``--against`` file.

Databases that number items from 0 (FIMI's ``retail.dat``, ``T10I4D100K.dat``) are
shifted to ids 1..items, everywhere in this module, so fitted specs use valid ids.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pyarrow as pa
from attrs import frozen

from medmgen.errors import InputError
from medmgen.interfaces import Evaluation, Evaluator
from medmgen.sniff import sequence_text
from medmgen_transaction import _fit_kernels as K
from medmgen_transaction.counting import MAX_FREQUENT_ITEMS
from medmgen_transaction.fimi import positive_ids, read_transactions
from medmgen_transaction.spec import MAX_ITEMS

DEFAULT_SUPPORTS = (0.05, 0.02, 0.01, 0.005)
FIT_MIN_SUPPORT = 0.0025
FIT_MIN_LIFT = 4.0
MAX_ITEMSETS = 500_000
_TABLE_SUFFIXES = {".csv", ".tsv", ".parquet", ".json"}


@frozen(kw_only=True)
class Transactions:
    """A database as CSR arrays: ``offsets`` int64[n + 1], ``items`` int32 ids >= 1, sorted per row."""

    offsets: np.ndarray
    items: np.ndarray

    @property
    def records(self) -> int:
        return int(self.offsets.shape[0] - 1)

    @property
    def max_id(self) -> int:
        return int(self.items.max()) if self.items.size else 0

    @classmethod
    def read(cls, path: str | Path) -> Transactions:
        """Read a FIMI/SPMF file, shifting 0-based ids to 1-based (see :func:`positive_ids`)."""
        offsets, items = read_transactions(path, allow_zero=True)
        return cls(offsets=offsets, items=positive_ids(items)[0])

    @classmethod
    def from_arrow(cls, columns: pa.Array | pa.ChunkedArray | Iterable[pa.Array]) -> Transactions:
        """From a ``list<int32>`` column, or its pieces in order (a generated block's ``items`` batches)."""
        if isinstance(columns, pa.ChunkedArray):
            columns = columns.chunks
        elif isinstance(columns, pa.Array):
            columns = [columns]
        lengths, values = [], []
        for column in columns:
            offsets = np.asarray(column.offsets)
            lengths.append(np.diff(offsets))
            values.append(np.asarray(column.values)[offsets[0]:offsets[-1]])
        offsets = np.zeros(sum(v.size for v in lengths) + 1, dtype=np.int64)
        if lengths:
            np.cumsum(np.concatenate(lengths), out=offsets[1:])
        items = np.concatenate(values).astype(np.int32, copy=False) if values else np.zeros(0, dtype=np.int32)
        return cls(offsets=offsets, items=items)


@frozen(kw_only=True)
class Level:
    """Frequent itemsets of one size: ``rows`` of sorted ids, support ``counts``, and flags.

    ``closed``: no one-item-larger superset has the same count; ``maximal``: no
    one-item-larger superset is frequent (both judged at the miner's threshold).
    """

    rows: np.ndarray
    counts: np.ndarray
    closed: np.ndarray
    maximal: np.ndarray


@frozen(kw_only=True)
class FrequentItemsets:
    """Frequent itemsets by size (``levels[m - 1]`` holds size m).

    ``complete`` is False when mining stopped at :data:`MAX_ITEMSETS` itemsets or
    :data:`MAX_FREQUENT_ITEMS` frequent items; the levels then hold only what was found.
    """

    min_count: int
    levels: list[Level]
    complete: bool

    def count_at(self, min_count: int) -> int:
        """Number of itemsets (every size) with support count >= ``min_count`` (>= this miner's)."""
        return int(sum(int((level.counts >= min_count).sum()) for level in self.levels))

    def itemsets(self, flag: str, min_size: int = 2) -> list[tuple[list[int], int]]:
        """``(items, count)`` of every ``"closed"`` or ``"maximal"`` itemset of at least ``min_size`` items."""
        return [(row.tolist(), int(c)) for level in self.levels[min_size - 1:]
                for row, c, keep in zip(level.rows, level.counts, getattr(level, flag)) if keep]


# ----------------------------------------------------------------------- mining
def mine(db: Transactions, min_count: int, *, limit: int = MAX_ITEMSETS) -> FrequentItemsets:
    """Every itemset held by at least ``min_count`` transactions (Apriori over item bitsets).

    Pairs are counted directly over the transactions; larger sizes are candidate-
    generated from the previous level and counted by AND-ing per-item bitsets.
    """
    min_count = max(1, int(min_count))
    counts = np.bincount(db.items, minlength=db.max_id + 1)
    ids = np.flatnonzero(counts >= min_count).astype(np.int32)
    ids = ids[ids > 0]
    if ids.size > MAX_FREQUENT_ITEMS:
        return FrequentItemsets(min_count=min_count, levels=[], complete=False)
    local = np.full(db.max_id + 1, -1, dtype=np.int64)
    local[ids] = np.arange(ids.size)
    rows = np.arange(ids.size, dtype=np.int32).reshape(-1, 1)
    level_counts = counts[ids].astype(np.int64)
    found: list[Level] = []
    total = rows.shape[0]
    bits = None
    complete = True
    while rows.shape[0] > 0:
        level = Level(rows=rows, counts=level_counts, closed=np.ones(rows.shape[0], dtype=np.bool_),
                      maximal=np.ones(rows.shape[0], dtype=np.bool_))
        found.append(level)
        if rows.shape[0] < 2:
            break
        if rows.shape[1] == 1:
            pairs = K.pair_counts(db.offsets, db.items, local, ids.size)
            a, b = np.nonzero(np.triu(pairs >= min_count, 1))
            nxt = np.stack([a, b], axis=1).astype(np.int32)
            nxt_counts = pairs[a, b]
        else:
            if bits is None:
                bits = K.item_bitsets(db.offsets, db.items, local, ids.size)
            cand = K.apriori_candidates(rows)
            cand_counts = K.itemset_counts(bits, cand)
            keep = cand_counts >= min_count
            nxt, nxt_counts = cand[keep], cand_counts[keep]
        if total + nxt.shape[0] > limit:
            complete = False
            break
        K.mark_subsets(rows, level_counts, nxt, nxt_counts, level.closed, level.maximal)
        total += nxt.shape[0]
        rows, level_counts = nxt, nxt_counts
    levels = [attrs.evolve(level, rows=ids[level.rows]) for level in found]
    return FrequentItemsets(min_count=min_count, levels=levels, complete=complete)


def support_count(db: Transactions, itemsets: Sequence[Sequence[int]]) -> np.ndarray:
    """Exact number of transactions containing each (non-empty) itemset."""
    sets = [sorted(set(s)) for s in itemsets]
    set_offsets = np.zeros(len(sets) + 1, dtype=np.int64)
    set_offsets[1:] = np.cumsum([len(s) for s in sets])
    set_items = np.fromiter((i for s in sets for i in s), dtype=np.int32, count=int(set_offsets[-1]))
    top = max(db.max_id, int(set_items.max()) if set_items.size else 0)
    return K.count_itemsets_csr(db.offsets, db.items, set_offsets, set_items, top)


# ------------------------------------------------------------------- fitting
def _empirical_lengths(db: Transactions) -> dict[str, Any]:
    """Length histogram; empty transactions are left out (the generator draws lengths >= 1)."""
    hist = np.bincount(np.diff(db.offsets), minlength=2)
    hist[0] = 0
    values = np.flatnonzero(hist)
    if values.size == 0:
        return {"distribution": "empirical", "values": [1], "weights": [1]}
    return {"distribution": "empirical", "values": values.tolist(), "weights": hist[values].tolist()}


def inclusion_weights(counts: np.ndarray, records: int) -> np.ndarray:
    """Popularity weights that make each item appear in ``counts / records`` of the baskets.

    The generator fills a basket by drawing distinct items with probability
    proportional to weight, so a popular item's inclusion saturates below its share.
    Under the usual approximation for such draws (inclusion ``1 - exp(-c * weight)``),
    weight ``-records * log(1 - count / records)`` restores it; for rare items this is
    the count itself. Rounded to integers so a fitted spec stays readable.
    """
    share = np.minimum(np.asarray(counts, dtype=np.float64) / max(records, 1), 0.999)
    return np.rint(-records * np.log1p(-share)).astype(np.int64)


def background(db: Transactions) -> dict[str, Any]:
    """``records``, ``items`` (largest id), empirical ``length`` and ``popularity`` (:func:`inclusion_weights`)."""
    counts = np.bincount(db.items, minlength=db.max_id + 1)[1:]
    return {
        "records": db.records,
        "items": max(1, db.max_id),
        "length": _empirical_lengths(db),
        "popularity": {"distribution": "empirical", "weights": inclusion_weights(counts, db.records).tolist()},
    }


def read_real(path: str | Path) -> Transactions:
    """A real FIMI/SPMF file to fit or compare with: not empty, ids up to :data:`MAX_ITEMS`
    (tables indexed by id), else an :class:`InputError` naming it."""
    db = Transactions.read(path)
    if not db.items.size:
        raise InputError.one(str(path), "", "no item ids: nothing to learn from or compare with",
                             expected="FIMI/SPMF transactions, one line each (e.g. '3 17 42')",
                             got=f"{db.records} empty transaction(s)" if db.records else "an empty file")
    if db.max_id > MAX_ITEMS:
        raise InputError.one(str(path), "", "item ids too large (tables hold one entry per id)",
                             expected=f"ids up to {MAX_ITEMS:,} (renumber the items)", got=db.max_id)
    return db


def background_from_file(path: str | Path) -> dict[str, Any]:
    """The background keys of a block learned from a FIMI/SPMF file."""
    return background(read_real(path))


def strongest_itemsets(db: Transactions, patterns: int, *, min_support: float = FIT_MIN_SUPPORT,
                       min_lift: float = FIT_MIN_LIFT) -> list[tuple[list[int], int]]:
    """Up to ``patterns`` maximal frequent itemsets (size >= 2) that explain the most frequent itemsets.

    Mines at ``min_support`` (doubled until the miner's limits hold), keeps the maximal
    itemsets of size >= 2 whose support is at least ``min_lift`` times what independent
    items would give (weaker ones are mostly chance, and the background already makes
    them), then picks greedily the one whose subsets cover the most frequent itemsets
    of size >= 2 not yet covered (ties: higher support). Maximal itemsets are never
    nested, so each can be planted at its real support; returns ``(items, count)``
    sorted by count, highest first.
    """
    if patterns <= 0 or db.records == 0:
        return []
    min_count = max(1, math.ceil(min_support * db.records - 1e-9))
    found = mine(db, min_count)
    while not found.complete and min_count < db.records:
        min_count = min(db.records, 2 * min_count)
        found = mine(db, min_count)
    share = np.bincount(db.items, minlength=db.max_id + 1) / db.records
    candidates = [(items, count) for items, count in found.itemsets("maximal")
                  if count / db.records >= min_lift * float(np.prod(share[items]))]
    # Lazy greedy: a candidate's gain only shrinks as others are chosen.
    heap = [(-(2 ** len(items) - len(items) - 1), -count, items) for items, count in candidates]
    heapq.heapify(heap)
    counts = {tuple(items): count for items, count in candidates}
    covered: set[tuple[int, ...]] = set()
    chosen: list[tuple[list[int], int]] = []
    while heap and len(chosen) < patterns:
        _, neg_count, items = heapq.heappop(heap)
        subsets = [s for k in range(2, len(items) + 1) for s in itertools.combinations(items, k)]
        gain = sum(s not in covered for s in subsets)
        if heap and (-gain, neg_count, items) > heap[0]:
            heapq.heappush(heap, (-gain, neg_count, items))
            continue
        chosen.append((items, counts[tuple(items)]))
        covered.update(subsets)
    chosen.sort(key=lambda rc: (-rc[1], -len(rc[0]), rc[0]))
    return chosen


def fit_block(path: str | Path, *, patterns: int = 20, min_support: float = FIT_MIN_SUPPORT) -> dict[str, Any]:
    """A complete ``[blocks.NAME]`` table for generator ``planted`` learned from a real database.

    Background (length, popularity) as in :func:`background`, plus up to ``patterns``
    maximal itemsets (:func:`strongest_itemsets`) at their real supports, no random
    itemsets. A planted item's itemsets carry it into ``1 - prod(1 - support)``
    of the baskets; its popularity is set so the other baskets supply the rest of its
    real count, keeping item frequencies those of the real database.
    """
    db = read_real(path)
    block: dict[str, Any] = {"modality": "transaction", "generator": "planted", **background(db)}
    chosen = strongest_itemsets(db, patterns, min_support=min_support)
    counts = np.bincount(db.items, minlength=db.max_id + 1)[1:]
    absent = np.ones(counts.size)
    for items, count in chosen:
        absent[np.asarray(items) - 1] *= 1.0 - count / db.records
    # Baskets that carry no planted itemset with the item must supply the rest of its count.
    rest = np.maximum(counts - db.records * (1.0 - absent), 0.0) / np.maximum(absent, 1e-9)
    block["popularity"]["weights"] = inclusion_weights(rest, db.records).tolist()
    block["itemsets"] = [{"items": items, "support": round(count / db.records, 6)} for items, count in chosen]
    return block


# ----------------------------------------------------------------- comparing
def _tvd(a: np.ndarray, b: np.ndarray) -> float:
    size = max(a.size, b.size)
    p = np.zeros(size)
    q = np.zeros(size)
    p[:a.size] = a
    q[:b.size] = b
    sp, sq = p.sum(), q.sum()
    if sp == 0 or sq == 0:
        return 0.0 if sp == sq else 1.0
    return float(0.5 * np.abs(p / sp - q / sq).sum())


def compare(real: Transactions, synthetic: Transactions,
            supports: Sequence[float] = DEFAULT_SUPPORTS) -> dict[str, Any]:
    """Real against synthetic: sizes, item-frequency and length TVD, frequent itemsets per support.

    ``frequent_itemsets`` lists, per support level (a fraction of each database's own
    records), how many itemsets of every size are frequent in each; ``None`` where the
    miner's limits were reached.
    """
    levels = sorted(set(supports), reverse=True)
    out: dict[str, Any] = {
        "records": {"real": real.records, "synthetic": synthetic.records},
        "mean_length": {"real": float(np.diff(real.offsets).mean()) if real.records else 0.0,
                        "synthetic": float(np.diff(synthetic.offsets).mean()) if synthetic.records else 0.0},
        "item_tvd": _tvd(np.bincount(real.items), np.bincount(synthetic.items)),
        "length_tvd": _tvd(np.bincount(np.diff(real.offsets)), np.bincount(np.diff(synthetic.offsets))),
        "frequent_itemsets": [],
    }
    counted: dict[str, list[int | None]] = {}
    for name, db in (("real", real), ("synthetic", synthetic)):
        thresholds = [max(1, math.ceil(s * db.records - 1e-9)) for s in levels]
        found = mine(db, min(thresholds)) if levels else None
        counted[name] = [found.count_at(t) if found and found.complete else None for t in thresholds]
    for i, s in enumerate(levels):
        out["frequent_itemsets"].append({"support": s, "real": counted["real"][i],
                                         "synthetic": counted["synthetic"][i]})
    return out


def against(evaluation: Evaluation) -> Path | None:
    """The ``--against`` file when it is for transaction blocks: not a table (``.csv``, ``.tsv``,
    ``.parquet``, ``.json``), and not SPMF sequence text when the package also has sequence blocks
    (that file is theirs)."""
    path = evaluation.against
    if path is None or set(Path(path).suffixes) & _TABLE_SUFFIXES:
        return None
    hybrid = any(getattr(b, "modality", None) == "sequence" for b in evaluation.spec.blocks.values())
    return Path(path) if not hybrid or not sequence_text(Path(path)) else None


def _blocks(evaluation: Evaluation) -> Iterator[tuple[str, Path]]:
    """``(block, real file)`` of every transaction block with data and something to compare with."""
    return evaluation.real_files("transaction", against(evaluation))


class RealFit(Evaluator):
    """Each transaction block against its ``source`` file, or every one against ``--against REAL.dat``.

    ``--against`` (see :func:`against`: tables and, beside sequence blocks, SPMF sequence
    files are other modalities' references) stands for every transaction block; otherwise a
    block with a ``source`` is compared with that file (relative to the spec's directory, as
    the generator reads it). Blocks with neither are skipped.
    """

    name = "transaction_fit"
    takes_against = "FIMI/SPMF transaction text for transaction blocks"

    def applies(self, evaluation: Evaluation) -> bool:
        return bool(evaluation.tables) and next(_blocks(evaluation), None) is not None

    def evaluate(self, evaluation: Evaluation) -> dict[str, Any]:
        real: dict[Path, Transactions] = {}
        out: dict[str, Any] = {}
        for name, path in _blocks(evaluation):
            if path not in real:
                real[path] = read_real(path)  # id-indexed histograms: a bounded alphabet
            tables = evaluation.tables[name]
            synthetic = Transactions.from_arrow(b.column(0) for b in tables.batches("", ["items"]))
            result = compare(real[path], synthetic)
            out[f"{name}.item_tvd"] = result["item_tvd"]
            out[f"{name}.length_tvd"] = result["length_tvd"]
            for row in result["frequent_itemsets"]:
                for side in ("real", "synthetic"):
                    out[f"{name}.frequent_itemsets@{row['support']:g}.{side}"] = row[side]
        return out
