"""Learning a block from a real SPMF sequence file: empirical lengths, itemset sizes, popularity."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from medmgen.errors import InputError
from medmgen_sequence.io import SequenceData, read_spmf
from medmgen_sequence.spec import MAX_ITEMS


def fit_spmf(path: Path) -> dict[str, Any]:
    """``records``, ``items`` and empirical ``itemsets``, ``itemset_size``, ``popularity`` of an SPMF file
    (ids up to :data:`~.spec.MAX_ITEMS`, see :func:`largest_id`)."""
    data = read_spmf(path)
    items = largest_id(data, path)
    return {
        "records": data.records,
        "items": items,
        "itemsets": _empirical(np.diff(data.seq_off)),
        "itemset_size": _empirical(np.diff(data.set_off)),
        "popularity": {"distribution": "empirical",
                       "weights": [float(x) for x in np.bincount(data.items, minlength=items + 1)[1:]]},
    }


def _empirical(counts: np.ndarray) -> dict[str, Any]:
    """Counts ``1..max`` as an ``empirical`` distribution (weights are the file's frequencies; the
    weights imply the mean and the largest count, so neither is written)."""
    return {"distribution": "empirical", "weights": [float(x) for x in np.bincount(counts)[1:]]}


def largest_id(data: SequenceData, path: Path) -> int:
    """The largest item id of ``data`` read from ``path``; past :data:`~.spec.MAX_ITEMS` (tables
    indexed by id would not fit), an :class:`InputError` naming the first sequence holding one."""
    items = int(data.items.max())
    if items > MAX_ITEMS:
        first = int(np.argmax(data.items > MAX_ITEMS))
        seq = int(np.searchsorted(data.seq_off, np.searchsorted(data.set_off, first, side="right") - 1,
                                  side="right"))
        raise InputError.one(str(path), f"sequence {seq:,}", "item id too large (tables hold one entry per id)",
                             f"ids up to {MAX_ITEMS:,} (renumber the items)", int(data.items[first]))
    return items
