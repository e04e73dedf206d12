"""Learning a block from a real SPMF sequence file: empirical lengths, itemset sizes, popularity."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from medmgen_sequence.io import read_spmf


def fit_spmf(path: Path) -> dict[str, Any]:
    """``records``, ``items`` and empirical ``itemsets``, ``itemset_size``, ``popularity`` of an SPMF file."""
    data = read_spmf(path)
    items = int(data.items.max())
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
