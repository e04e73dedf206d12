"""Real against synthetic: a sequence block compared with the SPMF file it imitates.

The real file is the block's ``source`` (relative to the spec's directory), or the file of
``medmgen evaluate DIR --against REAL`` (which then stands for every sequence block). Per
block, as total variation distances (TVD) between the two normalised histograms:

- ``itemsets_tvd``: itemsets per sequence; ``itemset_size_tvd``: items per itemset;
  ``item_tvd``: item occurrences by id (the counts a fit learns its popularity from);
- ``frequent_2sequences@<s>.real`` / ``.synthetic``: how many 2-sequences ``<{a}, {b}>``
  (``a`` in an earlier itemset than ``b``; ``a == b`` counts when the item recurs) are
  held by at least a fraction ``s`` of each database's own sequences; ``None`` (not counted)
  at a level where more than :data:`~medmgen_sequence.mining.MAX_FREQUENT_ITEMS` items are
  frequent on their own (the pair counters grow with their square), and then
  ``frequent_2sequences_complete`` is false and ``frequent_2sequences_note`` says where.

Both sides are counted with the plugin's kernels (``item_supports``, ``pair_supports``);
the synthetic block is read a batch at a time, twice (histograms and item supports, then
pair supports, tile by tile when many items are frequent), so memory stays bounded by a
batch and a tile of pair counters. The pairs are counted over the items frequent at the
lowest level counted, so every level counted has the same count as without the bound.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pyarrow as pa
from attrs import frozen

from medmgen.interfaces import Evaluation, Evaluator
from medmgen.sniff import sequence_text
from medmgen_sequence import _kernels as k
from medmgen_sequence import _ledger_kernels as lk
from medmgen_sequence.fit import largest_id
from medmgen_sequence.intended import tvd
from medmgen_sequence.io import read_spmf
from medmgen_sequence.mining import MAX_FREQUENT_ITEMS, TILE_CELLS

DEFAULT_SUPPORTS = (0.05, 0.02, 0.01, 0.005)
_TABLE_SUFFIXES = {".csv", ".tsv", ".parquet", ".json"}

Chunk = tuple[np.ndarray, np.ndarray, np.ndarray]  # seq_off -> set_off -> items, offsets from 0


@frozen(kw_only=True)
class Profile:
    """One database's histograms (index = count or id) and, per support level, the items
    frequent on their own and the frequent 2-sequences (``None``: not counted, too many
    frequent items)."""

    records: int
    itemsets: np.ndarray
    itemset_size: np.ndarray
    items: np.ndarray
    supports: tuple[float, ...]
    frequent_items: tuple[int, ...]
    frequent_pairs: tuple[int | None, ...]
    max_items: int = MAX_FREQUENT_ITEMS


def _grow_add(total: np.ndarray, part: np.ndarray) -> np.ndarray:
    """``total + part`` over the longer of the two lengths."""
    if part.size > total.size:
        total, part = part.copy(), total
    total[: part.size] += part
    return total


def batch_chunk(batch: pa.RecordBatch) -> Chunk:
    """A batch's ``itemsets`` column (``list<list<int32>>``) as CSR arrays rebased to 0."""
    column = batch.column(0)
    seq_off = np.asarray(column.offsets, dtype=np.int64)
    sets = column.values.slice(int(seq_off[0]), int(seq_off[-1] - seq_off[0]))
    set_off = np.asarray(sets.offsets, dtype=np.int64)
    items = np.asarray(sets.values.slice(int(set_off[0]), int(set_off[-1] - set_off[0])))
    return seq_off - seq_off[0], set_off - set_off[0], items


def profile(chunks: Callable[[], Iterable[Chunk]], supports: Sequence[float] = DEFAULT_SUPPORTS,
            max_items: int = MAX_FREQUENT_ITEMS) -> Profile:
    """Histograms and frequent 2-sequence counts of a database given as a re-iterable of chunks.

    Support levels are fractions of this database's sequences: a 2-sequence is frequent
    at ``s`` when at least ``ceil(s * records)`` sequences hold it. A level with more than
    ``max_items`` frequent items is not counted (``None``).
    """
    lanes = numba.get_num_threads()
    records = 0
    seq_hist = np.zeros(1, np.int64)
    set_hist = np.zeros(1, np.int64)
    freq = np.zeros(1, np.int64)
    isup = np.zeros(1, np.int64)
    for seq_off, set_off, items in chunks():
        if seq_off.size < 2:
            continue
        records += seq_off.size - 1
        seq_hist = k.add_lengths(seq_off, seq_hist)
        set_hist = k.add_lengths(set_off, set_hist)
        if items.size:
            freq = _grow_add(freq, np.bincount(items))
            isup = _grow_add(isup, lk.item_supports(seq_off, set_off, items, int(items.max()), lanes))
    levels = tuple(supports)
    needs = [max(1, math.ceil(s * records - 1e-9)) for s in levels]
    isup[0] = 0
    n_frequent = tuple(int(np.count_nonzero(isup >= need)) if records else 0 for need in needs)
    counted: list[int | None] = [0 if f <= max_items else None for f in n_frequent]
    floor = min((need for need, c in zip(needs, counted) if c is not None), default=0)
    frequent = np.flatnonzero(isup >= floor) if floor and records else np.zeros(0, np.int64)
    index = np.full(isup.size, -1, np.int64)
    index[frequent] = np.arange(frequent.size)
    rows = max(1, TILE_CELLS // max(1, frequent.size))
    for lo in range(0, frequent.size, rows):
        hi = min(frequent.size, lo + rows)
        tile = np.zeros((hi - lo, frequent.size), np.int64)
        for seq_off, set_off, items in chunks():
            if seq_off.size >= 2:
                tile += lk.pair_supports(seq_off, set_off, items, index, lo, hi, frequent.size, lanes)
        for j, need in enumerate(needs):
            if counted[j] is not None:
                counted[j] += int(np.count_nonzero(tile >= need))
    return Profile(records=records, itemsets=seq_hist, itemset_size=set_hist, items=freq,
                   supports=levels, frequent_items=n_frequent, frequent_pairs=tuple(counted),
                   max_items=max_items)


def _mean(hist: np.ndarray) -> float | None:
    total = int(hist.sum())
    return float(np.dot(np.arange(hist.size), hist)) / total if total else None


def compare(real: Profile, synthetic: Profile) -> dict[str, Any]:
    """The metrics of one block (flat names, see the module doc) from the two profiles."""
    out: dict[str, Any] = {
        "itemsets_tvd": tvd(synthetic.itemsets.astype(np.float64), real.itemsets.astype(np.float64)),
        "itemset_size_tvd": tvd(synthetic.itemset_size.astype(np.float64), real.itemset_size.astype(np.float64)),
        "item_tvd": tvd(synthetic.items.astype(np.float64), real.items.astype(np.float64)),
    }
    for key, field in (("mean_itemsets", "itemsets"), ("mean_itemset_size", "itemset_size")):
        out[f"{key}.real"] = _mean(getattr(real, field))
        out[f"{key}.synthetic"] = _mean(getattr(synthetic, field))
    skipped = []
    for s, r, y in zip(real.supports, real.frequent_pairs, synthetic.frequent_pairs):
        out[f"frequent_2sequences@{s:g}.real"] = r
        out[f"frequent_2sequences@{s:g}.synthetic"] = y
    for side, p in (("real", real), ("synthetic", synthetic)):
        cut = [(s, f) for s, f, c in zip(p.supports, p.frequent_items, p.frequent_pairs) if c is None]
        if cut:
            skipped.append(f"{side} at {', '.join(f'{s * 100:g}%' for s, _ in cut)} "
                           f"({', '.join(f'{f:,}' for _, f in cut)} frequent items)")
    out["frequent_2sequences_complete"] = not skipped
    if skipped:
        out["frequent_2sequences_note"] = (f"not counted where more than {real.max_items:,} items are "
                                           f"frequent: {'; '.join(skipped)}")
    return out


def against(evaluation: Evaluation) -> Path | None:
    """The ``--against`` file when it is for sequence blocks: not a table (``.csv``, ``.tsv``,
    ``.parquet``, ``.json``), and SPMF sequence text when the package also has transaction blocks
    (a FIMI file is theirs)."""
    path = evaluation.against
    if path is None or set(Path(path).suffixes) & _TABLE_SUFFIXES:
        return None
    hybrid = any(getattr(b, "modality", None) == "transaction" for b in evaluation.spec.blocks.values())
    return Path(path) if not hybrid or sequence_text(Path(path)) else None


def _blocks(evaluation: Evaluation) -> Iterator[tuple[str, Path]]:
    """``(block, real file)`` of every sequence block with data and something to compare with."""
    return evaluation.real_files("sequence", against(evaluation))


class RealFit(Evaluator):
    """Each sequence block against its ``source`` file, or every one against ``--against REAL``."""

    name = "sequence_fit"
    takes_against = "SPMF sequence text (-1/-2 separators) for sequence blocks"

    def applies(self, evaluation: Evaluation) -> bool:
        return bool(evaluation.tables) and next(_blocks(evaluation), None) is not None

    def evaluate(self, evaluation: Evaluation) -> dict[str, Any]:
        real: dict[Path, Profile] = {}
        out: dict[str, Any] = {}
        for name, path in _blocks(evaluation):
            if path not in real:
                data = read_spmf(path)
                largest_id(data, path)  # id-indexed histograms: a bounded alphabet
                real[path] = profile(lambda d=data: [(d.seq_off, d.set_off, d.items)])
            tables = evaluation.tables[name]
            synthetic = profile(lambda t=tables: map(batch_chunk, t.batches("", ["itemsets"])))
            out.update({f"{name}.{key}": value for key, value in compare(real[path], synthetic).items()})
        return out

    def figures(self, evaluation: Evaluation, metrics: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Per compared block: frequent 2-sequences per support level, real beside synthetic (from the metrics)."""
        blocks = sorted({key.split(".", 1)[0] for key in metrics})
        return [(f"{name}: frequent 2-sequences per support level, real vs synthetic",
                 _pair_bars(name, metrics)) for name in blocks]


def _pair_bars(name: str, metrics: Mapping[str, Any]) -> str:
    """The bars (a level not counted is drawn empty and marked "n/c"), and the note when there is one."""
    from medmgen.plots import figure, svg

    levels = [f"{s:g}" for s in DEFAULT_SUPPORTS]
    fig, axes = figure(figsize=(5, 3.2))
    ax = axes[0][0]
    x = np.arange(len(levels))
    for shift, side, color in ((-0.2, "real", "#8c959f"), (0.2, "synthetic", "#1f6feb")):
        values = [metrics.get(f"{name}.frequent_2sequences@{s}.{side}") for s in levels]
        ax.bar(x + shift, [v or 0 for v in values], width=0.4, color=color, label=side)
        for i, v in enumerate(values):
            ax.annotate("n/c" if v is None else str(v), (x[i] + shift, v or 0), ha="center", va="bottom",
                        fontsize=7)
    ax.set_xticks(x, [f"{float(s):.1%}" for s in levels])
    ax.set_xlabel("support (share of each file's sequences)")
    ax.set_ylabel("frequent <{a}, {b}>")
    ax.legend(fontsize=8)
    note = metrics.get(f"{name}.frequent_2sequences_note")
    return svg(fig) + (f"<figcaption>{html.escape(note)}</figcaption>" if note else "")
